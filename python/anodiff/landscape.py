"""Loss surfaces of any PyTorch model (docs/python.md, docs/landscape.md).

``anodiff.loss_surface`` evaluates the loss on a grid of two directions around the model's weights in PyTorch, with
anodiff-landscape's direction rules (seeded Gaussian directions, filter-normalised as Li et al. 2018, biases and BN
zeroed), appending each point to the same ``surface.csv`` (so that a killed evaluation resumes where it stopped) and
writing the same files (grid.csv, surface_loss.npy, directions.npy, roughness.csv, and with HDF5 Li et al.'s
surface.h5 and directions.h5) through the core library. ``anodiff.roughness`` gives the roughness of a result.
"""
import logging
import os

import numpy as np

from . import _anodiff
from .hessian import _batches, _forward, _size, _to

__all__ = ["loss_surface", "random_directions", "roughness", "LossSurface"]

log = logging.getLogger("anodiff")

_NORMS = ("filter", "layer", "none")


def random_directions(model, seed=0, norm="filter", ignore="biasbn"):
    """random_directions(model, seed=0, norm='filter', ignore='biasbn') -> (d1, d2)

    anodiff-landscape's two random directions (random_direction in landscape_probe.hpp, seeds ``seed`` and
    ``seed + 1``): for each parameter in ``model.parameters()`` order, a Gaussian tensor drawn from torch's CPU
    generator; for tensors of 2 or more dimensions scaled filter by filter (``norm='filter'``: each slice along the
    first axis gets the norm of the weight's slice, d <- d |w_f| / (|d_f| + 1e-10)), as a whole (``'layer'``) or not
    at all (``'none'``); 1-D tensors (biases, BatchNorm) get 0 with ``ignore='biasbn'``, else the weight itself. Two
    float32 numpy vectors of the model's dimension.
    """
    import torch

    if norm not in _NORMS:
        raise ValueError(f"directions: expected 'filter', 'layer' or 'none', got {norm!r}")
    if ignore not in ("biasbn", None, ""):
        raise ValueError(f"ignore: expected 'biasbn' or None, got {ignore!r}")
    out = []
    for s in (seed, seed + 1):
        gen = torch.Generator().manual_seed(int(s))
        parts = []
        with torch.no_grad():
            for p in model.parameters():
                w = p.detach().to("cpu", torch.float32).contiguous()
                d = torch.randn(w.shape, generator=gen, dtype=torch.float32)
                if w.dim() <= 1:
                    if ignore == "biasbn":
                        d.zero_()
                    else:
                        d.copy_(w)
                elif norm == "filter":
                    for f in range(w.shape[0]):
                        d[f].mul_(w[f].norm() / (d[f].norm() + 1e-10))
                elif norm == "layer":
                    d.mul_(w.norm() / (d.norm() + 1e-10))
                parts.append(d.reshape(-1))
        out.append(torch.cat(parts).numpy())
    return out[0], out[1]


class LossSurface:
    """The result of ``loss_surface``: ``x`` and ``y`` (the coordinates), ``loss`` and ``accuracy`` as (len(y), len(x))
    arrays (loss[j, i] at (x[i], y[j]); accuracy NaN when the loss has none), ``grid`` (the core's LandscapeGrid),
    ``direction1``/``direction2`` (float32 vectors), ``path`` ((N, 2) plane coordinates or None) and ``directory``
    (where its files are, or None)."""

    def __init__(self, grid, direction1, direction2, path, directory, title):
        self.grid = grid
        self.x = grid.x_axis.coordinates
        self.y = grid.y_axis.coordinates
        self.loss = grid.loss
        self.accuracy = grid.accuracy
        self.direction1, self.direction2 = direction1, direction2
        self.path = path
        self.directory = directory
        self.title = title

    def __repr__(self):
        return (f"LossSurface({len(self.x)} x {len(self.y)}, loss {np.nanmin(self.loss):.4g} .. "
                f"{np.nanmax(self.loss):.4g}{', in ' + self.directory if self.directory else ''})")


