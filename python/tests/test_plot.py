"""anodiff.plot: each figure drawn (Agg) from real results: the MSD parts, local exponents and band exponents of a
recorded trajectory, its per-layer MSD, Hessian spectra of a small CNN at two epochs, and a loss surface around
its SGD path; the drawn data are the results' own."""
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from matplotlib.backends.backend_agg import FigureCanvasAgg

import anodiff

torch.set_num_threads(1)


def render(fig, tmp_path, name):
    """Draws the figure with Agg into a PNG; returns the image as an array."""
    FigureCanvasAgg(fig)
    path = tmp_path / f"{name}.png"
    fig.savefig(path, dpi=60)
    image = matplotlib.image.imread(path)
    assert image.shape[0] > 100 and image.shape[1] > 100
    assert np.ptp(image[..., :3]) > 0.5, "something was drawn"
    return image


def colourbars(fig):
    return [a for a in fig.axes if a.get_label() == "<colorbar>"]


def test_import_anodiff_does_not_import_matplotlib_and_plot_is_loaded_on_use():
    code = ("import sys, anodiff; assert 'matplotlib' not in sys.modules; p = anodiff.plot; "
            "assert 'matplotlib' in sys.modules and p.__name__ == 'anodiff.plot'; print('ok')")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr


def test_msd_local_exponent_band_exponents_per_layer(data, tmp_path):
    t = anodiff.load_trajectory(data["dir"])
    parts = anodiff.msd(t, part_length=100)
    assert len(parts) == 3
    fig = anodiff.plot.msd(parts)
    render(fig, tmp_path, "msd")
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    lines = ax.get_lines()
    assert len(lines) == 3 and len(colourbars(fig)) == 1
    np.testing.assert_array_equal(lines[1].get_ydata(), parts[1].msd)
    assert lines[0].get_color() != lines[2].get_color()  # coloured by waiting time
    cb = colourbars(fig)[0]
    assert cb.get_ylim() == (parts[0].start, parts[-1].start)

    fig = anodiff.plot.local_exponent(parts, window=10)
    render(fig, tmp_path, "beta")
    beta = anodiff.local_exponent(parts[2], 10)
    np.testing.assert_array_equal(fig.axes[0].get_lines()[2].get_ydata(), beta.beta)

    results = anodiff.post_analysis(t, part_length=100)
    for source, loss in ((parts, t.loss), (results, (np.arange(len(data["loss"])), data["loss"]))):
        fig = anodiff.plot.band_exponents(source, window=10, short_band=(2, 20), loss=loss)
        render(fig, tmp_path, "bands")
        assert len(fig.axes) == 2  # the loss on a second axis
        ax = fig.axes[0]
        assert ax.get_xlabel().startswith("waiting time")
        assert fig.axes[1].get_ylabel() == "training loss"
    # The drawn medians are band_exponents' (errorbar's line is the first of its artists).
    fig = anodiff.plot.band_exponents(parts, window=10, short_band=(2, 20))
    assert len(fig.axes) == 1
    medians = [anodiff.band_exponents(c, window=10, short_band=(2, 20))[0].median for c in parts]
    np.testing.assert_allclose(fig.axes[0].get_lines()[0].get_ydata(), medians)
    np.testing.assert_array_equal(fig.axes[0].get_lines()[0].get_xdata(), [0, 100, 200])

    layers = anodiff.per_layer_msd(t, by="tensor", part_length=100)
    fig = anodiff.plot.per_layer(layers, part=1)
    render(fig, tmp_path, "layers")
    lines = fig.axes[0].get_lines()
    assert len(lines) == len(layers) == 3
    np.testing.assert_allclose(lines[2].get_ydata(), layers[2].parts[1].msd / layers[2].dimension)
    with pytest.raises(ValueError, match="part 7"):
        anodiff.plot.per_layer(layers, part=7)
    with pytest.raises(ValueError, match="no curve"):
        anodiff.plot.msd([])


class Tiny(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 3, 3)
        self.fc = torch.nn.Linear(3 * 4 * 4, 2)

    def forward(self, x):
        return self.fc(torch.tanh(self.conv(x)).flatten(1))


