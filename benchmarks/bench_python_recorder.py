#!/usr/bin/python3
"""The cost of anodiff.Recorder in a PyTorch training loop, against the same loop without it, in one run.

Usage: PYTHONPATH=build/python /usr/bin/python3 benchmarks/bench_python_recorder.py [batch=128] [rounds=5]
       [steps=20] [threads=2] [device=cpu]

The study's ResNet-20 (reference/study_models.py, D = 272,474) on a fixed CIFAR-shaped batch, SGD with momentum.
Each round runs `steps` steps of each loop, interleaved (the order rotated from round to round): plain (no recording), recorded (the two-line Recorder: every
step's weights, one chunk per round written durably by end_epoch() with its checkpoint), and recorded with extras
(grad_norm and lr columns, a 10,000-dimensional count sketch). Every step of every loop is timed, end_epoch()
included; prints the mean step of each and the overhead against plain (target <= 5% at batch 128 on the CPU), in
wall time and in CPU time of the process (the worker thread included; steadier on a shared machine), and the time
spent inside rec.step() and rec.end_epoch().
"""
import os
import statistics
import sys
import tempfile
import time

import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference"))
from study_models import ResNetCifar  # noqa: E402

import anodiff  # noqa: E402

batch = int(sys.argv[1]) if len(sys.argv) > 1 else 128
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
steps = int(sys.argv[3]) if len(sys.argv) > 3 else 20
torch.set_num_threads(int(sys.argv[4]) if len(sys.argv) > 4 else 2)
device = torch.device(sys.argv[5] if len(sys.argv) > 5 else "cpu")

torch.manual_seed(0)
net = ResNetCifar(20).to(device)
opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
crit = nn.CrossEntropyLoss()
x = torch.randn(batch, 3, 32, 32, device=device)
y = torch.randint(0, 10, (batch,), device=device)
net.train()


def train_step():
    opt.zero_grad()
    loss = crit(net(x), y)
    loss.backward()
    opt.step()
    return loss


def sync():
    if device.type == "cuda":
        torch.cuda.synchronize()


work = tempfile.mkdtemp(prefix="anodiff_bench_recorder_")
recorders = {
    "recorded": anodiff.Recorder(net, os.path.join(work, "plain", "trajectory"), optimizer=opt),
    "recorded+extras": anodiff.Recorder(net, os.path.join(work, "extras", "trajectory"), optimizer=opt,
                                        columns=("grad_norm", "lr"), projection=10000, seed=1),
}
for _ in range(3):  # warm-up
    train_step()
times = {"plain": [], "recorded": [], "recorded+extras": []}
cpu = {mode: 0.0 for mode in times}      # CPU seconds of the whole process (the worker thread included)
inside = {mode: 0.0 for mode in times}   # wall seconds spent in rec.step() and rec.end_epoch()
modes = list(times)
for r in range(rounds):
    for mode in modes[r % 3:] + modes[:r % 3]:  # each loop first in some rounds: no bias from the order
        rec = recorders.get(mode)
        c0 = time.process_time()
        for s in range(steps):
            sync()
            t = time.perf_counter()
            loss = train_step()
            if rec:
                t1 = time.perf_counter()
                rec.step(loss)
                if s == steps - 1:
                    rec.end_epoch()  # the chunk of this round and the checkpoint (written by the worker)
                inside[mode] += time.perf_counter() - t1
            sync()
            times[mode].append(time.perf_counter() - t)
        if rec:
            rec.flush()  # the worker's writing of this round counts in this mode's CPU time
        cpu[mode] += time.process_time() - c0
t = time.perf_counter()
for rec in recorders.values():
    rec.close()
closing = time.perf_counter() - t
D = sum(p.numel() for p in net.parameters())
print(f"ResNet-20 (D = {D}), batch {batch}, {torch.get_num_threads()} threads, {device}, {rounds} rounds x {steps} "
      f"steps per loop; recorded: {anodiff.load_trajectory(os.path.join(work, 'plain', 'trajectory')).size} snapshots")
base = statistics.mean(times["plain"])
base_cpu = cpu["plain"] / len(times["plain"])
for mode, ts in times.items():
    mean, median = statistics.mean(ts), statistics.median(ts)
    line = f"{mode:16s} mean {mean * 1e3:8.2f} ms  median {median * 1e3:8.2f} ms  ({batch / mean:.1f} images/s)"
    if mode != "plain":
        per = cpu[mode] / len(ts)
        line += (f"  overhead {100 * (mean - base) / base:+.2f}% of a step in wall time, "
                 f"{100 * (per - base_cpu) / base_cpu:+.2f}% in CPU time (target <= 5%); "
                 f"{inside[mode] / len(ts) * 1e3:.2f} ms a step inside the recorder's calls")
    print(line)
print(f"close() of both recorders (last checkpoints, worker joined): {closing:.3f} s")
import shutil  # noqa: E402
shutil.rmtree(work)