def _axis(a, name):
    if isinstance(a, _anodiff.Axis):
        return a
    if isinstance(a, str):
        return _anodiff.Axis.parse(a)
    try:
        lo, hi, n = a
    except (TypeError, ValueError):
        raise TypeError(f"{name}: expected (lo, hi, points), 'LO:HI:N' or an Axis, got {a!r}") from None
    if int(n) != n or n < 1:
        raise ValueError(f"{name}: points must be a whole number >= 1, got {n}")
    return _anodiff.Axis(float(lo), float(hi), int(n))


def _layout(model):
    tensors, offset = [], 0
    for name, p in model.named_parameters():
        tensors.append(_anodiff.ParameterTensor(name, list(p.shape), offset, -1))
        offset += p.numel()
    return _anodiff.ParameterLayout(tensors)


def _as_direction(d, params, name):
    import torch

    if isinstance(d, (list, tuple)) and len(d) == len(params) and all(hasattr(t, "shape") for t in d):
        d = np.concatenate([np.asarray(t.detach().cpu() if isinstance(t, torch.Tensor) else t, np.float32).ravel()
                            for t in d])
    elif isinstance(d, torch.Tensor):
        d = d.detach().cpu().numpy()
    d = np.ascontiguousarray(np.asarray(d, dtype=np.float32).ravel())
    total = sum(p.numel() for p in params)
    if d.size != total:
        raise ValueError(f"{name}: has {d.size} values, the model {total} parameters")
    return d


