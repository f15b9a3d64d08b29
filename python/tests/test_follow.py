"""anodiff.follow: the parts of a trajectory analysed while anodiff.Recorder writes it (a subprocess), equal bit for
bit to post_analysis() of the finished run; sharded recordings; the CSVs written as it goes; its errors."""
import filecmp
import os
import subprocess
import sys
import time

import numpy as np
import pytest

import anodiff

torch = pytest.importorskip("torch")
HERE = os.path.dirname(os.path.abspath(__file__))


def same_part(a, b):
    assert (a.part.index, a.part.start, a.part.count) == (b.part.index, b.part.start, b.part.count)
    for name in ("lag", "msd"):
        assert np.array_equal(getattr(a.msd, name), getattr(b.msd, name))
    assert np.array_equal(a.beta.beta, b.beta.beta, equal_nan=True)
    assert np.array_equal(a.aging.msd, b.aging.msd)
    assert np.array_equal(a.step_length, b.step_length)
    for name in ("early_exponent", "late_exponent", "crossover"):
        assert np.array_equal(getattr(a.fit, name), getattr(b.fit, name), equal_nan=True)
    assert np.array_equal(a.short_band.median, b.short_band.median, equal_nan=True)


def test_follow_a_recording_in_progress_equals_the_batch_analysis(tmp_path):
    path, out = tmp_path / "trajectory", tmp_path / "followed"
    epochs = 8  # 10 steps an epoch: 81 snapshots, 4 parts of 20
    env = {**os.environ, "OMP_NUM_THREADS": "1", "RECORDER_RUN_EPOCH_PAUSE": "0.4"}
    writer = subprocess.Popen([sys.executable, os.path.join(HERE, "recorder_run.py"), str(path), str(epochs)],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    parts, live = [], 0
    try:
        for part in anodiff.follow(path, 20, until_epoch=epochs, poll_seconds=0.5, out=out):
            parts.append(part)
            live += writer.poll() is None  # yielded while the writer was still recording
    finally:
        _, err = writer.communicate(timeout=300)
    assert writer.returncode == 0, err
    assert [p.part.index for p in parts] == [0, 1, 2, 3]
    assert live >= 2, "the parts came only after the run ended: nothing was followed"
    batch = anodiff.post_analysis(path, part_length=20)
    assert len(batch) == 4
    for a, b in zip(parts, batch):
        same_part(a, b)
    anodiff.write_post_analysis(batch, tmp_path / "batch")
    names = sorted(os.listdir(tmp_path / "batch"))
    assert "msd.csv" in names and "fit.csv" in names and sorted(os.listdir(out)) == names
    for name in names:
        assert filecmp.cmp(out / name, tmp_path / "batch" / name, shallow=False), name


def test_follow_a_sharded_recording_and_end_when_idle(tmp_path):
    from test_recorder import _sharded_loop

    _sharded_loop(tmp_path, steps=12, epochs=4)  # 49 snapshots: 4 parts of 12
    t0 = time.monotonic()
    parts = list(anodiff.follow(tmp_path / "sharded", 12, idle_seconds=0.5, poll_seconds=0.1))
    assert time.monotonic() - t0 < 30
    batch = anodiff.post_analysis(tmp_path / "sharded", part_length=12)
    assert len(parts) == len(batch) == 4
    for a, b in zip(parts, batch):
        same_part(a, b)
    whole = anodiff.post_analysis(tmp_path / "whole", part_length=12)
    np.testing.assert_allclose(parts[3].msd.msd, whole[3].msd.msd, rtol=1e-9)  # the shards read as the whole


def test_follow_ends_at_until_snapshots_and_refuses_bad_options(tmp_path):
    from test_recorder import _sharded_loop

    _sharded_loop(tmp_path, steps=12, epochs=2)  # 25 snapshots
    path = tmp_path / "whole"
    parts = list(anodiff.follow(path, 10, until_snapshots=25, poll_seconds=0.1))
    assert [p.part.index for p in parts] == [0, 1]
    with pytest.raises(ValueError, match="part_length must be positive"):
        anodiff.follow(path, 0)  # at the call, not at the first part
    with pytest.raises(ValueError, match="short band needs 1 <= lo < hi"):
        anodiff.follow(path, 10, short_band=(40, 4))
