"""The module's analyses: the same numbers as the C++ library, numpy in and out, errors as Python exceptions."""
import threading
import time

import numpy as np
import pytest

import anodiff
from conftest import D, T, cpp_reference, walk


def test_load_trajectory_formats(data):
    t = anodiff.load_trajectory(data["dir"])
    assert (len(t), t.dimension) == (T, D)
    assert len(t.chunks) == 4  # the decoy temporary files are not chunks
    assert all(not c.flags.writeable for c in t.chunks)
    assert np.array_equal(t.positions, data["X"])
    assert set(t.steps) == {"step", "epoch", "loss"}  # CRLF and a BOM read
    assert np.isnan(t.loss[0]) and np.allclose(t.loss[1:], data["loss"][1:], rtol=1e-8)
    assert t.layout is not None and [x.name for x in t.layout.tensors] == ["conv.weight", "conv.bias", "fc.weight"]
    assert t.layout.groups == 1 and t.layout.group_dimension(0) == 64
    one = anodiff.load_trajectory(data["npy"])
    assert one.positions.dtype == np.float32 and not one.positions.flags.writeable
    assert np.array_equal(one.positions, data["X"]) and one.layout is None and one.steps == {}
    assert np.array_equal(one.read(5, 2), data["X"][5:7].astype(np.float64))


def test_array_is_read_in_place(data):
    X = data["X"]
    t = anodiff.Trajectory(X)
    assert np.shares_memory(t.positions, X) and not t.positions.flags.writeable
    F = np.asfortranarray(X)
    assert not np.shares_memory(anodiff.Trajectory(F).positions, F)  # copied once into C order
    assert np.array_equal(anodiff.msd(F).msd, anodiff.msd(X).msd)


def test_msd_matches_cpp(data, tmp_path):
    ref = cpp_reference(data["dir"], tmp_path, 100)
    for source in (data["dir"], anodiff.load_trajectory(data["dir"]), data["X"], data["npy"]):
        curves = anodiff.msd(source, part_length=100)
        assert len(curves) == 3
        for c in curves:
            assert np.array_equal(c.lag, ref(f"msd_{c.part}_lag"))
            assert np.array_equal(c.msd, ref(f"msd_{c.part}_msd"))  # identical, not close
        for c in anodiff.aging_msd(source, part_length=100):
            assert np.array_equal(c.msd, ref(f"aging_{c.part}_msd"))
    one = anodiff.msd(data["X"], part_length=100, part=1)
    assert one.part == 1 and one.start == 100 and np.array_equal(one.msd, ref("msd_1_msd"))


def test_msd_against_numpy(data):
    X = data["X"].astype(np.float64)
    c = anodiff.msd(X)
    for lag in (1, 7, 150, T - 1):
        expected = np.mean(np.sum((X[lag:] - X[:-lag]) ** 2, axis=1))
        assert c.msd[lag - 1] == pytest.approx(expected, rel=1e-9)
    pairs = anodiff.msd(X, method="pairs")
    assert np.allclose(pairs.msd, c.msd, rtol=1e-9, atol=0)
    trimmed = anodiff.msd(X, min_lag=5, max_lag=50)
    assert trimmed.lag[0] == 5 and trimmed.lag[-1] == 50 and np.array_equal(trimmed.msd, c.msd[4:50])
    assert anodiff.msd(X.astype(np.float32)).msd.dtype == np.float64


def test_post_analysis_matches_cpp(data, tmp_path):
    ref = cpp_reference(data["dir"], tmp_path, 100)
    parts = anodiff.post_analysis(data["dir"], part_length=100)
    assert len(parts) == 3
    for r in parts:
        p = f"part_{r.part.index}_"
        assert np.array_equal(r.msd.msd, ref(p + "msd_msd"))
        assert np.array_equal(r.aging.msd, ref(p + "aging_msd"))
        assert np.array_equal(r.beta.beta, ref(p + "beta"))
        f = r.fit
        numbers = [f.early_exponent, f.early_error, f.late_exponent, f.late_error, f.crossover, f.crossover_error,
                   f.breakpoint, f.noise_floor, f.floor_share, f.single_exponent, f.single_error, f.lag_min,
                   f.lag_max, f.points, f.rms, f.valid, f.crossover_found]
        assert np.array_equal(np.array(numbers, dtype=float), ref(p + "fit"), equal_nan=True)
        bands = [r.short_band.median, r.short_band.q25, r.short_band.q75, r.long_band.median, r.long_band.q25,
                 r.long_band.q75]
        assert np.array_equal(np.array(bands), ref(p + "bands"), equal_nan=True)
        assert np.array_equal(r.step_length, ref(p + "step_length"))
        assert np.array_equal(r.mean_contour, ref(p + "mean_contour"))
        assert np.array_equal(r.msd_contour.mean, ref(p + "msd_contour"), equal_nan=True)
        assert np.array_equal(r.msl_log.mean, ref(p + "msl_log"), equal_nan=True)
        assert np.array_equal(np.array([r.tail_index]), ref(p + "tail_index"), equal_nan=True)
        assert np.array_equal(np.concatenate([h.density for h in r.histograms]), ref(p + "histograms"), equal_nan=True)
        assert [m.component for m in r.motion] == ["all", "radial", "angular"]  # the layout has a group
        for m in r.motion:
            assert np.array_equal(m.msd.msd, ref(p + "motion_" + m.component + "_msd"))
    # The same analysis from the array (no layout, loss given) agrees on what does not need the layout.
    arr = anodiff.post_analysis(data["X"], part_length=100, loss=anodiff.load_trajectory(data["dir"]).loss)
    assert np.array_equal(arr[1].msl_log.mean, parts[1].msl_log.mean, equal_nan=True)
    assert [m.component for m in arr[0].motion] == ["all"]
    table = anodiff.summary_table(parts)
    assert isinstance(table, str) and len(table.splitlines()) >= 3


