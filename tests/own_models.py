#!/usr/bin/python3
"""A user's own networks for tests/cli_own_models.sh and benchmarks/bench_scripted_hessian.cpp (python3-torch):
defines them, saves them as TorchScript and state_dicts, and checks what anodiff-hessian and anodiff-landscape wrote
against PyTorch's own numbers.
  own_models.py export DIR                  the models, data and reference values of the CLI test
  own_models.py script-resnet14 SD OUT.pt   Li et al.'s ResNet-14 with the weights of state_dict SD, scripted
  own_models.py check-hessian DIR OUT REF   eigenvalues.csv of OUT against the dense Hessian's (REF.npy), 1e-6 rel.
  own_models.py check-landscape DIR OUT     grid.csv points against PyTorch's loss at the same perturbed weights
  own_models.py check-free-landscape DIR OUT  the same for data_free.pt's own loss()
  own_models.py same-grid A B               two landscapes (directions and losses) agree
  own_models.py same-eigenvalues A B        two eigenvalues.csv agree to 1e-6 relative
  own_models.py check-surface ORIG OUT      a loss-landscape surface read and written back by anodiff is unchanged"""
import csv
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(1)


class SmallCNN(nn.Module):
    """Not one of anodiff's built-ins: conv-BN-ReLU, a strided convolution, global pooling, a linear classifier."""

    def __init__(self, channels=2, classes=5):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(channels, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(),
                                      nn.Conv2d(3, 4, 3, stride=2, padding=1, bias=False), nn.Tanh())
        self.head = nn.Linear(4, classes)

    def forward(self, x):
        x = self.features(x)
        return self.head(x.mean(dim=(2, 3)))


class BasicBlock(nn.Module):
    """Li et al.'s resnet.py block (the names anodiff's built-in ResNets follow)."""

    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(nn.Conv2d(in_planes, planes, 1, stride=stride, bias=False),
                                          nn.BatchNorm2d(planes))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNet(nn.Module):
    def __init__(self, depth=14, classes=10):
        super().__init__()
        n = (depth - 2) // 6
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        planes, layers = 16, []
        for i, width in enumerate((16, 32, 64)):
            blocks = []
            for b in range(n):
                blocks.append(BasicBlock(planes, width, 2 if (b == 0 and i > 0) else 1))
                planes = width
            layers.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3 = layers
        self.linear = nn.Linear(64, classes)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer3(self.layer2(self.layer1(out)))
        out = F.avg_pool2d(out, 8).flatten(1)
        return self.linear(out)


class DataFree(nn.Module):
    """A model whose loss needs no data: loss() of its parameters (a data-free loss for anodiff-hessian --data-free)."""

    def __init__(self, generator, n=30):
        super().__init__()
        self.w = nn.Parameter(torch.randn(n, generator=generator))
        self.v = nn.Parameter(torch.randn(3, 4, generator=generator))
        a = torch.randn(n, n, generator=generator)
        self.register_buffer("a", a @ a.T / n)

    @torch.jit.export
    def loss(self):
        return 0.5 * self.w @ (self.a @ self.w) + torch.sin(self.w).sum() + (self.v ** 4).sum() * self.w[0] ** 2

    def forward(self, x):
        return x