def loss_surface(model, loss_fn, batches, x=(-1, 1, 51), y=(-1, 1, 51), directions="filter", ignore="biasbn",
                 seed=0, out=None, path=None, train_mode=False, plots=False, title=None):
    """loss_surface(model, loss_fn, batches, x=(-1, 1, 51), y=(-1, 1, 51), directions='filter', ignore='biasbn',
    seed=0, out=None, path=None, train_mode=False, plots=False, title=None) -> LossSurface

    The loss L(w + a d1 + b d2) of the model over fixed ``batches`` (one ``(inputs, targets)`` pair or an iterable of
    them, read once, weighted by size: the mean loss over their samples) at every (a, b) of the grid ``x`` times
    ``y`` (each ``(lo, hi, points)``, ``'LO:HI:N'`` or an ``anodiff.Axis``; ``y=None``: a 1-D line along d1),
    around the model's current weights, in eval mode (``train_mode=True``: train mode) without gradients, on the
    model's device. The weights are restored afterwards.

    ``directions``: ``'filter'``, ``'layer'`` or ``'none'`` for anodiff-landscape's seeded random directions
    (``random_directions(model, seed, directions, ignore)``: the same vectors as ``anodiff-landscape --seed``), or
    ``(d1, d2)`` / ``(d1,)`` of your own (flat vectors or a tensor per parameter, e.g. PCA directions of a
    trajectory). The accuracy is computed where the outputs are (N, classes) logits and the targets class indices.

    ``out``: a directory for anodiff-landscape's files: each point is appended to ``surface.csv`` as it is
    computed (``i,j,x,y,loss,accuracy``); called again with the same grid, the points already there are read back
    and only the others computed (resumable; a grid of other axes is refused), then grid.csv, surface_loss.npy,
    surface_accuracy.npy, directions.npy, roughness.csv, structure_function.csv (a complete 2-D grid) and, with HDF5,
    surface.h5 and directions.h5 in Li et al.'s loss-landscape layout are written (``plots=True``: the gnuplot PNGs
    too). ``path``: the training path on the plane, (N, 2) coordinates or (N, D) weight snapshots (projected on the
    directions by least squares around the model's weights), written to trajectory_projection.csv.
    """
    import torch

    ax = _axis(x, "x")
    ay = _anodiff.Axis(0.0, 0.0, 1) if y is None else _axis(y, "y")
    params = list(model.parameters())
    if not params:
        raise ValueError("loss_surface: the model has no parameter")
    if isinstance(directions, str):
        d1, d2 = random_directions(model, seed=seed, norm=directions, ignore=ignore)
        kind = f"{directions}-normalised random directions (seed {seed})"
    else:
        ds = list(directions)
        if len(ds) not in (1, 2):
            raise ValueError("directions: expected 'filter', 'layer', 'none', (d1, d2) or (d1,)")
        d1 = _as_direction(ds[0], params, "direction 1")
        d2 = _as_direction(ds[1], params, "direction 2") if len(ds) == 2 else None
        kind = "given directions"
    if ay.points > 1 and d2 is None:
        raise ValueError("loss_surface: a 2-D grid needs two directions (y=None for a line along one)")
    if ay.points == 1 and y is None:
        d2 = None
    title = title or f"{type(model).__name__}, {kind}"

    centre = [p.detach().clone() for p in params]
    flat_centre = torch.cat([c.reshape(-1).to("cpu", torch.float32) for c in centre]).numpy()
    plane = None
    if path is not None:
        p = np.asarray(path, dtype=np.float64)
        if p.ndim == 2 and p.shape[1] == 2:
            plane = p
        elif p.ndim == 2 and p.shape[1] == flat_centre.size:
            basis = np.stack([d1, d2], axis=1).astype(np.float64) if d2 is not None else d1[:, None].astype(np.float64)
            coef, *_ = np.linalg.lstsq(basis, (p - flat_centre).T, rcond=None)
            plane = coef.T if d2 is not None else np.stack([coef[0], np.zeros(len(p))], axis=1)
        else:
            raise ValueError(f"path: expected (N, 2) plane coordinates or (N, {flat_centre.size}) weights, got "
                             f"shape {p.shape}")

    device = params[0].device
    data = [(_to(bx, device), _to(by, device)) for bx, by in _batches(batches)]
    sizes = [_size(bx) for bx, _ in data]
    total = float(sum(sizes))
    splits = [p.numel() for p in params]
    t1 = [t.view(p.shape).to(device, p.dtype) for t, p in zip(torch.split(torch.from_numpy(d1), splits), params)]
    t2 = None if d2 is None else [t.view(p.shape).to(device, p.dtype)
                                  for t, p in zip(torch.split(torch.from_numpy(d2), splits), params)]

    if out is not None:
        out = os.fspath(out)
        os.makedirs(out, exist_ok=True)
        old = os.path.join(out, "directions.npy")
        if os.path.exists(old):
            previous = np.load(old)
            mine = np.stack([d1] + ([d2] if d2 is not None else [])).astype(np.float64)
            if previous.shape != mine.shape or not np.array_equal(previous, mine):
                raise ValueError(f"{out}: its directions.npy holds other directions than this call's (another "
                                 "model, seed or rule): use another directory")
        grid = _anodiff.read_landscape(out, ax, ay)
    else:
        grid = _anodiff.LandscapeGrid(ax, ay)
    known = grid.loss
    todo = [(i, j) for j in range(ay.points) for i in range(ax.points) if np.isnan(known[j, i])]
    if todo:
        log.info("loss_surface: %d of %d points to evaluate (%s)", len(todo), ax.points * ay.points, title)

    was_training = model.training
    saved_buffers = [(b, b.detach().clone()) for b in model.buffers()]  # train mode updates BN's running statistics
    model.train(train_mode)
    file = None
    try:
        if out is not None:
            name = os.fspath(_anodiff.landscape_file(out))
            if os.path.exists(name):  # a line torn by a kill is dropped, as anodiff-landscape does
                with open(name, "r+b") as f:
                    text = f.read()
                    if text and not text.endswith(b"\n"):
                        f.truncate(text.rfind(b"\n") + 1)
            fresh = not os.path.exists(name) or os.path.getsize(name) == 0
            file = open(name, "a", encoding="utf-8")
            if fresh:
                file.write("i,j,x,y,loss,accuracy\n")
            file.flush()
        step = max(1, len(todo) // 10)
        with torch.no_grad():
            for n, (i, j) in enumerate(todo):
                a, b = ax.at(i), ay.at(j)
                for k, p in enumerate(params):
                    w = centre[k] + a * t1[k]
                    if t2 is not None and ay.points > 1:
                        w = w + b * t2[k]
                    p.copy_(w)
                loss_sum, correct, counted = 0.0, 0.0, 0.0
                for (bx, by), size in zip(data, sizes):
                    outputs = _forward(model, bx)
                    value = loss_fn(outputs, by)
                    loss_sum += float(value) * size
                    if isinstance(outputs, torch.Tensor) and outputs.dim() == 2 and isinstance(by, torch.Tensor) \
                            and by.dim() == 1 and not by.is_floating_point() and len(by) == len(outputs):
                        correct += float((outputs.argmax(1) == by).sum())
                        counted += len(by)
                loss = loss_sum / total
                acc = correct / counted if counted == total else float("nan")
                known[j, i] = loss
                if file is not None:
                    file.write(f"{i},{j},{a:.10g},{b:.10g},{loss:.10g},{acc:.10g}\n")
                    file.flush()
                if (n + 1) % step == 0 or n + 1 == len(todo):
                    log.info("loss_surface: %d of %d points, loss %.4f", n + 1, len(todo), loss)
    finally:
        if file is not None:
            file.close()
        with torch.no_grad():
            for p, c in zip(params, centre):
                p.copy_(c)
            for b, c in saved_buffers:
                b.copy_(c)
        model.train(was_training)

    if out is not None:
        grid = _anodiff.read_landscape(out, ax, ay)  # what the files hold, as anodiff-landscape reads them back
        _anodiff.write_landscape(grid, out, direction1=d1, direction2=d2, path=plane, title=title,
                                 layout=_layout(model), roughness=True, plots=plots)
    else:
        grid = _grid_from(ax, ay, known)
    return LossSurface(grid, d1, d2, plane, out, title)


def _grid_from(ax, ay, loss):
    """A LandscapeGrid holding `loss` (written through the core's CSV reader of a temporary file)."""
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "surface.csv"), "w") as f:
            f.write("i,j,x,y,loss,accuracy\n")
            for j in range(ay.points):
                for i in range(ax.points):
                    if not np.isnan(loss[j, i]):
                        f.write(f"{i},{j},{ax.at(i):.10g},{ay.at(j):.10g},{loss[j, i]!r},nan\n")
        return _anodiff.read_landscape(d, ax, ay)


