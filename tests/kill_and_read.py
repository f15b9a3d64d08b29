#!/usr/bin/python3
"""A reader under a hostile writer (issue 26): a writer is killed with SIGKILL at random moments, KILLS times,
restarted after each kill (it resumes from its last complete epoch), then run to its end, while beside it

  - anodiff-post-analysis --follow --until-epoch E analyses the parts as they complete, and
  - a loop of anodiff.load_trajectory + anodiff.msd (in this process) reads whatever is there,

for each writer: anodiff-train (fc3 on Fashion-MNIST, 2 steps an epoch) and anodiff.Recorder
(python/tests/recorder_run.py). Checked: the loop reader never fails and never sees a torn chunk (every load is a
prefix of the uninterrupted run's trajectory, bit for bit: each chunk's last snapshot compared), the follower exits 0
with every CSV equal to a batch post-analysis of the finished run, and the final trajectory (every chunk and
steps.csv) equals an uninterrupted run's. Prints the kills, where they fell and the reads.
Usage: kill_and_read.py BINDIR WORKDIR [KILLS] [SEED]   (PYTHONPATH: the built anodiff package)"""
import filecmp
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time

import numpy as np

import anodiff

bindir, work = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
kills = int(sys.argv[3]) if len(sys.argv) > 3 else 50
rng = random.Random(int(sys.argv[4]) if len(sys.argv) > 4 else 1)
here = os.path.dirname(os.path.abspath(__file__))
env = {**os.environ, "OMP_NUM_THREADS": "1"}
failures = []


def check(ok, what):
    print(("ok: " if ok else "FAIL: ") + what, flush=True)
    if not ok:
        failures.append(what)


class LoopReader(threading.Thread):
    """load_trajectory + msd over and over until stopped; every load must be a prefix of `reference`."""

    def __init__(self, path, reference):
        super().__init__(daemon=True)
        self.path, self.reference = path, reference
        self.stop, self.loads, self.snapshots, self.errors = threading.Event(), 0, 0, []

    def run(self):
        while not self.stop.is_set():
            if not os.path.exists(os.path.join(self.path, "chunk_000000.npy")):
                time.sleep(0.01)  # nothing recorded yet (the first life may be killed before its first chunk)
                continue
            try:
                t = anodiff.load_trajectory(self.path)
                n = t.positions.shape[0]
                if n >= 2:
                    anodiff.msd(t, max_lag=min(n - 1, 10))
                # A torn or foreign chunk would differ from the uninterrupted run at the chunk's last snapshot.
                ends = np.cumsum([c.shape[0] for c in t.chunks]) - 1
                for e in ends:
                    if not np.array_equal(t.positions[e], self.reference[e]):
                        raise AssertionError(f"snapshot {e} differs from the uninterrupted run's")
                self.loads += 1
                self.snapshots = max(self.snapshots, n)
            except Exception as e:  # noqa: BLE001 (every failure is a finding)
                self.errors.append(f"{type(e).__name__}: {e}")
            time.sleep(0.005)


def same_trajectory(a, b):
    names = sorted(n for n in os.listdir(a) if n.startswith("chunk_") or n == "steps.csv")
    return names == sorted(n for n in os.listdir(b) if n.startswith("chunk_") or n == "steps.csv") and all(
        filecmp.cmp(os.path.join(a, n), os.path.join(b, n), shallow=False) for n in names)


def chunk_count(path):
    try:
        return sum(1 for n in os.listdir(path) if n.startswith("chunk_") and n.endswith(".npy"))
    except FileNotFoundError:
        return 0


def wait_then_kill(p, path, startup, epoch_seconds):
    """Kills `p` at a random moment: one life in five during its start (loading, resuming: uniform in `startup`
    seconds, or at its first new chunk if that comes sooner: a fast start must not run on to the end), the others 0
    to `epoch_seconds` after the 1st or 2nd chunk it adds (within its next epoch: computing, writing steps.csv, the
    chunk, the checkpoint). Returns where, or None if `p` ended first."""
    if rng.random() < 0.2:
        deadline, chunks = time.monotonic() + rng.uniform(0, startup), chunk_count(path)
        while p.poll() is None and time.monotonic() < deadline and chunk_count(path) == chunks:
            time.sleep(0.002)
        where = "start"
    else:
        target = chunk_count(path) + rng.randint(1, 2)
        while p.poll() is None and chunk_count(path) < target:
            time.sleep(0.002)
        time.sleep(rng.uniform(0, epoch_seconds))
        where = "epoch"
    if p.poll() is not None:
        return None
    p.send_signal(signal.SIGKILL)
    p.wait()
    return where


