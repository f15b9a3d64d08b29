"""Surfaces, roughness, the toy SGD walker, the simplified model and the count sketch from Python."""
import numpy as np
import pytest

import anodiff


def test_fractal_surfaces_and_roughness():
    s = anodiff.diamond_square(6, seed=3)
    assert (s.rows, s.cols) == (65, 65) and s.z.shape == (65, 65) and not s.z.flags.writeable
    assert (s.x[0], s.x[-1], s.y[0]) == (1.0, 2.0, 1.0)
    assert np.array_equal(s.z, anodiff.diamond_square(6, seed=3).z)
    assert not np.array_equal(s.z, anodiff.diamond_square(6, seed=4).z)
    spec = anodiff.spectral_surface(128, 0.7, seed=1)
    sf = anodiff.structure_function(spec, q=2, max_lag=16)
    assert len(sf.lag) == 16 and np.all(np.diff(sf.value[:8]) > 0)
    h = anodiff.hurst_exponent(sf, 1, 8)
    assert 0.45 < h.hurst < 0.95
    assert anodiff.structure_function(spec.z, max_lag=16).value[3] == pytest.approx(sf.value[3])
    profile = np.cumsum(np.random.default_rng(0).standard_normal(4000))
    assert 0.4 < anodiff.hurst_exponent(anodiff.structure_function(profile), 1, 32).hurst < 0.6
    box = anodiff.box_counting(spec)
    assert 2.0 < box.dimension < 3.0 and len(box.box) == len(box.count)
    rough = anodiff.mean_abs_difference(spec, pairs=20000, bins=10)
    assert len(rough.curve) == 10 and rough.fit.exponent > 0
    mine = anodiff.Surface(np.outer(np.arange(5.0), np.ones(4)), x_range=(0, 3), y_range=(0, 4))
    assert (mine.rows, mine.cols, mine.x_max) == (5, 4, 3.0)
    assert anodiff.cone_surface(33).z.max() == pytest.approx(1.0)
    assert anodiff.shuffled_surface(s, sigma=2).z.shape == (65, 65)
    with pytest.raises(ValueError):
        anodiff.diamond_square(20)
    with pytest.raises(ValueError):
        anodiff.spectral_surface(64, 1.5)


def test_toy_sgd_and_simplified_model(tmp_path):
    land = anodiff.Landscape2D.from_heights(anodiff.diamond_square(6, seed=0), grid=201)
    assert land.size == 201 and len(land.gradient(0.1, 0.2)) == 2
    opts = anodiff.ToySgdOptions(steps=300, repeats=4, seed=5)
    walks = anodiff.run_toy_sgd(land, opts)
    paths = walks.paths
    assert len(paths) == 4 and paths[0].positions.shape == (301, 2) and len(walks.redraws) == 4
    assert np.all(np.abs(paths[0].positions) <= 1)
    again = anodiff.run_toy_sgd(land, steps=300, repeats=4, seed=5)
    assert np.array_equal(again.paths[3].positions, paths[3].positions)
    stats = anodiff.analyse_walkers(walks, opts)
    assert len(stats) == 4 and np.isfinite(stats[0].whole_exponent)
    d = anodiff.exponent_distribution([s.whole_exponent for s in stats])
    assert d.walkers == 4
    assert len(anodiff.msd(paths[0])) == 300
    with pytest.raises(TypeError, match="unexpected keyword"):
        anodiff.run_toy_sgd(land, stepz=3)
    with pytest.raises(ValueError):
        anodiff.run_toy_sgd(land, eta=-1.0)
    r = anodiff.run_simplified_model(["fractal", "convex"], sgd=anodiff.ToySgdOptions(steps=200, repeats=3), n=5,
                                     grid=101)
    assert [l.kind for l in r.landscapes] == ["fractal", "convex"]
    f = r.landscapes[0]
    assert len(f.walker_msd) == 3 and set(f.exponents) == {"whole_path", "before_trapping", "from_start",
                                                           "study_r1_segment"}
    assert len(f.ensemble.ergodicity_breaking) > 0 and isinstance(r.table(), str)
    r.write(tmp_path / "model")
    assert (tmp_path / "model" / "walker_exponents.csv").exists()
    with pytest.raises(ValueError, match="n must lie in 1..13"):
        anodiff.run_simplified_model(n=20)
    with pytest.raises(ValueError, match="landscape"):
        anodiff.run_simplified_model(["hilly"])


def test_random_projection():
    p = anodiff.RandomProjection(1000, 64, seed=9)
    x = np.random.default_rng(2).standard_normal(1000).astype(np.float32)
    y = p.apply(x)
    assert y.shape == (64,) and y.dtype == np.float32
    assert np.array_equal(p.apply(np.stack([x, 2 * x]))[1], 2 * y)
    assert np.array_equal(anodiff.RandomProjection(1000, 64, seed=9).apply(x), y)
    assert not np.array_equal(anodiff.RandomProjection(1000, 64, seed=10).apply(x), y)
    assert np.sum(y.astype(np.float64) ** 2) == pytest.approx(np.sum(x.astype(np.float64) ** 2), rel=0.5)
    with pytest.raises(ValueError, match="expected shape"):
        p.apply(np.zeros(999, dtype=np.float32))
    with pytest.raises(TypeError):
        p.apply(np.zeros(1000, dtype=np.int32))
    with pytest.raises(ValueError, match="dimensions must be positive"):
        anodiff.RandomProjection(0, 3)