def test_write_post_analysis(data, tmp_path):
    parts = anodiff.post_analysis(data["X"], part_length=150)
    anodiff.write_post_analysis(parts, tmp_path / "out")
    msd = np.genfromtxt(tmp_path / "out" / "msd.csv", delimiter=",", names=True)
    assert len(msd) == 2 * 149
    assert np.allclose(msd["msd"][:149], parts[0].msd.msd, rtol=1e-9)


def test_per_layer_msd(data, tmp_path):
    ref = cpp_reference(data["dir"], tmp_path, 100)
    total = anodiff.msd(data["dir"], part_length=100)
    for by, names in (("tensor", ["conv.weight", "conv.bias", "fc.weight"]), ("layer", ["conv", "fc"]),
                      ("group", ["group_0", "ungrouped"])):
        layers = anodiff.per_layer_msd(data["dir"], by=by, part_length=100)
        assert [l.name for l in layers] == names
        assert sum(l.dimension for l in layers) == D
        for i, layer in enumerate(layers):
            for c in layer.parts:
                assert np.array_equal(c.msd, ref(f"layer_{by}_{i}_{c.part}_msd"))
        for k in range(3):
            assert np.allclose(sum(l.parts[k].msd for l in layers), total[k].msd, rtol=1e-12)
    anodiff.write_per_layer_msd(layers, str(tmp_path / "per_layer_msd.csv"))
    assert (tmp_path / "per_layer_msd.csv").read_text().startswith("part,start,name,dimension,lag,msd\n")
    with pytest.raises(ValueError, match="no layout"):
        anodiff.per_layer_msd(data["X"])
    with pytest.raises(ValueError, match="expected tensor, layer or group"):
        anodiff.per_layer_msd(data["dir"], by="neuron")


def test_exponents_and_fits(data):
    c = anodiff.msd(data["X"])
    beta = anodiff.local_exponent(c, 20)
    assert len(beta) == len(c) - 20
    expected = np.log(c.msd[20:] / c.msd[:-20]) / np.log(c.lag[20:] / c.lag[:-20])
    assert np.allclose(beta.beta, expected, rtol=1e-12)
    fit = anodiff.fit_crossover(c)
    again = anodiff.fit_crossover(c.lag, c.msd)
    assert fit.valid and fit.early_exponent == again.early_exponent and fit.crossover_found == again.crossover_found
    plain = anodiff.fit_crossover(c, noise_floor=False, min_lag=2)
    assert plain.noise_floor == 0 and plain.lag_min == 2
    assert anodiff.fit_crossover(c, anodiff.CrossoverOptions(noise_floor=False, min_lag=2)).rms == plain.rms
    with pytest.raises(TypeError, match="unexpected keyword"):
        anodiff.fit_crossover(c, min_lags=2)
    short, long = anodiff.band_exponents(c)
    assert short.lag_lo == 4 and short.lag_hi == 40 and short.lags > 0 and 0.5 < short.median < 2.5
    assert long.lag_lo == 90 and long.lag_hi == 270
    same = anodiff.band_exponent(beta, 20, 4, 40)
    assert same.median == short.median
    x = np.arange(1.0, 100.0)
    law = anodiff.fit_power_law(x, 3 * x ** 1.5)
    assert law.exponent == pytest.approx(1.5) and law.prefactor == pytest.approx(3)
    rng = np.random.default_rng(1)
    assert 1.6 < anodiff.tail_index(rng.standard_normal(200000)) < 2.4
    assert np.isnan(anodiff.tail_index(np.ones(3)))
    mine = anodiff.MsdCurve(np.arange(1, 100), (np.arange(1, 100) ** 1.3).astype(float))
    assert anodiff.fit_crossover(mine).single_exponent == pytest.approx(1.3, abs=1e-3)


