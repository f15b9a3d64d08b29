#!/usr/bin/python3
"""The scaling model of docs/scaling.md: time of the post-analysis on N nodes from one machine's measured throughput.

Usage: python3 scripts/scaling_model.py [--net BYTES_PER_S] [--disk BYTES_PER_S] [--fs BYTES_PER_S] [--cores N]

Measured on the 2-core AMD EPYC (Zen 4) VM (docs/scaling.md): a part of P = 1,000 snapshots costs A seconds that do
not depend on D (pair binning, histograms, fits; serial, repeated on every rank) plus B seconds per column on one
thread (read from the page cache, FFT MSD, increment Gram, tail index). Pair work grows as P^2. The reduction of a
part is P (P - 1) / 2 doubles (the distances above the diagonal; a ring all-reduce moves 2 (N - 1) / N of them per
rank); an MPI run pays START seconds once (mpirun, MPI_Init, MPI_Finalize). Prints a Markdown table.
"""
import argparse

A = 0.22      # s per part of 1,000 snapshots, independent of D (program start, pair binning, fits)
B = 3.3e-5    # s per column per part of 1,000, one thread
START = 0.3   # s once per MPI run: mpirun -np 2 /bin/true 0.12 s, MPI_Init 0.11 s, MPI_Finalize 0.06 s (one node)
MODELS = [("ResNet-20", 272474), ("ResNet-110", 1730714), ("10M parameters", 10_000_000)]


def part_time(D, nodes, cores, net, P=1000):
    """Compute and reduction seconds of one part of P snapshots with all pair statistics."""
    scale = (P / 1000) ** 2
    compute = A * scale + B * scale * D / (cores * nodes)
    reduction = 0.0 if nodes == 1 else 2 * (nodes - 1) / nodes * 8 * P * (P - 1) / 2 / net
    return compute, reduction


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--net", type=float, default=1.25e9, help="bytes/s between nodes (10 GbE: 1.25e9)")
    ap.add_argument("--disk", type=float, default=0.5e9, help="bytes/s read by each node from its local disk")
    ap.add_argument("--fs", type=float, default=2.0e9, help="bytes/s of a shared file system, in total")
    ap.add_argument("--cores", type=int, default=2, help="cores per node")
    a = ap.parse_args()
    print("| model | T | data (float32) | N nodes | read: local disks / shared fs | per part: compute + reduction "
          "| all parts: compute + reduction |")
    print("|---|---|---|---|---|---|---|")
    for name, D in MODELS:
        for T in (24500, 100000):
            data = 4.0 * T * D
            for N in (1, 4, 16, 64):
                c, r = part_time(D, N, a.cores, a.net)
                total = T / 1000 * (c + r) + (START if N > 1 else 0.0)
                print(f"| {name} | {T:,} | {data / 1e9:,.0f} GB | {N} | {data / (N * a.disk) / 60:,.1f} min / "
                      f"{data / a.fs / 60:,.1f} min | {c:,.1f} s + {r * 1e3:,.0f} ms | {total / 60:,.1f} min |")
    for name, D in MODELS[:2]:
        for N in (1, 16):
            c, r = part_time(D, N, a.cores, a.net, P=10000)
            print(f"\n{name}, one part of 10^4 snapshots on {N} node(s): compute {c / 60:,.1f} min, reduction {r:,.1f} s",
                  end="")
    print()


if __name__ == "__main__":
    main()