def torture(name, command, trajectory, epochs, part_length, startup, epoch_seconds, extra_env=None):
    """Runs `command` (its output under work/name/run) KILLS times killed at a random moment (wait_then_kill), then
    to its end, beside a follower and a loop reader; compares with an uninterrupted run (work/name/ref)."""
    root = os.path.join(work, name)
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(root)
    e = {**env, **(extra_env or {})}
    ref = subprocess.run(command("ref"), cwd=root, env=e, capture_output=True, text=True, timeout=600)
    check(ref.returncode == 0, f"{name}: the uninterrupted run exits 0 ({ref.stderr[-300:]})")
    ref_path = os.path.join(root, trajectory("ref"))
    reference = anodiff.load_trajectory(ref_path).positions
    path = os.path.join(root, trajectory("run"))
    follower = subprocess.Popen(
        [os.path.join(bindir, "anodiff-post-analysis"), "--trajectory", path, "--part-length", str(part_length),
         "--follow", "--until-epoch", str(epochs), "--poll-seconds", "0.5", "--no-plots", "--out",
         os.path.join(root, "followed")], cwd=root, env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    reader = LoopReader(path, reference)
    reader.start()
    done, broken, deaths, lives, places = False, False, 0, 0, {"start": 0, "epoch": 0}
    t0 = time.monotonic()
    while deaths < kills and not done:
        p = subprocess.Popen(command("run"), cwd=root, env=e, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        lives += 1
        where = wait_then_kill(p, path, startup, epoch_seconds)
        if where:
            deaths += 1
            places[where] += 1
        else:
            done = p.returncode == 0
            if not done:
                check(False, f"{name}: life {lives} exited {p.returncode}: {p.stderr.read()[-300:]}")
                broken = True
                break
        p.stderr.close()
    snapshots_at_last_kill = reader.snapshots
    while not done and not broken:  # the rest of the run, uninterrupted (this writer's, whatever the other's did)
        done = subprocess.run(command("run"), cwd=root, env=e, capture_output=True, timeout=600).returncode == 0
        lives += 1
    try:
        out, err = follower.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        follower.kill()
        out, err = follower.communicate()
    reader.stop.set()
    reader.join()
    print(f"{name}: {deaths} SIGKILLs in {lives} lives ({time.monotonic() - t0:.0f} s; {places['start']} while "
          f"starting, {places['epoch']} within an epoch), {snapshots_at_last_kill} of "
          f"{len(reference)} snapshots recorded at the last kill; the loop reader loaded the trajectory "
          f"{reader.loads} times", flush=True)
    check(deaths == kills, f"{name}: the writer was killed {deaths} times (asked {kills})")
    check(not reader.errors, f"{name}: the loop reader never failed ({len(reader.errors)} errors: "
                             f"{reader.errors[:3]})")
    check(reader.loads >= kills, f"{name}: the loop reader read the trajectory at least once a life")
    check(same_trajectory(path, ref_path), f"{name}: the final trajectory equals the uninterrupted run's")
    check(follower.returncode == 0, f"{name}: the follower exits 0 ({err.strip().splitlines()[-1:]})")
    batch = subprocess.run([os.path.join(bindir, "anodiff-post-analysis"), "--trajectory", path, "--part-length",
                            str(part_length), "--no-plots", "--out", os.path.join(root, "batch")], cwd=root, env=e,
                           capture_output=True, text=True)
    check(batch.returncode == 0 and out == batch.stdout, f"{name}: the follower's summary equals the batch's")
    csvs = sorted(n for n in os.listdir(os.path.join(root, "batch")) if n.endswith(".csv"))
    check(len(csvs) >= 10 and all(filecmp.cmp(os.path.join(root, "batch", n), os.path.join(root, "followed", n),
                                              shallow=False) for n in csvs),
          f"{name}: the follower's {len(csvs)} CSVs equal the batch post-analysis of the finished run")


# anodiff-train: fc3 (114,000 parameters) on 128 Fashion-MNIST images, batch 64: 2 steps an epoch (about 25 ms with
# its chunk and checkpoint), 150 epochs (301 snapshots, 137 MB; parts of 50); starting (LibTorch, the data, a resume)
# takes 1.5-2 s. A life killed within an epoch gets 2-3 epochs further on an idle machine (50 kills took 94 epochs
# once), so 100 epochs were too few for 50 kills.
train_epochs = 150
torture("train",
        lambda out: [os.path.join(bindir, "anodiff-train"), "--model", "fc3", "--dataset", "fashion-mnist",
                     "--epochs", str(train_epochs), "--batch_size", "64", "--limit-train", "128", "--limit-test", "64",
                     "--noaug", "--lr", "0.1", "--momentum", "0.9", "--run-name", "r", "--out", out, "--no-plots",
                     "--quiet"],
        lambda out: os.path.join(out, "r", "trajectory"), train_epochs, 50, 2.0, 0.03)
# anodiff.Recorder: recorder_run.py's deterministic loop (10 steps an epoch and a pause of 0.02 s), 100 epochs (1,001
# snapshots, parts of 250); importing torch takes about 1 s.
recorder_epochs = 100
torture("recorder",
        lambda out: [sys.executable, os.path.join(here, "..", "python", "tests", "recorder_run.py"),
                     os.path.join(out, "trajectory"), str(recorder_epochs)],
        lambda out: os.path.join(out, "trajectory"), recorder_epochs, 250, 1.5, 0.05,
        {"RECORDER_RUN_EPOCH_PAUSE": "0.02"})
sys.exit(1 if failures else 0)
