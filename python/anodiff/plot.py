"""The study's figures in matplotlib (docs/python.md): each function draws from anodiff's results and returns a
matplotlib Figure to restyle or save. Imported on use (``anodiff.plot`` or ``import anodiff.plot``), so that
``import anodiff`` never needs matplotlib; pyplot is not used (no display or backend is touched: the figures are
``matplotlib.figure.Figure`` objects, saved with ``fig.savefig(path)``; in a notebook they show as the cell's value).

    import anodiff, anodiff.plot
    parts = anodiff.msd(t, part_length=1000)
    anodiff.plot.msd(parts).savefig("msd.png", dpi=120)
"""
import csv
import os

import numpy as np
import matplotlib
from matplotlib import cm, colors
from matplotlib.figure import Figure

from . import _anodiff

__all__ = ["msd", "local_exponent", "band_exponents", "per_layer", "hessian", "landscape"]


def _figure(ax, figsize):
    if ax is not None:
        return ax.figure, ax
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def _curves(parts):
    """MsdCurve objects from an MsdCurve, a list of them, PartResult objects (their .msd) or a LayerMsd (its parts)."""
    if isinstance(parts, (_anodiff.MsdCurve, _anodiff.PartResult)):
        parts = [parts]
    elif isinstance(parts, _anodiff.LayerMsd):
        parts = list(parts.parts)
    out = [p.msd if isinstance(p, _anodiff.PartResult) else p for p in parts]
    if not out:
        raise ValueError("plot: no curve to draw")
    for c in out:
        if not isinstance(c, (_anodiff.MsdCurve, _anodiff.LocalExponentCurve)):
            raise TypeError(f"plot: expected MsdCurve or PartResult objects, got {type(c).__name__}")
    return out


def _by_waiting_time(fig, ax, starts, cmap, label="waiting time t_w (steps)"):
    """A colour per curve by its part's start, with a colour bar (none for a single curve)."""
    starts = np.asarray(starts, dtype=float)
    lo, hi = float(starts.min()), float(starts.max())
    norm = colors.Normalize(vmin=lo, vmax=hi if hi > lo else lo + 1)
    mappable = cm.ScalarMappable(norm=norm, cmap=cmap)
    if len(starts) > 1:
        fig.colorbar(mappable, ax=ax, label=label)
    return [mappable.to_rgba(s) for s in starts]


def msd(parts, ax=None, cmap="viridis", per_coordinate=None, figsize=(6, 4.5)):
    """msd(parts, ax=None, cmap='viridis', per_coordinate=None) -> Figure

    The time-averaged MSD curves of all parts on log-log axes (e.g. what ``anodiff.msd(x, part_length=...)``
    returns, or ``post_analysis`` results), each coloured by its waiting time (the part's first snapshot) with a
    colour bar. ``per_coordinate=D`` divides by D. ``ax``: draw into these axes instead of a new figure.
    """
    curves = _curves(parts)
    fig, ax = _figure(ax, figsize)
    rgba = _by_waiting_time(fig, ax, [c.start for c in curves], cmap)
    scale = 1.0 / per_coordinate if per_coordinate else 1.0
    for c, colour in zip(curves, rgba):
        ax.loglog(c.lag, c.msd * scale, color=colour, lw=1.2, label=f"part {c.part} (t_w = {c.start})")
    ax.set_xlabel("lag tau (steps)")
    ax.set_ylabel("MSD per coordinate" if per_coordinate else "MSD")
    ax.set_title("time-averaged MSD by waiting time")
    return fig


