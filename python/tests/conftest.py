"""Shared fixtures of the anodiff Python tests: small trajectories on disk in both of anodiff's formats.

Run by ctest (label python) with PYTHONPATH pointing at build/python; ANODIFF_CPP_REFERENCE names the C++ helper
(python/tests/cpp_reference.cpp) and ANODIFF_BIN_DIR the build's example programs (never a program found on PATH).
Outside ctest the tests needing them skip. Under ctest (ANODIFF_STRICT_SKIPS=1) a skip or an xfail FAILS the run,
unless its reason matches ANODIFF_ALLOWED_SKIPS (a regular expression CMake sets for features that are optional by
design and missing from this build, e.g. HDF5 or libmatio): the test command installs every dependency, so nothing
may pass by skipping.
"""
import csv
import os
import re
import subprocess

import numpy as np
import pytest

import anodiff

T, D = 300, 120
# Three tensors: a "conv" weight (scale-invariant group 0), its bias (group 0) and a "fc" weight (no group).
LAYOUT = [("conv.weight", (4, 5, 3), 0), ("conv.bias", (4,), 0), ("fc.weight", (8, 7), -1)]


def walk(seed=0, T=T, D=D, dtype=np.float32):
    """A random walk with a slow drift (superdiffusive at short lags, then diffusive), as float32 rows."""
    rng = np.random.default_rng(seed)
    steps = rng.standard_normal((T, D)) * 1e-2
    steps += 3e-3 * np.sin(np.arange(T) / 40.0)[:, None]
    return (np.cumsum(steps, axis=0) + 0.05).astype(dtype)


def write_directory(path, X, loss, chunks=(1, 100, 100, 99), crlf=True, bom=True):
    """A trajectory directory as a Python user's recipe would write it: CRLF steps.csv (Python's csv module), a BOM,
    decoy temporary files that no reader may take for chunks, and layout.csv."""
    os.makedirs(path, exist_ok=True)
    start = 0
    for k, n in enumerate(chunks):
        np.save(os.path.join(path, f"chunk_{k:06d}.npy"), X[start:start + n])
        start += n
    assert start == len(X)
    np.save(os.path.join(path, f"chunk_{len(chunks):06d}.npy.tmp.npy"), X[:3])  # Python's np.save adds .npy
    with open(os.path.join(path, f"chunk_{len(chunks):06d}.npy.4242.tmp"), "wb") as f:
        f.write(b"\x93NUMPY garbage")
    with open(os.path.join(path, "steps.csv"), "w", newline="" if crlf else "\n", encoding="utf-8-sig" if bom else "utf-8") as f:
        w = csv.writer(f) if crlf else csv.writer(f, lineterminator="\n")
        w.writerow(["step", "epoch", "loss"])
        for t in range(len(X)):
            w.writerow([t, (t + 99) // 100, "" if t == 0 else f"{loss[t]:.9g}"])
    tensors, offset = [], 0
    for name, shape, group in LAYOUT:
        tensors.append(anodiff.ParameterTensor(name, list(shape), offset, group))
        offset += int(np.prod(shape))
    assert offset == X.shape[1]
    anodiff.ParameterLayout(tensors).write_csv(os.path.join(path, "layout.csv"))
    return path


@pytest.fixture(scope="session")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    X = walk()
    loss = np.exp(-np.arange(T) / 100.0) + 0.01 * np.cos(np.arange(T))
    npy = root / "walk.npy"
    np.save(npy, X)
    directory = write_directory(str(root / "trajectory"), X, loss)
    return {"X": X, "loss": loss, "npy": str(npy), "dir": directory, "root": root}


def cpp_reference(trajectory, out, part_length, projection=None):
    """Runs the C++ helper; returns a function reading its outputs by name."""
    exe = os.environ.get("ANODIFF_CPP_REFERENCE")
    if not exe:
        pytest.skip("ANODIFF_CPP_REFERENCE is not set (run under ctest)")
    args = [exe, str(trajectory), str(out), str(part_length)]
    if projection:
        args += [str(projection[0]), str(projection[1])]
    subprocess.run(args, check=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    return lambda name: np.load(os.path.join(out, name + ".npy"))


def program(name):
    """The path of the build's example program (ANODIFF_BIN_DIR; never one on PATH, which may be a stale installed
    copy), or skip."""
    d = os.environ.get("ANODIFF_BIN_DIR")
    if not d:
        pytest.skip(f"{name}: ANODIFF_BIN_DIR is unset (run under ctest)")
    path = os.path.join(d, name)
    if not os.path.exists(path):
        pytest.fail(f"{path}: no such program: ANODIFF_BIN_DIR names a build without {name}")
    return path


# ------------------------------------------------------------------ skips are failures under ctest
_UNJUSTIFIED = []


def _skip_reason(report):
    if hasattr(report, "wasxfail"):
        return "xfail: " + str(report.wasxfail)
    longrepr = report.longrepr
    return str(longrepr[2]) if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)


def _note_skip(report):
    if not report.skipped or os.environ.get("ANODIFF_STRICT_SKIPS") != "1":
        return
    reason = _skip_reason(report)
    allowed = os.environ.get("ANODIFF_ALLOWED_SKIPS", "")
    if not (allowed and re.search(allowed, reason)):
        _UNJUSTIFIED.append(f"{report.nodeid}: {reason}")


def pytest_runtest_logreport(report):
    _note_skip(report)


def pytest_collectreport(report):
    _note_skip(report)  # a module skipped as a whole (importorskip at module level)


def pytest_sessionfinish(session, exitstatus):
    if _UNJUSTIFIED:
        print("\nanodiff: skips that no optional feature justifies (ANODIFF_STRICT_SKIPS=1):")
        for line in _UNJUSTIFIED:
            print("  SKIP-FAIL " + line)
        session.exitstatus = 1