def test_pair_statistics(data):
    X = data["X"][:120]
    d = anodiff.pair_distances(X)
    assert len(d) == 120
    M = d.matrix()
    assert M.shape == (120, 120) and np.allclose(M, M.T) and M[3, 10] == d(3, 10)
    Xd = X.astype(np.float64)
    assert d(3, 10) == pytest.approx(np.sum((Xd[3] - Xd[10]) ** 2), rel=1e-10)
    assert np.allclose(d.msd()[1:], anodiff.msd(X, method="pairs").msd, rtol=1e-12)
    s = d.step_lengths
    assert s[0] == 0 and s[5] == pytest.approx(np.linalg.norm(Xd[5] - Xd[4]), rel=1e-10)
    contour = anodiff.contour_length(d)
    assert contour[1] == pytest.approx(np.mean(s[1:]), rel=1e-10)
    assert np.array_equal(contour, anodiff.contour_length(X))
    mc = anodiff.msd_vs_contour(d, bins=20)
    assert len(mc) == 20 and mc.count.sum() == 120 * 119 // 2
    with pytest.raises(ValueError, match="no loss"):
        anodiff.msl_vs_distance(d)
    msl = anodiff.msl_vs_distance(d, loss=np.linspace(1, 0, 120), binning="linear", bins=10)
    assert len(msl) == 10
    h = anodiff.displacement_histograms(d, rescale=True)
    assert [x.lag for x in h] == [1, 2, 4, 8, 16, 32, 64] and h[0].scale > 0


def test_ensemble(data):
    runs = [walk(seed) for seed in range(4)]
    e = anodiff.ensemble_msd(runs)
    assert e.trajectories == 4 and len(e.lag) == T - 1
    mean_ta = np.mean([anodiff.msd(r).msd for r in runs], axis=0)
    assert np.allclose(e.time_averaged_msd, mean_ta, rtol=1e-10)
    assert np.all(e.ergodicity_breaking >= 0)
    parts = anodiff.ensemble_msd(runs, part_length=100, max_lag=10)
    assert len(parts) == 3 and len(parts[2].lag) == 10
    with pytest.raises(ValueError):
        anodiff.ensemble_msd(runs[:1])


@pytest.mark.parametrize("bad, error, message", [
    (np.zeros((10, 4), dtype=np.int64), TypeError, "expected a float32 or float64 array"),
    (np.zeros((10, 4), dtype=np.float16), TypeError, "found dtype float16"),
    (np.zeros(10), ValueError, "expected a 2-D array"),
    (np.zeros((2, 3, 4)), ValueError, "found 3 dimensions"),
    (np.zeros((10, 0)), ValueError, "0 parameters"),
    (np.zeros((1, 4)), ValueError, "at least 2 snapshots"),
    ("/no/such/trajectory", FileNotFoundError, "/no/such/trajectory: no such file or directory"),
])
def test_bad_input_raises(bad, error, message):
    with pytest.raises(error, match=message):
        anodiff.msd(bad)


def test_non_finite_and_malformed_files(data, tmp_path):
    X = data["X"].copy()
    X[17, 5] = np.nan
    with pytest.raises(ValueError, match=r"expected finite weights, found nan at snapshot 17 .* parameter 5"):
        anodiff.msd(X)
    np.save(tmp_path / "nan.npy", X)
    with pytest.raises(ValueError, match=r"nan.npy: expected finite weights"):
        anodiff.post_analysis(str(tmp_path / "nan.npy"))
    (tmp_path / "junk.npy").write_bytes(b"not numpy at all")
    with pytest.raises(ValueError, match="junk.npy: not a numpy .npy file"):
        anodiff.load_trajectory(tmp_path / "junk.npy")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="expected chunk_NNNNNN.npy files"):
        anodiff.load_trajectory(tmp_path / "empty")
    (tmp_path / "bad_layout.csv").write_text("name,offset,size,shape,group\nw,0,7,2x3,-1\n")
    with pytest.raises(ValueError, match=r"bad_layout.csv:2: expected size = product of the shape"):
        anodiff.ParameterLayout.read_csv(tmp_path / "bad_layout.csv")
    with pytest.raises(FileNotFoundError):
        anodiff.load_trajectory(data["npy"], loss=str(tmp_path / "missing_loss.npy"))
    with pytest.raises(ValueError, match="expected 300 loss values"):
        anodiff.load_trajectory(data["npy"], loss=np.zeros(5))
    with pytest.raises(ValueError, match="method"):
        anodiff.msd(data["X"], method="gram")
    with pytest.raises(IndexError, match="3 parts"):
        anodiff.msd(data["X"], part_length=100, part=3)
    with pytest.raises(ValueError, match="window"):
        anodiff.post_analysis(data["X"], window=0)
    with pytest.raises(ValueError, match="layout covers"):
        anodiff.post_analysis(data["X"][:, :50], layout=anodiff.load_trajectory(data["dir"]).layout)