def local_exponent(parts, window=20, ax=None, cmap="viridis", figsize=(6, 4.5)):
    """local_exponent(parts, window=20, ax=None, cmap='viridis') -> Figure

    The local exponent beta(tau) of each part (MsdCurve or PartResult objects, whose beta is computed with
    ``anodiff.local_exponent(curve, window)``, or LocalExponentCurve objects), against the lag on a log axis,
    coloured by waiting time, with beta = 1 (normal diffusion) marked.
    """
    curves = _curves(parts)
    betas = [c if isinstance(c, _anodiff.LocalExponentCurve) else _anodiff.local_exponent(c, window) for c in curves]
    fig, ax = _figure(ax, figsize)
    rgba = _by_waiting_time(fig, ax, [b.start for b in betas], cmap)
    for b, colour in zip(betas, rgba):
        ax.semilogx(b.lag, b.beta, color=colour, lw=1.0, label=f"part {b.part}")
    ax.axhline(1.0, color="0.4", ls="--", lw=0.8)
    ax.set_xlabel("lag tau (steps)")
    ax.set_ylabel(f"local exponent beta (window {window})")
    ax.set_title("local exponent by waiting time")
    return fig


def _loss_series(loss):
    """(steps, values) from an array per snapshot (NaN allowed), a (steps, values) pair or a Trajectory."""
    if isinstance(loss, _anodiff.Trajectory):
        loss = loss.loss
    if isinstance(loss, tuple) and len(loss) == 2:
        steps, values = np.asarray(loss[0], float), np.asarray(loss[1], float)
    else:
        values = np.asarray(loss, float)
        steps = np.arange(len(values), dtype=float)
    keep = np.isfinite(values)
    return steps[keep], values[keep]


def band_exponents(parts, window=20, short_band=(4, 40), long_band=None, loss=None, ax=None, figsize=(6.5, 4.5)):
    """band_exponents(parts, window=20, short_band=(4, 40), long_band=None, loss=None, ax=None) -> Figure

    The model-free band exponents of each part (``anodiff.band_exponents``: the median of beta over the short band
    and over the long band, 0.3 T .. 0.9 T by default) against the waiting time, the quartiles as error bars.
    ``parts``: MsdCurve or PartResult objects (a PartResult's own bands are used). ``loss``: the training loss to
    draw on a second axis, an array per snapshot (e.g. ``trajectory.loss``), a (steps, values) pair or a Trajectory.
    """
    items = [parts] if isinstance(parts, (_anodiff.MsdCurve, _anodiff.PartResult)) else list(parts)
    if not items:
        raise ValueError("plot.band_exponents: no part")
    starts, bands = [], []
    for p in items:
        if isinstance(p, _anodiff.PartResult):
            starts.append(p.part.start)
            bands.append((p.short_band, p.long_band))
        else:
            starts.append(p.start)
            bands.append(_anodiff.band_exponents(p, window=window, short_band=short_band, long_band=long_band))
    fig, ax = _figure(ax, figsize)
    starts = np.asarray(starts, float)
    for which, name, colour, marker in ((0, "short band", "tab:blue", "o"), (1, "long band", "tab:red", "s")):
        med = np.array([b[which].median for b in bands])
        lo = np.array([b[which].q25 for b in bands])
        hi = np.array([b[which].q75 for b in bands])
        lags = bands[0][which]
        ax.errorbar(starts, med, yerr=[np.maximum(med - lo, 0), np.maximum(hi - med, 0)], color=colour, marker=marker,
                    capsize=3, lw=1.2, label=f"{name} (lags {lags.lag_lo:g}-{lags.lag_hi:g})")
    ax.axhline(1.0, color="0.4", ls="--", lw=0.8)
    ax.set_xlabel("waiting time t_w (steps)")
    ax.set_ylabel("band exponent (median beta)")
    ax.set_title("band exponents by waiting time")
    handles, labels = ax.get_legend_handles_labels()
    if loss is not None:
        steps, values = _loss_series(loss)
        ax2 = ax.twinx()
        (line,) = ax2.plot(steps, values, color="0.3", lw=0.8, alpha=0.7, label="training loss")
        ax2.set_ylabel("training loss")
        if np.all(values > 0):
            ax2.set_yscale("log")
        handles.append(line)
        labels.append("training loss")
    ax.legend(handles, labels, fontsize=8, loc="best")
    return fig