class NoLogits(nn.Module):
    """Returns feature maps, not (N, classes)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 3, 3)

    def forward(self, x):
        return self.conv(x)


def write_legacy_refusals(legacy, out):
    """Two legacy-format files the reader refuses: saved on a big-endian machine (sys_info's little_endian False),
    and a storage that is a view of another (a persistent id with view metadata: torch.save before 0.4)."""
    import io
    import pickletools
    stream = io.BytesIO(legacy)
    pickles = [list(pickletools.genops(stream)) for _ in range(4)]  # magic, version, sys_info, the object
    ops = pickles[2]
    at = [k for k, (op, arg, _) in enumerate(ops) if op.name == "BINUNICODE" and arg == "little_endian"][0]
    flag = next(pos for op, _, pos in ops[at:] if op.name == "NEWTRUE")
    with open(f"{out}/big_endian.t7", "wb") as f:
        f.write(legacy[:flag] + b"\x89" + legacy[flag + 1:])  # NEWFALSE
    ops = pickles[3]
    persid = [k for k, (op, _, _) in enumerate(ops) if op.name == "BINPERSID"][0]
    none = [pos for op, _, pos in ops[:persid] if op.name == "NONE"][-1]  # the id's view metadata
    view = b"X\x01\x00\x00\x000" + b"K\x00" + b"K\x02" + b"\x87"  # ('0', 0, 2): BINUNICODE, BININT1 x 2, TUPLE3
    with open(f"{out}/view_legacy.t7", "wb") as f:
        f.write(legacy[:none] + view + legacy[none + 1:])


def randomise_bn(model, generator):
    """Running statistics and affine parameters away from their defaults, so that eval-mode BN matters."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.copy_(0.1 * torch.randn(m.running_mean.shape, generator=generator))
                m.running_var.copy_(0.5 + torch.rand(m.running_var.shape, generator=generator))
                m.weight.copy_(1 + 0.2 * torch.randn(m.weight.shape, generator=generator))
                m.bias.copy_(0.1 * torch.randn(m.bias.shape, generator=generator))


def mean_loss(model, x, y):
    return F.cross_entropy(model(x), y)


def dense_top_eigenvalues(model, x, y, k=5):
    """The top-k eigenvalues of the Hessian of the mean cross-entropy (eval mode, float64), from the dense Hessian."""
    model = model.double().eval()
    x = x.double()
    names = [n for n, _ in model.named_parameters()]
    params = [p.detach().clone() for _, p in model.named_parameters()]
    sizes = [p.numel() for p in params]

    def loss_of(flat):
        pieces, offset = {}, 0
        for n, p, s in zip(names, params, sizes):
            pieces[n] = flat[offset:offset + s].view_as(p)
            offset += s
        out = torch.nn.utils.stateless.functional_call(model, pieces, (x,))
        return F.cross_entropy(out, y)

    theta = torch.cat([p.reshape(-1) for p in params])
    h = torch.autograd.functional.hessian(loss_of, theta)
    return np.sort(np.linalg.eigvalsh(h.numpy()))[::-1][:k], theta.numel()


def save_checkpoint(model, path, epoch, legacy=False):
    """As the study's main.py saved model_E.t7 (with nn.DataParallel's 'module.' prefix, as with --ngpu > 1); legacy:
    in torch.save's format before PyTorch 1.6 (pickles and raw storages, no zip)."""
    state = {"module." + k: v for k, v in model.state_dict().items()}
    torch.save({"acc": 87.5, "epoch": epoch, "state_dict": state}, path, _use_new_zipfile_serialization=not legacy)


def export(out):
    os.makedirs(out, exist_ok=True)
    g = torch.Generator().manual_seed(3)
    torch.manual_seed(3)
    # The small CNN, its data (N, 2, 8, 8) and two sets of weights.
    small = SmallCNN()
    randomise_bn(small, g)
    x = torch.randn(24, 2, 8, 8, generator=g)
    y = torch.arange(24) % 5
    np.save(f"{out}/inputs.npy", x.numpy().astype(np.float32))
    np.save(f"{out}/labels.npy", y.numpy().astype(np.int64))
    small.eval()
    torch.jit.save(torch.jit.script(small), f"{out}/small.pt")
    save_checkpoint(small, f"{out}/model_3.t7", 3)
    eig, dim = dense_top_eigenvalues(small_copy(small), x, y)
    np.save(f"{out}/small_eigenvalues.npy", eig)
    other = SmallCNN()
    randomise_bn(other, g)
    other.eval()
    save_checkpoint(other, f"{out}/model_7.t7", 7, legacy=True)
    with open(f"{out}/model_7.t7", "rb") as f:
        legacy = f.read()
    # One byte short: always inside the last storage's data (torch.save orders the storages by their ids as
    # strings, so which storage is last, and how long it is, changes from run to run).
    with open(f"{out}/truncated_legacy.t7", "wb") as f:
        f.write(legacy[:len(legacy) - 1])
    write_legacy_refusals(legacy, out)
    torch.jit.save(torch.jit.trace(other, x), f"{out}/other_traced.pt")
    np.save(f"{out}/other_eigenvalues.npy", dense_top_eigenvalues(small_copy(other), x, y)[0])
    # A data-free loss: the dense Hessian of loss() over all parameters.
    free = DataFree(g).double()
    torch.jit.save(torch.jit.script(free), f"{out}/data_free.pt")
    n = free.w.numel()

    def free_loss(flat):  # loss() of the flattened parameters (w, then v: the module's order)
        w, v = flat[:n], flat[n:].view(3, 4)
        return 0.5 * w @ (free.a @ w) + torch.sin(w).sum() + (v ** 4).sum() * w[0] ** 2

    h = torch.autograd.functional.hessian(free_loss, torch.cat([p.detach().reshape(-1) for p in free.parameters()]))
    np.save(f"{out}/data_free_eigenvalues.npy", np.sort(np.linalg.eigvalsh(h.numpy()))[::-1][:5])
    # Files to refuse.
    torch.jit.save(torch.jit.script(NoLogits()), f"{out}/no_logits.pt")
    frozen = SmallCNN()
    for p in frozen.parameters():
        p.requires_grad_(False)
    torch.jit.save(torch.jit.script(frozen), f"{out}/frozen.pt")
    torch.save(ResNet(14).state_dict(), f"{out}/resnet14_other.pt")
    np.save(f"{out}/labels_9.npy", (torch.arange(24) % 10).numpy().astype(np.int64))
    with open(f"{out}/inputs.npy", "rb") as f:
        data = f.read()
    with open(f"{out}/truncated.npy", "wb") as f:
        f.write(data[:len(data) - 100])
    # Li et al.'s ResNet-14 with random weights and BN statistics, as TorchScript and as a checkpoint for the built-in.
    resnet = ResNet(14)
    randomise_bn(resnet, g)
    resnet.eval()
    torch.jit.save(torch.jit.script(resnet), f"{out}/resnet14.pt")
    save_checkpoint(resnet, f"{out}/resnet14_1.t7", 1)
    rx = torch.randn(12, 3, 32, 32, generator=g)
    np.save(f"{out}/r_inputs.npy", rx.numpy().astype(np.float32))
    np.save(f"{out}/r_labels.npy", (torch.arange(12) % 10).numpy().astype(np.int64))
    print(f"exported: small CNN of {dim} parameters, ResNet-14 of {sum(p.numel() for p in resnet.parameters())}")


def small_copy(model):
    m = SmallCNN()
    m.load_state_dict(model.state_dict())
    return m


def read_csv(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def check_hessian(out, result, reference):
    rows = read_csv(f"{result}/eigenvalues.csv")
    ref = np.load(f"{out}/{reference}.npy")
    got = np.array([float(r["eigenvalue"]) for r in rows])[:len(ref)]
    rel = np.abs(got - ref) / np.abs(ref)
    print(f"anodiff {got}\ndense   {ref}\nmax relative difference {rel.max():.2e}")
    assert rel.max() < 1e-6, rel


def check_landscape(out, result, data_free=False):
    """grid.csv against PyTorch's loss at the same perturbed weights: the cross-entropy of small.pt on the inputs,
    or (data_free) data_free.pt's own loss()."""
    model = torch.jit.load(f"{out}/{'data_free' if data_free else 'small'}.pt")
    model.eval()
    if not data_free:
        x = torch.from_numpy(np.load(f"{out}/inputs.npy"))
        y = torch.from_numpy(np.load(f"{out}/labels.npy"))
    d = np.load(f"{result}/directions.npy")
    params = list(model.parameters())
    theta = torch.cat([p.detach().reshape(-1) for p in params]).double()
    worst = 0.0
    for row in read_csv(f"{result}/grid.csv"):
        a, b, loss = float(row["x"]), float(row["y"]), float(row["loss"])
        w = theta + a * torch.from_numpy(d[0]) + b * torch.from_numpy(d[1])
        offset = 0
        with torch.no_grad():
            for p in params:
                p.copy_(w[offset:offset + p.numel()].view_as(p).float())
                offset += p.numel()
            ref = model.loss().item() if data_free else F.cross_entropy(model(x), y).item()
        worst = max(worst, abs(loss - ref) / abs(ref))
        if data_free:
            assert row["accuracy"] in ("nan", "", "-nan"), row
    print(f"{len(read_csv(f'{result}/grid.csv'))} landscape points: max relative difference to PyTorch {worst:.2e}")
    assert worst < 1e-5, worst
    if data_free or os.environ.get("ANODIFF_NO_H5") == "1":
        return
    # Li et al.'s directions: filter-normalised 4-D and 2-D weights, zero for biases and BN (biasbn).
    import h5py
    model = torch.jit.load(f"{out}/small.pt")  # the weights at the centre again
    with h5py.File(f"{result}/directions.h5", "r") as f:
        for k, p in enumerate(model.parameters()):
            for name in ("xdirection", "ydirection"):
                dk = np.array(f[name][str(k)])
                assert dk.shape == tuple(p.shape), (name, k, dk.shape, p.shape)
                if p.dim() <= 1:
                    assert not dk.any(), (name, k)
                else:
                    wn = p.detach().reshape(p.shape[0], -1).norm(dim=1).numpy()
                    dn = np.linalg.norm(dk.reshape(dk.shape[0], -1), axis=1)
                    assert np.allclose(dn, wn, rtol=1e-5), (name, k, dn, wn)
    with h5py.File(f"{result}/surface.h5", "r") as f:
        z = np.load(f"{result}/surface_loss.npy")
        assert np.allclose(np.array(f["train_loss"]).ravel(), z.ravel(), rtol=1e-12)
        assert len(f["xcoordinates"]) == z.shape[1] and len(f["ycoordinates"]) == z.shape[0]
    print("directions.h5: filter-normalised weights, zero biases and BN; surface.h5 holds the grid")


def same_grid(a, b):
    da, db = np.load(f"{a}/directions.npy"), np.load(f"{b}/directions.npy")
    assert da.shape == db.shape and np.array_equal(da, db), "directions differ"
    la, lb = np.load(f"{a}/surface_loss.npy"), np.load(f"{b}/surface_loss.npy")
    rel = np.max(np.abs(la - lb) / np.abs(lb))
    print(f"same directions; losses: max relative difference {rel:.2e}")
    assert rel < 1e-5, rel


def same_eigenvalues(a, b):
    ea = np.array([float(r["eigenvalue"]) for r in read_csv(f"{a}/eigenvalues.csv")])
    eb = np.array([float(r["eigenvalue"]) for r in read_csv(f"{b}/eigenvalues.csv")])
    rel = np.max(np.abs(ea - eb) / np.abs(eb))
    print(f"built-in {eb}\nscripted {ea}\nmax relative difference {rel:.2e}")
    assert rel < 1e-6, rel


def check_surface(original, result):
    import h5py
    with h5py.File(original, "r") as f, h5py.File(f"{result}/surface.h5", "r") as g:
        for name in ("xcoordinates", "ycoordinates"):
            assert np.allclose(f[name], g[name], rtol=1e-12, atol=1e-15), name
        # loss-landscape's flat (meshgrid) order is kept; anodiff writes the array as (ny, nx)
        for name in ("train_loss", "train_acc"):
            assert np.allclose(np.array(f[name]).ravel(), np.array(g[name]).ravel(), rtol=1e-12), name
    print("the loss-landscape surface round-trips")


if __name__ == "__main__":
    command = sys.argv[1]
    if command == "export":
        export(sys.argv[2])
    elif command == "script-resnet14":
        m = ResNet(14)
        m.load_state_dict(torch.load(sys.argv[2]))
        m.eval()
        torch.jit.save(torch.jit.script(m), sys.argv[3])
    elif command == "check-hessian":
        check_hessian(sys.argv[2], sys.argv[3], sys.argv[4])
    elif command == "check-landscape":
        check_landscape(sys.argv[2], sys.argv[3])
    elif command == "check-free-landscape":
        check_landscape(sys.argv[2], sys.argv[3], data_free=True)
    elif command == "same-grid":
        same_grid(sys.argv[2], sys.argv[3])
    elif command == "same-eigenvalues":
        same_eigenvalues(sys.argv[2], sys.argv[3])
    elif command == "check-surface":
        check_surface(sys.argv[2], sys.argv[3])
    else:
        sys.exit(f"unknown command {command}")
