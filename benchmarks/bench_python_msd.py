#!/usr/bin/python3
"""anodiff.msd from Python against the C++ call on the same buffer and against numpy's Gram MSD, in one run.

Usage: PYTHONPATH=build/python /usr/bin/python3 benchmarks/bench_python_msd.py [T=1000] [D=272474] [repeats=3]

The part is reference/msd_numpy.py's (same generator and seed: a (T, D) float32 random walk, a ResNet-20 part).
Timed, interleaved, `repeats` times each:
  python  anodiff.msd(X): the Python API on the numpy array (read in place, no copy), certified FFT, all lags;
  cpp     the C++ anodiff::msd on the same buffer, timed inside C++ (anodiff._anodiff._time_msd_cpp);
  gram    numpy's Gram-matrix MSD, the msd_gram of reference/msd_numpy.py (float64 BLAS), repeats/2 times, in a separate
          process that does not import anodiff (as a numpy user runs it; the same part, built the same way).
Prints the best time of each and the ratios python/cpp (target <= 1.1) and gram/python (target >= 3).
"""
import subprocess
import sys
import time

import numpy as np

T = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
D = int(sys.argv[2]) if len(sys.argv) > 2 else 272474
repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 3
gram_only = len(sys.argv) > 4 and sys.argv[4] == "gram"
rng = np.random.default_rng(0)
X = np.cumsum(rng.standard_normal((T, D), dtype=np.float32) * 1e-3, axis=0, dtype=np.float32) + 0.05


def msd_gram(x):  # reference/msd_numpy.py
    x = x.astype(np.float64)
    x = x - x.mean(axis=0)
    g = x @ x.T
    n = len(x)
    dg = np.diag(g)
    out = np.zeros(n)
    for lag in range(1, n):
        out[lag] = (dg[lag:] + dg[:-lag] - 2 * np.diagonal(g, lag)).mean()
    return out


if gram_only:
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        g = msd_gram(X)
        best = min(best, time.perf_counter() - t)
    print(best, g[1], g[T // 2])
    sys.exit(0)

import anodiff  # noqa: E402

python, cpp = [], []
for r in range(repeats):  # interleaved, each side first in turn
    if r % 2:
        cpp += anodiff._anodiff._time_msd_cpp(X, 1)
    t = time.perf_counter()
    c = anodiff.msd(X)
    python.append(time.perf_counter() - t)
    if r % 2 == 0:
        cpp += anodiff._anodiff._time_msd_cpp(X, 1)
del X
out = subprocess.run([sys.executable, __file__, str(T), str(D), str(max(1, repeats // 2)), "gram"], check=True, capture_output=True,
                     text=True).stdout.split()
gram, g = float(out[0]), {1: float(out[1]), T // 2: float(out[2])}
print(f"data: ({T}, {D}) float32 = {T * D * 4 / 1e9:.3f} GB; msd(1) = {c.msd[0]:.6e} (numpy gram {g[1]:.6e}), "
      f"msd(T/2) = {c.msd[T // 2 - 1]:.6e} ({g[T // 2]:.6e})")
print("python anodiff.msd: " + " ".join(f"{s:.3f}" for s in python) + " s")
print("c++ anodiff::msd:   " + " ".join(f"{s:.3f}" for s in cpp) + " s")
print(f"numpy gram:         {gram:.3f} s (best)")
print(f"ratio python / c++ = {min(python) / min(cpp):.3f} (target <= 1.1)")
print(f"ratio numpy gram / python = {gram / min(python):.2f} (target >= 3)")