def per_layer(layers, part=0, per_coordinate=True, ax=None, cmap="tab20", figsize=(6.5, 4.5)):
    """per_layer(layers, part=0, per_coordinate=True, ax=None, cmap='tab20') -> Figure

    Which layers move: the MSD of each tensor, layer or group (``anodiff.per_layer_msd`` results) in part ``part``,
    divided by the layer's number of coordinates (``per_coordinate=False``: the total), log-log, one colour each.
    """
    layers = list(layers)
    if not layers:
        raise ValueError("plot.per_layer: no layer")
    fig, ax = _figure(ax, figsize)
    palette = matplotlib.colormaps[cmap]
    for i, layer in enumerate(layers):
        if not 0 <= part < len(layer.parts):
            raise ValueError(f"plot.per_layer: part {part} is not among the {len(layer.parts)} parts of {layer.name}")
        c = layer.parts[part]
        scale = 1.0 / layer.dimension if per_coordinate else 1.0
        ax.loglog(c.lag, c.msd * scale, color=palette(i % palette.N), lw=1.2, label=f"{layer.name} ({layer.dimension})")
    ax.set_xlabel("lag tau (steps)")
    ax.set_ylabel("MSD per coordinate" if per_coordinate else "MSD")
    ax.set_title(f"per-layer MSD, part {part}")
    ax.legend(fontsize=7, ncol=2 if len(layers) > 8 else 1)
    return fig


def _read_eigenvalues_csv(path):
    if os.path.isdir(path):
        path = os.path.join(path, "eigenvalues.csv")
    rows = {}
    with open(path, newline="", encoding="utf-8-sig") as f:
        for r in csv.DictReader(f):
            rows.setdefault(int(r["epoch"]), []).append((int(r["rank"]), float(r["eigenvalue"]), r["converged"] == "1"))
    return {e: (np.array([v for _, v, _ in sorted(rs)]), np.array([c for _, _, c in sorted(rs)])) for e, rs in rows.items()}


def hessian(results, ax=None, cmap="plasma", figsize=(6.5, 4.5)):
    """hessian(results, ax=None, cmap='plasma') -> Figure

    The top eigenvalues of the Hessian against the epoch, one line per rank coloured by rank (a colour bar): as
    anodiff-hessian's eigenvalues.png. ``results``: a mapping {epoch: EigenResult or array of eigenvalues} (e.g.
    ``anodiff.hessian_eigenpairs`` at several epochs), a list of (epoch, result) pairs, or the path of an
    anodiff-hessian output (its eigenvalues.csv or the directory). Pairs that did not converge are drawn hollow.
    """
    if isinstance(results, (str, os.PathLike)):
        series = _read_eigenvalues_csv(os.fspath(results))
    else:
        items = results.items() if hasattr(results, "items") else results
        series = {}
        for epoch, r in items:
            if isinstance(r, _anodiff.EigenResult):
                series[epoch] = (np.asarray(r.eigenvalues), np.asarray(r.converged))
            else:
                v = np.asarray(r, float)
                series[epoch] = (v, np.ones(len(v), bool))
    if not series:
        raise ValueError("plot.hessian: no epoch")
    epochs = sorted(series)
    k = max(len(series[e][0]) for e in epochs)
    fig, ax = _figure(ax, figsize)
    norm = colors.Normalize(vmin=1, vmax=max(k, 2))
    mappable = cm.ScalarMappable(norm=norm, cmap=cmap)
    for rank in range(k):
        xs = [e for e in epochs if rank < len(series[e][0])]
        ys = np.array([series[e][0][rank] for e in xs])
        ok = np.array([series[e][1][rank] for e in xs], bool)
        colour = mappable.to_rgba(rank + 1)
        ax.plot(xs, ys, color=colour, lw=1.0, marker="o", ms=3)
        if not ok.all():
            ax.plot(np.asarray(xs)[~ok], ys[~ok], ls="none", marker="o", ms=6, mfc="white", mec=colour)
    fig.colorbar(mappable, ax=ax, label="rank")
    ax.set_xlabel("epoch")
    ax.set_ylabel("Hessian eigenvalue")
    ax.set_title(f"top {k} Hessian eigenvalues")
    return fig