def roughness(surface):
    """roughness(surface) -> LandscapeRoughness

    The roughness of a loss surface as anodiff-landscape reports it (docs/roughness.md): the Hurst exponent from the
    structure function, mean |dL| against distance and box counting. ``surface``: a ``LossSurface``, a
    ``LandscapeGrid``, an anodiff-landscape output directory (its grid.csv axes), or a loss-landscape ``.h5``
    surface file. ValueError for a 1-D line or a grid with points missing.
    """
    if isinstance(surface, LossSurface):
        grid = surface.grid
    elif isinstance(surface, _anodiff.LandscapeGrid):
        grid = surface
    elif isinstance(surface, (str, os.PathLike)):
        p = os.fspath(surface)
        if p.endswith(".h5"):
            grid = _anodiff.read_loss_landscape_surface(p)
        else:
            xs, ys = _grid_axes(os.path.join(p, "grid.csv"))
            grid = _anodiff.read_landscape(p, xs, ys)
    else:
        raise TypeError(f"roughness: expected a LossSurface, a LandscapeGrid or a path, got {type(surface).__name__}")
    return _anodiff.landscape_roughness(grid)


def _grid_axes(grid_csv):
    import csv

    with open(grid_csv, newline="", encoding="utf-8-sig") as f:
        rows = [r for r in csv.DictReader(f) if r.get("x")]
    xs = sorted({float(r["x"]) for r in rows})
    ys = sorted({float(r["y"]) for r in rows})
    return (_anodiff.Axis(xs[0], xs[-1], len(xs)), _anodiff.Axis(ys[0], ys[-1], len(ys)))
