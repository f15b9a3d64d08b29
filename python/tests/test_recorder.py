"""anodiff.Recorder: the C++ trajectory format, durability, resume after SIGKILL, projection, layout, the programs."""
import filecmp
import os
import re
import signal
import subprocess
import sys

import numpy as np
import pytest

import anodiff
from conftest import cpp_reference, program

torch = pytest.importorskip("torch")
HERE = os.path.dirname(os.path.abspath(__file__))
EPOCHS = 4  # 10 steps an epoch: chunk 0 (the initial weights) + one chunk per epoch


def run(path, kill=None):
    args = [sys.executable, os.path.join(HERE, "recorder_run.py"), str(path), str(EPOCHS)] + ([kill] if kill else [])
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted run."""
    root = tmp_path_factory.mktemp("uninterrupted")
    r = run(root / "trajectory")
    assert r.returncode == 0, r.stderr
    return root


def same_files(a, b):
    names = sorted(n for n in os.listdir(a) if n != "recorder_checkpoint.pt")
    assert names == sorted(n for n in os.listdir(b) if n != "recorder_checkpoint.pt")
    for n in names:
        assert filecmp.cmp(os.path.join(a, n), os.path.join(b, n), shallow=False), n


def test_format_is_the_cpp_writers(reference, tmp_path):
    traj = reference / "trajectory"
    names = sorted(os.listdir(traj))
    assert names == ["chunk_%06d.npy" % k for k in range(EPOCHS + 1)] + ["layout.csv", "recorder_checkpoint.pt",
                                                                          "steps.csv"]
    t = anodiff.load_trajectory(traj)
    assert len(t) == 1 + 10 * EPOCHS and t.dimension == 868
    assert list(t.steps) == ["step", "epoch", "loss", "grad_norm", "lr"]
    assert np.array_equal(t.steps["step"], np.arange(41)) and t.steps["epoch"][-1] == EPOCHS
    assert np.all(np.isfinite(t.loss[1:])) and np.isnan(t.loss[0])
    assert t.steps["lr"][1] == 0.05 and t.steps["lr"][-1] == 0.025  # StepLR: halved after epoch 2
    # The C++ TrajectoryWriter and ParameterLayout::write_csv, given the same rows, write the same bytes.
    exe = os.environ.get("ANODIFF_CPP_REFERENCE")
    if not exe:
        pytest.skip("ANODIFF_CPP_REFERENCE is not set")
    subprocess.run([exe, "rewrite", str(traj), str(tmp_path / "cpp"), ",".join(["1"] + ["10"] * EPOCHS)], check=True)
    same_files(traj, tmp_path / "cpp")


def test_layout_groups(reference):
    layout = anodiff.ParameterLayout.read_csv(reference / "trajectory" / "layout.csv")
    assert [(x.name, x.offset, x.size, x.group) for x in layout.tensors][:3] == [
        ("0.weight", 0, 640, 0), ("0.bias", 640, 32, 0), ("1.weight", 672, 32, -1)]  # Linear -> BatchNorm1d
    assert layout.dimension == 868 and layout.groups == 1
    rows = anodiff.parameter_layout(torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4)), groups=None)
    assert [r[4] for r in rows] == [-1, -1, -1, -1]


def test_projection_matches_cpp(reference, tmp_path):
    ref = cpp_reference(reference / "trajectory", tmp_path, 0, projection=(50, 7))
    p = anodiff.load_trajectory(reference / "projection")
    assert p.dimension == 50
    assert np.array_equal(p.positions.astype(np.float64), ref("projection"))  # bit for bit
    sketch = anodiff.RandomProjection(868, 50, 7)
    w = anodiff.load_trajectory(reference / "trajectory").positions
    assert np.array_equal(sketch.apply(w), p.positions)


# Whether the restart resumes: after a checkpoint it must; killed at step 1 the initial chunk may or may not be on disk
# yet (the worker writes it); killed while writing chunk 0 it starts over.
@pytest.mark.parametrize("kill, resumes", [("step:25", True), ("written:2", True), ("committed:3", True),
                                           ("step:1", None), ("written:0", False)])
def test_sigkill_and_resume_equals_uninterrupted(reference, tmp_path, kill, resumes):
    path = tmp_path / "trajectory"
    r = run(path, kill)
    assert r.returncode == -signal.SIGKILL, (r.stdout, r.stderr)
    # What is on disk after the kill is a valid trajectory of complete chunks (temporary files are not chunks).
    names = os.listdir(path)
    if kill.startswith("written"):
        assert any(n.endswith(".tmp") for n in names), names  # the complete chunk under its temporary name
    if any(re.fullmatch(r"chunk_[0-9]{6}\.npy", n) for n in names):
        t = anodiff.load_trajectory(path)
        assert np.array_equal(t.positions, anodiff.load_trajectory(reference / "trajectory").positions[:len(t)])
    r = run(path)
    assert r.returncode == 0, r.stderr
    if resumes is not None:
        assert ("resumed True" in r.stdout) == resumes, r.stdout
    assert not [n for n in os.listdir(path) if n.endswith(".tmp")]
    same_files(path, reference / "trajectory")
    same_files(tmp_path / "projection", reference / "projection")


def test_two_lines_and_errors(tmp_path):
    model = torch.nn.Linear(5, 3)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = torch.randn(32, 5), torch.randn(32, 3)
    with anodiff.Recorder(model, tmp_path / "t", optimizer=opt, columns=["lr"]) as rec:
        for _ in range(7):
            loss = ((model(x) - y) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            rec.step(loss)
        with pytest.raises(TypeError, match="no column"):
            rec.step(loss, momentum=0.9)
    t = anodiff.load_trajectory(tmp_path / "t")
    assert len(t) == 8  # the initial weights and 7 steps (the refused step recorded nothing)
    assert np.array_equal(t.positions[-1], anodiff.flat_parameters(model))
    assert t.steps["epoch"][-1] == 1 and t.steps["lr"][3] == pytest.approx(0.1)
    with pytest.raises(ValueError, match="expected a chunk of 6 parameters"):
        anodiff.Recorder(torch.nn.Linear(3, 2, bias=False), tmp_path / "t")
    with pytest.raises(ValueError, match="projection"):
        anodiff.Recorder(model, tmp_path / "u", weights=False)


def test_post_analysis_program_reads_a_python_recording(reference, tmp_path):
    exe = program("anodiff-post-analysis")
    out = tmp_path / "analysis"
    r = subprocess.run([exe, "--trajectory", str(reference / "trajectory"), "--part-length", "20", "--no-plots",
                        "--out", str(out)], capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert r.returncode == 0, r.stderr
    msd = np.genfromtxt(out / "msd.csv", delimiter=",", names=True)
    mine = anodiff.msd(reference / "trajectory", part_length=20)
    assert np.allclose(msd["msd"], np.concatenate([c.msd for c in mine]), rtol=1e-9)
    motion = np.genfromtxt(out / "motion_msd.csv", delimiter=",", names=True, dtype=None, encoding=None)
    assert {"all", "radial", "angular"} <= set(motion["component"])  # the layout's group was used
    msl = np.genfromtxt(out / "msl.csv", delimiter=",", names=True, dtype=None, encoding=None)
    assert np.isfinite(msl["msl"].astype(float)).any()  # the recorded losses were read


def test_per_layer_program_matches_python(reference, tmp_path):
    exe = program("anodiff-post-analysis")
    out = tmp_path / "analysis"
    r = subprocess.run([exe, "--trajectory", str(reference / "trajectory"), "--part-length", "20", "--no-plots",
                        "--per-layer=layer", "--out", str(out)], capture_output=True, text=True,
                       env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert r.returncode == 0, r.stderr
    import csv
    rows = list(csv.DictReader(open(out / "per_layer_msd.csv")))
    layers = anodiff.per_layer_msd(reference / "trajectory", by="layer", part_length=20)
    assert list(dict.fromkeys(r["name"] for r in rows)) == [l.name for l in layers]
    for l in layers:
        mine = np.concatenate([c.msd for c in l.parts])
        assert np.allclose([float(r["msd"]) for r in rows if r["name"] == l.name], mine, rtol=1e-9)


def _sharded_loop(path, steps=12, epochs=2):
    """One deterministic loop recorded three ways at once: the whole model, and its modules split between two shard
    Recorders (the first Linear + BatchNorm, then the last Linear)."""
    torch.manual_seed(3)
    model = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.BatchNorm1d(8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x, y = torch.randn(64, 6), torch.randn(64, 3)
    whole = anodiff.Recorder(model, path / "whole", optimizer=opt)
    first = anodiff.Recorder(model[:2], path / "sharded", shard=(0, 2), optimizer=opt)
    second = anodiff.Recorder(model[2:], path / "sharded", shard=(1, 2))
    for _ in range(epochs):
        for _ in range(steps):
            loss = ((model(x) - y) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            for rec in (whole, first, second):
                rec.step(loss)
        for rec in (whole, first, second):
            rec.end_epoch()
    for rec in (whole, first, second):
        rec.close()


def test_sharded_recording_reads_as_the_whole(tmp_path):
    _sharded_loop(tmp_path)
    assert sorted(n for n in os.listdir(tmp_path / "sharded")) == ["shard_000", "shard_001"]
    whole = anodiff.load_trajectory(tmp_path / "whole")
    sharded = anodiff.load_trajectory(tmp_path / "sharded")
    assert len(sharded) == len(whole) == 25 and sharded.dimension == whole.dimension == 6 * 8 + 8 + 8 + 8 + 8 * 3 + 3
    assert [len(s) for s in sharded.shards] == [25, 25]
    assert [s.dimension for s in sharded.shards] == [72, 27]
    assert [s.column_offset for s in sharded.shards] == [0, 72]
    assert sharded.chunks == [] and len(sharded.shards[1].chunks) == 3
    assert np.array_equal(sharded.positions, whole.positions)  # a copy, side by side
    assert np.array_equal(sharded.shards[1].positions, whole.positions[:, 72:])
    assert np.array_equal(sharded.read(3, 5), whole.read(3, 5))
    assert np.array_equal(sharded.steps["step"], whole.steps["step"])
    assert np.array_equal(sharded.loss[1:], whole.loss[1:])
    # The layout of the whole: the shards' layouts, offsets shifted (names are each shard module's own).
    lw, ls = whole.layout, sharded.layout
    assert [(t.offset, t.size, t.shape, t.group) for t in ls.tensors] == [
        (t.offset, t.size, t.shape, t.group) for t in lw.tensors]
    assert sharded.shards[1].layout.tensors[0].offset == 0
    # Every analysis takes the sharded trajectory through the C++ object, reading the shards in place.
    for a, b in zip(anodiff.msd(sharded, part_length=12), anodiff.msd(whole, part_length=12)):
        assert np.allclose(a.msd, b.msd, rtol=1e-12, atol=0)
    pa, pb = anodiff.post_analysis(sharded, part_length=12), anodiff.post_analysis(whole, part_length=12)
    assert [m.component for m in pa[0].motion] == [m.component for m in pb[0].motion] == ["all", "radial", "angular"]
    assert np.allclose(pa[1].motion[2].msd.msd, pb[1].motion[2].msd.msd, rtol=1e-12)
    assert anodiff.msd(tmp_path / "sharded", part_length=12)[0].msd[5] == pytest.approx(
        anodiff.msd(whole, part_length=12)[0].msd[5], rel=1e-12)


def test_sharded_recorder_resumes_at_the_checkpoint_every_shard_has(tmp_path):
    _sharded_loop(tmp_path, epochs=2)
    shard0, shard1 = tmp_path / "sharded" / "shard_000", tmp_path / "sharded" / "shard_001"
    checkpoints = sorted(n for n in os.listdir(shard0) if n.startswith("recorder_checkpoint"))
    assert checkpoints == ["recorder_checkpoint_000000000013.pt", "recorder_checkpoint_000000000025.pt"]
    # A kill between the shards' last checkpoints: shard 1 lacks epoch 2's chunk and checkpoint.
    os.remove(shard1 / "chunk_000002.npy")
    os.remove(shard1 / "recorder_checkpoint_000000000025.pt")
    t = anodiff.load_trajectory(tmp_path / "sharded")
    assert len(t) == 13 and len(t.shards[0]) == 13  # shard 0's extra chunk is not read
    model = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.BatchNorm1d(8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    first = anodiff.Recorder(model[:2], tmp_path / "sharded", shard=(0, 2))
    second = anodiff.Recorder(model[2:], tmp_path / "sharded", shard=(1, 2))
    assert first.resumed and second.resumed and first.epoch == second.epoch == 1
    assert not os.path.exists(shard0 / "chunk_000002.npy")  # dropped back to the common checkpoint
    assert not os.path.exists(shard0 / "recorder_checkpoint_000000000025.pt")
    first.close(), second.close()
    with pytest.raises(ValueError, match="shard"):
        anodiff.Recorder(model, tmp_path / "x", shard=(2, 2))
    with pytest.raises(ValueError, match="projection"):
        anodiff.Recorder(model, tmp_path / "x", shard=(0, 2), projection=5)


_SHARDED_RUN = r"""
import os, signal, sys
import torch
import anodiff
path, kill = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else None)
torch.set_num_threads(1)
torch.manual_seed(3)
model = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.BatchNorm1d(8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
x, y = torch.randn(64, 6), torch.randn(64, 3)
first = anodiff.Recorder(model[:2], path, shard=(0, 2), optimizer=opt)
second = anodiff.Recorder(model[2:], path, shard=(1, 2))
assert first.epoch == second.epoch, (first.epoch, second.epoch)
if kill:  # SIGKILL right after a checkpoint of shard 0 of epoch 1 or later, wherever shard 1's worker is
    import time
    def newest(recorder):  # snapshots of the recorder's newest checkpoint: 1 + 5 per epoch
        return max(recorder._shard_checkpoints(recorder._home), default=0)
    def hook(stage):
        if stage == "checkpoint" and newest(first) >= 6:
            # Shard 1 is given the time to write a checkpoint of epoch 1 or later too (its worker runs on): a kill
            # with only the initial checkpoint common to both shards would leave nothing to resume.
            for _ in range(3000):
                if newest(second) >= 6:
                    break
                time.sleep(0.01)
            os.kill(os.getpid(), signal.SIGKILL)
    first._hook = hook
print("resumed", first.resumed, first.epoch, flush=True)
for epoch in range(first.epoch + 1, 4):
    for _ in range(5):
        loss = ((model(x) - y) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        first.step(loss)
        second.step(loss)
    first.end_epoch()
    second.end_epoch()
first.close()
second.close()
"""


def test_sharded_recording_sigkill_and_resume_equals_uninterrupted(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}

    def run(path, *kill):
        return subprocess.run([sys.executable, "-c", _SHARDED_RUN, str(path), *kill], env=env, capture_output=True,
                              text=True, timeout=300)

    r = run(tmp_path / "straight")
    assert r.returncode == 0, r.stderr
    r = run(tmp_path / "killed", "kill")
    assert r.returncode == -signal.SIGKILL, (r.stdout, r.stderr)
    t = anodiff.load_trajectory(tmp_path / "killed")  # loads, at the snapshots common to both shards
    straight = anodiff.load_trajectory(tmp_path / "straight")
    assert np.array_equal(t.positions, straight.positions[:len(t)])
    r = run(tmp_path / "killed")
    assert r.returncode == 0, r.stderr
    assert "resumed True" in r.stdout, r.stdout
    t = anodiff.load_trajectory(tmp_path / "killed")
    assert len(t) == len(straight) == 16
    assert np.array_equal(t.positions, straight.positions)
    assert np.array_equal(t.steps["step"], straight.steps["step"])