def _surface_arrays(surface):
    """(x, y, z) with z[i, j] at (x[j], y[i])."""
    if isinstance(surface, (str, os.PathLike)):
        path = os.fspath(surface)
        if os.path.isdir(path):
            path = os.path.join(path, "grid.csv")
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = [r for r in csv.DictReader(f) if r.get("x")]
        xs = np.array(sorted({float(r["x"]) for r in rows}))
        ys = np.array(sorted({float(r["y"]) for r in rows}))
        z = np.full((len(ys), len(xs)), np.nan)
        for r in rows:
            z[np.searchsorted(ys, float(r["y"])), np.searchsorted(xs, float(r["x"]))] = float(r["loss"])
        return xs, ys, z
    if isinstance(surface, tuple) and len(surface) == 3:
        x, y, z = (np.asarray(a, float) for a in surface)
        return x, y, z
    z = getattr(surface, "loss", None)
    if z is None:
        z = surface.z
    return np.asarray(surface.x, float), np.asarray(surface.y, float), np.asarray(z, float)


def landscape(surface, path=None, levels=30, log=False, ax=None, cmap="viridis", figsize=(6, 5)):
    """landscape(surface, path=None, levels=30, log=False, ax=None, cmap='viridis') -> Figure

    The loss surface as filled contours with a colour bar (``log=True``: of log10 loss) and, when given, the
    training path on it (a (N, 2) array of plane coordinates, e.g. anodiff-landscape's trajectory_projection.csv
    columns x, y, or its path), start and end marked. ``surface``: an ``anodiff.Surface``, a result of
    ``anodiff.loss_surface`` (``.x``, ``.y``, ``.loss``), an (x, y, z) triple with z[i, j] at (x[j], y[i]), or an
    anodiff-landscape output directory / its grid.csv. Points not computed (NaN) are left blank.
    """
    x, y, z = _surface_arrays(surface)
    if z.ndim != 2 or z.shape != (len(y), len(x)):
        raise ValueError(f"plot.landscape: z has shape {z.shape}, expected (len(y), len(x)) = ({len(y)}, {len(x)})")
    if log:
        z = np.log10(np.where(z > 0, z, np.nan))
    fig, ax = _figure(ax, figsize)
    masked = np.ma.masked_invalid(z)
    filled = ax.contourf(x, y, masked, levels=levels, cmap=cmap)
    ax.contour(x, y, masked, levels=filled.levels, colors="k", linewidths=0.3, alpha=0.5)
    fig.colorbar(filled, ax=ax, label="log10 loss" if log else "loss")
    if path is not None:
        if isinstance(path, (str, os.PathLike)):
            with open(os.fspath(path), newline="", encoding="utf-8-sig") as f:
                p = np.array([(float(r["x"]), float(r["y"])) for r in csv.DictReader(f)])
        else:
            p = np.asarray(path, float)
        if p.ndim != 2 or p.shape[1] != 2:
            raise ValueError(f"plot.landscape: path must be (N, 2) plane coordinates, got shape {p.shape}")
        ax.plot(p[:, 0], p[:, 1], color="white", lw=1.2, marker=".", ms=3, label="path")
        ax.plot(p[0, 0], p[0, 1], "o", color="tab:green", ms=6, label="start")
        ax.plot(p[-1, 0], p[-1, 1], "*", color="tab:red", ms=10, label="end")
        ax.legend(fontsize=8, loc="best")
    ax.set_xlabel("x (direction 1)")
    ax.set_ylabel("y (direction 2)")
    ax.set_title("loss landscape")
    ax.set_aspect("auto")
    return fig