def test_gil_released_during_msd():
    X = walk(3, T=512, D=60000)
    done = []
    worker = threading.Thread(target=lambda: done.append(anodiff.msd(X)))
    ticks, t0 = 0, time.perf_counter()
    worker.start()
    while worker.is_alive():
        ticks += 1
    elapsed = time.perf_counter() - t0
    worker.join()
    assert done and len(done[0]) == 511
    # With the GIL held for the whole call the loop could not run until it returned (a tick or two); released, it
    # spins freely (millions of ticks a second; the call takes more than 0.05 s).
    assert ticks > 1000, (ticks, elapsed)


def test_docstrings():
    for name in ["load_trajectory", "msd", "aging_msd", "local_exponent", "band_exponent", "band_exponents",
                 "fit_crossover", "fit_power_law", "tail_index", "ensemble_msd", "post_analysis",
                 "write_post_analysis", "per_layer_msd", "pair_distances", "contour_length", "msd_vs_contour",
                 "msl_vs_distance", "displacement_histograms", "diamond_square", "spectral_surface",
                 "structure_function", "hurst_exponent", "box_counting", "mean_abs_difference", "run_toy_sgd",
                 "analyse_walkers", "run_simplified_model", "Recorder", "RandomProjection", "Trajectory"]:
        doc = getattr(anodiff, name).__doc__
        assert doc and len(doc) > 60, name
    assert "part_length" in anodiff.msd.__doc__ and "certified" in anodiff.msd.__doc__


def test_load_the_studys_files(tmp_path):
    """The study's per-epoch .mat (savemat's cell array per step) and .h5 files load to the positions they hold."""
    sio = pytest.importorskip("scipy.io")
    h5py = pytest.importorskip("h5py")
    if not (anodiff.have_matio() and anodiff.have_hdf5()):
        pytest.skip("built without libmatio or HDF5")
    rng = np.random.default_rng(3)
    shapes, S = [(3, 2, 2, 2), (3,), (4, 3)], 6
    D = sum(int(np.prod(s)) for s in shapes)
    X = rng.standard_normal((3 * S, D)).astype(np.float32)
    loss = rng.random(3 * S)
    (tmp_path / "mat").mkdir()
    (tmp_path / "h5").mkdir()
    for e in range(3):
        rows = X[e * S:(e + 1) * S]
        cells = np.empty((S, len(shapes)), dtype=object)
        for i, row in enumerate(rows):
            offset = 0
            for j, shape in enumerate(shapes):
                n = int(np.prod(shape))
                cells[i, j] = row[offset:offset + n].reshape(shape)
                offset += n
        sio.savemat(tmp_path / "mat" / f"model_{e + 1}_sub_loss_w.mat",
                    {"sub_weights": cells, "sub_loss": list(loss[e * S:(e + 1) * S])})
        with h5py.File(tmp_path / "h5" / f"model_{e + 1}_sub_loss_w.h5", "w") as f:
            f["sub_weights"] = rows
            f["sub_loss"] = loss[e * S:(e + 1) * S]
    for source in (tmp_path / "mat", tmp_path / "h5"):
        t = anodiff.load_trajectory(source)
        assert (len(t), t.dimension) == (3 * S, D)
        assert np.array_equal(t.positions, X.astype(np.float64))
        assert np.allclose(t.loss, loss, rtol=1e-12)
        assert t.source == str(source) and "from" in repr(t)
        assert np.array_equal(anodiff.msd(t).msd, anodiff.msd(X).msd)
    one = anodiff.load_trajectory(tmp_path / "h5" / "model_2_sub_loss_w.h5")
    assert np.array_equal(one.positions, X[S:2 * S].astype(np.float64))
    with pytest.raises(ValueError, match="model_1_sub_loss_w.mat"):
        (tmp_path / "bad").mkdir()
        sio.savemat(tmp_path / "bad" / "model_1_sub_loss_w.mat", {"sub_loss": [1.0]})
        anodiff.load_trajectory(tmp_path / "bad")
