"""anodiff.loss_surface and anodiff.roughness: a small CNN's loss surface evaluated in PyTorch against anodiff-landscape
on the same TorchScript model, directions and data; resuming from surface.csv; the loss-landscape .h5 files read
back by an independent reader of Li et al.'s layout (h5py: xdirection/ydirection groups with one dataset per
parameter, the weights moved to w + x dx + y dy) reproducing the points."""
import os
import subprocess

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import anodiff
from conftest import program

torch.set_num_threads(1)


class Net(nn.Module):
    """Not a built-in: conv-BN-ReLU, a strided bias-free convolution, global pooling, a linear classifier."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(),
                                      nn.Conv2d(3, 4, 3, stride=2, padding=1, bias=False), nn.Tanh())
        self.head = nn.Linear(4, 5)

    def forward(self, x):
        return self.head(self.features(x).mean(dim=(2, 3)))


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("landscape")
    torch.manual_seed(3)
    model = Net()
    x = torch.randn(48, 2, 8, 8)
    y = torch.randint(0, 5, (48,))
    model.train()
    with torch.no_grad():
        model(x)  # BN running statistics that are not the defaults
    model.eval()
    scripted = torch.jit.script(model)
    torch.jit.save(scripted, str(root / "model.pt"))
    np.save(root / "inputs.npy", x.numpy().astype(np.float32))
    np.save(root / "labels.npy", y.numpy().astype(np.int64))
    return {"root": root, "model": model, "x": x, "y": y}


def test_random_directions_follow_the_rules(setup):
    model = setup["model"]
    d1, d2 = anodiff.random_directions(model, seed=5)
    assert d1.dtype == np.float32 and d1.size == sum(p.numel() for p in model.parameters())
    assert not np.array_equal(d1, d2)
    offset = 0
    for p in model.parameters():
        n = p.numel()
        part = d1[offset:offset + n].reshape(p.shape)
        w = p.detach().numpy()
        if p.dim() <= 1:
            assert np.all(part == 0)  # biases and BN ignored
        else:
            for f in range(p.shape[0]):  # each filter with the norm of the weight's filter
                assert np.linalg.norm(part[f]) == pytest.approx(np.linalg.norm(w[f]), rel=1e-5)
        offset += n
    again, _ = anodiff.random_directions(model, seed=5)
    np.testing.assert_array_equal(d1, again)
    layer, _ = anodiff.random_directions(model, seed=5, norm="layer", ignore=None)
    w0 = next(model.parameters()).detach().numpy()
    assert np.linalg.norm(layer[:w0.size]) == pytest.approx(np.linalg.norm(w0), rel=1e-5)
    bias = list(model.parameters())[1].detach().numpy()
    np.testing.assert_array_equal(layer[w0.size:w0.size + bias.size], bias)  # not ignored: the weight itself


def test_loss_surface_equals_anodiff_landscape_and_its_files(setup, tmp_path):
    exe = program("anodiff-landscape")
    root, model, x, y = setup["root"], setup["model"], setup["x"], setup["y"]
    cli = tmp_path / "cli"
    subprocess.run([exe, "--model", str(root / "model.pt"), "--inputs", str(root / "inputs.npy"), "--labels",
                    str(root / "labels.npy"), "--x", "-1:1:7", "--y", "-0.5:1:5", "--seed", "11", "--batch_size", "20",
                    "--out", str(cli)], check=True, capture_output=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    out = tmp_path / "py"
    batches = [(x[i:i + 20], y[i:i + 20]) for i in range(0, 48, 20)]
    s = anodiff.loss_surface(model, F.cross_entropy, batches, x=(-1, 1, 7), y=(-0.5, 1, 5), seed=11, out=out)
    assert s.loss.shape == (5, 7) and not np.isnan(s.loss).any()
    # The same directions (the same seeded draws and rules) and the same points.
    np.testing.assert_array_equal(np.load(out / "directions.npy"), np.load(cli / "directions.npy"))
    np.testing.assert_allclose(np.load(out / "surface_loss.npy"), np.load(cli / "surface_loss.npy"), rtol=1e-5)
    np.testing.assert_allclose(np.load(out / "surface_accuracy.npy"), np.load(cli / "surface_accuracy.npy"),
                               atol=1e-12)
    np.testing.assert_allclose(s.loss, np.load(cli / "surface_loss.npy"), rtol=1e-5)
    for name in ("grid.csv", "roughness.csv", "structure_function.csv", "surface.csv"):
        assert (out / name).exists(), name
    assert list(model.parameters())[0].requires_grad and not model.training  # weights and mode restored
    r = anodiff.roughness(s)
    assert r.max_lag >= 2 and np.isfinite(r.hurst.hurst)
    assert anodiff.roughness(str(out)).hurst.hurst == pytest.approx(r.hurst.hurst, rel=1e-12)
    cli_r = anodiff.roughness(str(cli))
    assert cli_r.hurst.hurst == pytest.approx(r.hurst.hurst, rel=1e-4)

    if not anodiff.have_hdf5():
        pytest.skip("built without libmatio or HDF5: no .h5 files")
    import h5py

    # An independent reader of Li et al.'s layout: the direction file's groups hold one dataset per parameter in
    # model.parameters() order and shape; the surface file the coordinates and train_loss at (x_i, y_j).
    with h5py.File(out / "directions.h5", "r") as f:
        dx = [torch.from_numpy(f["xdirection"][str(k)][()]) for k in range(len(f["xdirection"]))]
        dy = [torch.from_numpy(f["ydirection"][str(k)][()]) for k in range(len(f["ydirection"]))]
    with h5py.File(out / "surface.h5", "r") as f:
        xs, ys = f["xcoordinates"][()], f["ycoordinates"][()]
        stored = np.asarray(f["train_loss"][()]).reshape(-1)
    assert len(dx) == len(list(model.parameters())) and [d.shape for d in dx] == [p.shape for p in model.parameters()]
    w0 = [p.detach().clone() for p in model.parameters()]
    try:
        for j in (0, 2, 4):
            for i in (0, 3, 6):
                with torch.no_grad():
                    for p, w, a, b in zip(model.parameters(), w0, dx, dy):
                        p.copy_(w + a * float(xs[i]) + b * float(ys[j]))
                    loss = sum(F.cross_entropy(model(bx), by, reduction="sum").item() for bx, by in batches) / 48
                assert stored[j * len(xs) + i] == pytest.approx(loss, rel=1e-5)
                assert s.loss[j, i] == pytest.approx(loss, rel=1e-5)
    finally:
        with torch.no_grad():
            for p, w in zip(model.parameters(), w0):
                p.copy_(w)


def test_loss_surface_resumes_from_its_file(setup, tmp_path):
    model, x, y = setup["model"], setup["x"], setup["y"]
    whole = anodiff.loss_surface(model, F.cross_entropy, (x, y), x=(-1, 1, 5), y=(-1, 1, 4), seed=2)
    assert whole.directory is None and whole.loss.shape == (4, 5)
    out = tmp_path / "resume"
    calls = [0]

    def counting(outputs, targets):
        calls[0] += 1
        if calls[0] == 8:
            raise KeyboardInterrupt  # killed after 7 points
        return F.cross_entropy(outputs, targets)

    with pytest.raises(KeyboardInterrupt):
        anodiff.loss_surface(model, counting, (x, y), x=(-1, 1, 5), y=(-1, 1, 4), seed=2, out=out)
    with open(out / "surface.csv") as f:
        assert len(f.read().splitlines()) == 1 + 7
    with open(out / "surface.csv", "a") as f:
        f.write("7,1,0.5,-0.33")  # a line torn by the kill
    calls[0] = -100
    resumed = anodiff.loss_surface(model, counting, (x, y), x=(-1, 1, 5), y=(-1, 1, 4), seed=2, out=out)
    assert calls[0] == -100 + 20 - 7  # only the 13 missing points
    np.testing.assert_allclose(resumed.loss, whole.loss, rtol=1e-9)  # the file keeps 10 significant digits
    with pytest.raises(ValueError, match="other directions"):
        anodiff.loss_surface(model, F.cross_entropy, (x, y), x=(-1, 1, 5), y=(-1, 1, 4), seed=3, out=out)
    # Own directions, a 1-D line, a path of weights projected on the plane.
    d1, d2 = anodiff.random_directions(model, seed=2)
    own = anodiff.loss_surface(model, F.cross_entropy, (x, y), x=(-1, 1, 5), y=(-1, 1, 4), directions=(d1, d2))
    np.testing.assert_allclose(own.loss, whole.loss, rtol=1e-12)
    line = anodiff.loss_surface(model, F.cross_entropy, (x, y), x=(-1, 1, 5), y=None, directions=(d1,))
    three = anodiff.loss_surface(model, F.cross_entropy, (x, y), x=(-1, 1, 5), y=(-1, 1, 3), directions=(d1, d2))
    assert line.loss.shape == (1, 5) and three.y[1] == 0
    np.testing.assert_allclose(line.loss[0], three.loss[1], rtol=1e-12)
    centre = anodiff.flat_parameters(model)
    path = np.stack([centre + a * d1 + b * d2 for a, b in ((0.5, 0.25), (-0.2, 0.1))])
    p = anodiff.loss_surface(model, F.cross_entropy, (x, y), x=(-1, 1, 3), y=(-1, 1, 3), seed=2, path=path,
                             out=tmp_path / "path")
    np.testing.assert_allclose(p.path, [[0.5, 0.25], [-0.2, 0.1]], atol=1e-5)
    assert (tmp_path / "path" / "trajectory_projection.csv").exists()
    with pytest.raises(ValueError, match="a 2-D grid is needed, got 5 x 1 points"):
        anodiff.roughness(line)