@pytest.fixture(scope="module")
def trained():
    """A tiny CNN trained for two epochs with the Hessian's top 4 at each epoch, and its path of weights."""
    torch.manual_seed(1)
    model = Tiny()
    x, y = torch.randn(64, 1, 6, 6), torch.randint(0, 2, (64,))
    opt = torch.optim.SGD(model.parameters(), lr=0.2)
    spectra, path = {}, [anodiff.flat_parameters(model).copy()]
    spectra[0] = anodiff.hessian_eigenpairs(model, F.cross_entropy, (x, y), k=4, tol=1e-6)
    for epoch in (1, 2):
        for i in range(0, 64, 16):
            opt.zero_grad()
            F.cross_entropy(model(x[i:i + 16]), y[i:i + 16]).backward()
            opt.step()
            path.append(anodiff.flat_parameters(model).copy())
        spectra[epoch] = anodiff.hessian_eigenpairs(model, F.cross_entropy, (x, y), k=4, tol=1e-6)
    return {"model": model, "x": x, "y": y, "spectra": spectra, "path": np.array(path)}


def test_hessian_against_epoch(trained, tmp_path):
    spectra = trained["spectra"]
    fig = anodiff.plot.hessian(spectra)
    render(fig, tmp_path, "hessian")
    lines = [l for l in fig.axes[0].get_lines() if l.get_linestyle() != "None"]
    assert len(lines) == 4 and len(colourbars(fig)) == 1
    np.testing.assert_array_equal(lines[0].get_xdata(), [0, 1, 2])
    np.testing.assert_allclose(lines[0].get_ydata(), [spectra[e].eigenvalues[0] for e in (0, 1, 2)])
    # The same from anodiff-hessian's eigenvalues.csv layout.
    csv_path = tmp_path / "eigenvalues.csv"
    with open(csv_path, "w") as f:
        f.write("epoch,rank,eigenvalue,residual,relative_residual,converged,products,verification_products,seconds,"
                "warm_start\n")
        for e, r in spectra.items():
            for p in r.eigenpairs:
                f.write(f"{e},{p.rank},{p.eigenvalue!r},{p.residual!r},{p.relative_residual!r},{int(p.converged)},"
                        f"{r.products},{r.verification_products},{r.seconds},0\n")
    fig2 = anodiff.plot.hessian(str(csv_path))
    lines2 = [l for l in fig2.axes[0].get_lines() if l.get_linestyle() != "None"]
    np.testing.assert_allclose(lines2[3].get_ydata(), lines[3].get_ydata())


def test_landscape_with_the_path(trained, tmp_path):
    model, x, y, path = trained["model"], trained["x"], trained["y"], trained["path"]
    # The plane of the path's two principal directions around its end; the loss on an 11 x 9 grid.
    centre = path[-1]
    _, _, vt = np.linalg.svd(path - path.mean(0), full_matrices=False)
    d1, d2 = vt[0], vt[1]
    coords = np.stack([(path - centre) @ d1, (path - centre) @ d2], axis=1)
    span = 1.2 * np.abs(coords).max()
    xs, ys = np.linspace(-span, span, 11), np.linspace(-span, span, 9)
    z = np.empty((len(ys), len(xs)))
    params = list(model.parameters())
    with torch.no_grad():
        for i, b in enumerate(ys):
            for j, a in enumerate(xs):
                w = torch.from_numpy((centre + a * d1 + b * d2).astype(np.float32))
                torch.nn.utils.vector_to_parameters(w, params)
                z[i, j] = F.cross_entropy(model(x), y).item()
        torch.nn.utils.vector_to_parameters(torch.from_numpy(centre.astype(np.float32)), params)
    fig = anodiff.plot.landscape((xs, ys, z), path=coords)
    render(fig, tmp_path, "landscape")
    ax = fig.axes[0]
    drawn = ax.get_lines()[0]
    np.testing.assert_allclose(drawn.get_xdata(), coords[:, 0])
    np.testing.assert_allclose(drawn.get_ydata(), coords[:, 1])
    assert len(colourbars(fig)) == 1
    # A height field (anodiff.Surface) and the log scale; a wrong shape is refused.
    s = anodiff.Surface(z, (xs[0], xs[-1]), (ys[0], ys[-1]))
    render(anodiff.plot.landscape(s, log=True), tmp_path, "surface")
    with pytest.raises(ValueError, match="shape"):
        anodiff.plot.landscape((xs, ys, z.T))
