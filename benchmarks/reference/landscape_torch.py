#!/usr/bin/python3
"""Reference timing: Li et al.'s per-point loop for a loss surface (set the weights to w + x dx + y dy, then loss
and accuracy over a data loader), on Debian's python3-torch with the study's ResNet.
Usage: landscape_torch.py DEPTH SAMPLES BATCH POINTS [threads=2]
Prints: python_landscape seconds_per_point=S points_per_second=P"""
import sys, time
import torch
import torch.nn.functional as F
sys.path.insert(0, __file__.rsplit("/", 1)[0])
from study_models import ResNetCifar

depth, samples, batch, points = (int(a) for a in sys.argv[1:5])
torch.set_num_threads(int(sys.argv[5]) if len(sys.argv) > 5 else 2)
torch.manual_seed(0)
net = ResNetCifar(depth)
net.eval()
x = torch.randn(samples, 3, 32, 32)
y = torch.randint(0, 10, (samples,))
loader = [(x[i:i + batch], y[i:i + batch]) for i in range(0, samples, batch)]
weights = [p.data.clone() for p in net.parameters()]
dx = [torch.randn_like(w) for w in weights]
dy = [torch.randn_like(w) for w in weights]
times = []
for k in range(points + 1):
    t = time.perf_counter()
    a, b = -1 + 2 * k / max(points, 1), 0.5
    for p, w, d1, d2 in zip(net.parameters(), weights, dx, dy):   # Li et al.'s set_weights
        p.data = w + a * d1 + b * d2
    loss, correct = 0.0, 0
    with torch.no_grad():
        for xb, yb in loader:                                       # Li et al.'s eval_loss
            out = net(xb)
            loss += F.cross_entropy(out, yb, reduction="sum").item()
            correct += out.argmax(1).eq(yb).sum().item()
    times.append(time.perf_counter() - t)
sec = sorted(times[1:])[len(times[1:]) // 2]
print(f"python_landscape seconds_per_point={sec:.4f} points_per_second={1 / sec:.3f}")
