"""anodiff.loss_surface's loss-landscape .h5 files read by loss-landscape's own code (issue 25): the direction file
through its load_directions, the weights moved by its set_weights (verbatim copies in loss_landscape_net_plotter.py),
the points enumerated as its scheduler does (np.meshgrid(x, y).ravel()) and the loss evaluated as its
evaluation.eval_loss does (eval mode, the batch means weighted by size), reproducing the surface file's train_loss
at every grid point to 1e-5 relative."""
import copy
import os

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import anodiff

torch.set_num_threads(1)


class TinyNet(nn.Module):
    """37 parameters: conv-BN-ReLU, a bias-free 1x1 convolution, tanh, global pooling, a linear classifier."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3, padding=1)
        self.bn = nn.BatchNorm2d(2)
        self.mix = nn.Conv2d(2, 2, 1, bias=False)
        self.fc = nn.Linear(2, 3)

    def forward(self, x):
        h = torch.tanh(self.mix(F.relu(self.bn(self.conv(x)))))
        return self.fc(h.mean(dim=(2, 3)))


def eval_loss(net, batches):
    """The mean cross-entropy over the batches' samples, as loss-landscape's evaluation.eval_loss computes it."""
    net.eval()
    total, loss_sum = 0, 0.0
    with torch.no_grad():
        for x, y in batches:
            loss_sum += F.cross_entropy(net(x), y).item() * len(y)
            total += len(y)
    return loss_sum / total


@pytest.mark.parametrize("norm, ignore", [("filter", "biasbn"), ("layer", None)])
def test_loss_landscape_reproduces_the_surface_file(tmp_path, norm, ignore):
    if not anodiff.have_hdf5():
        pytest.skip("built without libmatio or HDF5: no .h5 files")
    import h5py
    from loss_landscape_net_plotter import load_directions, set_weights

    torch.manual_seed(7)
    model = TinyNet().double()
    assert sum(p.numel() for p in model.parameters()) == 37
    gen = torch.Generator().manual_seed(8)
    batches = [(torch.randn(n, 1, 6, 6, generator=gen, dtype=torch.float64), torch.randint(0, 3, (n,), generator=gen))
               for n in (16, 16, 8)]  # unequal sizes: the mean is weighted by size
    model.train()
    with torch.no_grad():
        model(batches[0][0])  # BN running statistics that are not the defaults
    model.eval()

    out = tmp_path / "surface"
    s = anodiff.loss_surface(model, F.cross_entropy, batches, x=(-1, 1, 5), y=(-0.5, 1, 4), directions=norm,
                             ignore=ignore, seed=4, out=out)
    assert s.loss.shape == (4, 5) and not np.isnan(s.loss).any()
    assert np.ptp(s.loss) > 1e-3 * np.abs(s.loss).max()  # a surface that is not flat: the directions matter

    # As loss-landscape's plot_surface.py: the surface file names its direction file; the points are the flat
    # indices of the loss array in np.meshgrid(xcoordinates, ycoordinates) order (scheduler.get_unplotted_indices).
    with h5py.File(out / "surface.h5", "r") as f:
        dir_file = f["dir_file"][()]
        dir_file = dir_file.decode() if isinstance(dir_file, bytes) else str(dir_file)
        xcoordinates, ycoordinates = f["xcoordinates"][:], f["ycoordinates"][:]
        losses = f["train_loss"][:]
    assert os.path.samefile(dir_file, out / "directions.h5")
    np.testing.assert_allclose(xcoordinates, np.linspace(-1, 1, 5), rtol=0, atol=1e-15)
    np.testing.assert_allclose(ycoordinates, np.linspace(-0.5, 1, 4), rtol=0, atol=1e-15)
    assert losses.size == 20 and (losses > 0).all()
    xcoord_mesh, ycoord_mesh = np.meshgrid(xcoordinates, ycoordinates)
    coords = np.c_[xcoord_mesh.ravel(), ycoord_mesh.ravel()]

    d = load_directions(dir_file)
    assert len(d) == 2 and [len(g) for g in d] == [7, 7]
    assert [g.shape for g in d[0]] == [p.shape for p in model.parameters()]

    net = copy.deepcopy(model)
    w = [p.data.clone() for p in model.parameters()]  # net_plotter.get_weights
    for ind, coord in enumerate(coords):
        set_weights(net, w, d, coord)
        loss = eval_loss(net, batches)
        assert losses.ravel()[ind] == pytest.approx(loss, rel=1e-5), (ind, coord)
        i, j = ind % len(xcoordinates), ind // len(xcoordinates)
        assert s.loss[j, i] == pytest.approx(loss, rel=1e-5), (i, j)
    set_weights(net, w)  # back at the centre: the model's own loss
    assert eval_loss(net, batches) == pytest.approx(eval_loss(model, batches), rel=1e-12)
