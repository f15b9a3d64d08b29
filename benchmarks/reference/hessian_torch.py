#!/usr/bin/python3
"""Reference: top-k Hessian eigenvalues of the study's ResNet in Python (Debian's python3-torch and scipy), with
scipy's ARPACK Lanczos (eigsh) on Hessian-vector products that reuse the gradient's graph.
Usage: hessian_torch.py STATE_DICT BATCH_X.npy BATCH_Y.npy DEPTH K TOL [threads=2]
Prints: gradient_seconds=G product_seconds=P ratio=R / eigsh products=N seconds=S max_relative_residual=M
eigenvalues=..."""
import sys, time
import numpy as np
import torch
import torch.nn.functional as F
from scipy.sparse.linalg import LinearOperator, eigsh
sys.path.insert(0, __file__.rsplit("/", 1)[0])
from study_models import ResNetCifar

state, xs, ys, depth, k, tol = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6])
torch.set_num_threads(int(sys.argv[7]) if len(sys.argv) > 7 else 2)
net = ResNetCifar(depth)
net.load_state_dict(torch.load(state))
net.eval()
x = torch.from_numpy(np.load(xs)).float()
y = torch.from_numpy(np.load(ys)).long()
params = [p for p in net.parameters()]
D = sum(p.numel() for p in params)

t = time.perf_counter()
for _ in range(3):
    g = torch.autograd.grad(F.cross_entropy(net(x), y), params)
grad_s = (time.perf_counter() - t) / 3
grads = torch.autograd.grad(F.cross_entropy(net(x), y), params, create_graph=True)
count = [0]

def hvp(v):
    count[0] += 1
    v = torch.from_numpy(np.asarray(v, dtype=np.float32).reshape(-1))
    vs, o = [], 0
    for p in params:
        vs.append(v[o:o + p.numel()].view_as(p)); o += p.numel()
    inner = sum((gi * vi).sum() for gi, vi in zip(grads, vs))
    hv = torch.autograd.grad(inner, params, retain_graph=True)
    return torch.cat([h.reshape(-1) for h in hv]).double().numpy()

t = time.perf_counter()
for _ in range(3):
    hvp(np.random.randn(D))
prod_s = (time.perf_counter() - t) / 3
print(f"gradient_seconds={grad_s:.4f} product_seconds={prod_s:.4f} ratio={prod_s / grad_s:.2f}")
count[0] = 0
op = LinearOperator((D, D), matvec=hvp, dtype=np.float64)
t = time.perf_counter()
vals, vecs = eigsh(op, k=k, which="LA", tol=tol, v0=np.random.default_rng(0).standard_normal(D))
secs = time.perf_counter() - t
n = count[0]
rel = [np.linalg.norm(hvp(vecs[:, i]) - vals[i] * vecs[:, i]) / abs(vals[i]) for i in range(k)]
print(f"eigsh products={n} seconds={secs:.2f} max_relative_residual={max(rel):.3g} "
      f"eigenvalues={' '.join(f'{v:.6g}' for v in sorted(vals, reverse=True))}")
