#!/usr/bin/python3
"""A ResNet-20's top-20 Hessian eigenvalues three ways (issue 25; a measurement, not a test):

1. build/examples/anodiff-hessian on the model saved as TorchScript, with the inputs and labels as .npy;
2. anodiff.hessian_eigenpairs from Python (torch's double backward in this process, anodiff's Lanczos);
3. scipy's eigsh (ARPACK, which='LA') over a LinearOperator of the same double-backward product.

The model is the study's CIFAR ResNet-20 (benchmarks/reference/study_models.py: Li et al.'s module), at PyTorch's
default initialisation after torch.manual_seed(SEED), in eval mode, float32; the data are 128 seeded Gaussian
images (3, 32, 32) with uniform labels in 0..9, one batch of 128 (the mean cross-entropy). Prints the 20 eigenvalues
of each, the largest relative differences, the products and the wall times.

Usage: benchmarks/python_hessian_resnet20.py [--build build] [--out DIR] [--k 20] [--tol 1e-4] [--seed 0]
       (threads: OMP_NUM_THREADS, default 2, for both this process and anodiff-hessian)
"""
import argparse
import csv
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--out", default=os.path.join(ROOT, "runs", "python_hessian_resnet20"))
    ap.add_argument("--k", type=int, default=20)
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-eigsh-residuals", action="store_true", help="skip the k products that check eigsh's pairs")
    ap.add_argument("--no-cli", action="store_true", help="skip anodiff-hessian (compare the Python solve with eigsh)")
    a = ap.parse_args()

    threads = int(os.environ.setdefault("OMP_NUM_THREADS", "2"))
    sys.path.insert(0, os.path.join(a.build, "python"))
    sys.path.insert(0, os.path.join(HERE, "reference"))
    import numpy as np
    import torch
    import torch.nn.functional as F
    from scipy.sparse.linalg import LinearOperator, eigsh

    import anodiff
    from study_models import ResNetCifar

    torch.set_num_threads(threads)
    os.makedirs(a.out, exist_ok=True)

    # (1) The model at initialisation, eval mode, float32; (2) TorchScript and the data as .npy.
    torch.manual_seed(a.seed)
    model = ResNetCifar(20).float().eval()
    D = sum(p.numel() for p in model.parameters())
    rng = np.random.default_rng(a.seed)
    X = rng.standard_normal((128, 3, 32, 32)).astype(np.float32)
    Y = rng.integers(0, 10, 128).astype(np.int64)
    model_file = os.path.join(a.out, "model.pt")
    torch.jit.save(torch.jit.script(model), model_file)
    np.save(os.path.join(a.out, "inputs.npy"), X)
    np.save(os.path.join(a.out, "labels.npy"), Y)
    xt, yt = torch.from_numpy(X), torch.from_numpy(Y)
    with torch.no_grad():  # the saved module computes what the Python one does
        assert torch.allclose(torch.jit.load(model_file)(xt[:8]), model(xt[:8]), rtol=1e-5, atol=1e-6)
    print(f"ResNet-20: D = {D}, batch 128, float32, eval mode, {threads} thread(s), k = {a.k}, tol = {a.tol:g}",
          flush=True)

    # (3) anodiff-hessian (NaN columns with --no-cli).
    cli_vals, cli_conv, cli_rel = np.full(a.k, np.nan), 0, float("nan")
    cli_products = cli_verify = 0
    cli_solve = cli_wall = float("nan")
    if not a.no_cli:
        exe = os.path.join(a.build, "examples", "anodiff-hessian")
        cli_out = os.path.join(a.out, "cli")
        t = time.perf_counter()
        subprocess.run([exe, "--model", model_file, "--inputs", os.path.join(a.out, "inputs.npy"), "--labels",
                        os.path.join(a.out, "labels.npy"), "--batch_size", "128", "--batches", "1", "--num_eigenthings",
                        str(a.k), "--tol", str(a.tol), "--dtype", "float32", "--device", "cpu", "--no-plots", "--out",
                        cli_out], check=True)
        cli_wall = time.perf_counter() - t
        with open(os.path.join(cli_out, "eigenvalues.csv"), newline="") as f:
            rows = sorted(csv.DictReader(f), key=lambda r: int(r["rank"]))
        cli_vals = np.array([float(r["eigenvalue"]) for r in rows])
        cli_conv = sum(int(r["converged"]) for r in rows)
        cli_rel = max(float(r["relative_residual"]) for r in rows)
        cli_products, cli_verify = int(rows[0]["products"]), int(rows[0]["verification_products"])
        cli_solve = float(rows[0]["seconds"])
        print(f"anodiff-hessian: {cli_products} + {cli_verify} products, solve {cli_solve:.1f} s, process {cli_wall:.1f} s",
              flush=True)

    # (4) anodiff.hessian_eigenpairs on the Python module and the same data.
    t = time.perf_counter()
    # Both Lanczos solves start from the same vector: a product count depends on the start as much as on the
    # method (+-10 products at k = 20 over random starts on dense test matrices).
    v0 = np.random.default_rng(a.seed).standard_normal(D)
    py = anodiff.hessian_eigenpairs(model, F.cross_entropy, [(xt, yt)], k=a.k, tol=a.tol, start=v0)
    py_wall = time.perf_counter() - t
    py_vals = np.array(py.eigenvalues)
    py_rel = max(p.relative_residual for p in py.eigenpairs)
    print(f"anodiff.hessian_eigenpairs: {py.products} + {py.verification_products} products, solve {py.seconds:.1f} s, "
          f"call {py_wall:.1f} s", flush=True)

    # (5) eigsh over the same product (anodiff's: torch's double backward reusing the gradient's graph).
    product = anodiff.hessian_operator(model, F.cross_entropy, [(xt, yt)]).function
    op = LinearOperator((D, D), matvec=product, dtype=np.float64)
    t = time.perf_counter()
    vals, vecs = eigsh(op, k=a.k, which="LA", tol=a.tol, v0=v0)
    eigsh_wall = time.perf_counter() - t
    eigsh_products = product.products
    order = np.argsort(vals)[::-1]
    eigsh_vals, vecs = vals[order], vecs[:, order]
    eigsh_rel = float("nan")
    if not a.no_eigsh_residuals:
        eigsh_rel = max(np.linalg.norm(product(vecs[:, i]) - eigsh_vals[i] * vecs[:, i]) / abs(eigsh_vals[i])
                        for i in range(a.k))
    print(f"eigsh: {eigsh_products} products, solve {eigsh_wall:.1f} s", flush=True)

    # (6) The table.
    def rel(u, v):
        return np.abs(u - v) / np.abs(v)

    print(f"\n{'rank':>4} {'anodiff-hessian':>16} {'anodiff (Python)':>16} {'eigsh':>16} {'|Py-CLI|/CLI':>13} "
          f"{'|Py-eigsh|/eigsh':>16}")
    for i in range(a.k):
        print(f"{i + 1:>4} {cli_vals[i]:>16.8g} {py_vals[i]:>16.8g} {eigsh_vals[i]:>16.8g} "
              f"{rel(py_vals[i], cli_vals[i]):>13.2e} {rel(py_vals[i], eigsh_vals[i]):>16.2e}")
    print(f"\nmax relative difference: anodiff-Python vs anodiff-hessian {rel(py_vals, cli_vals).max():.2e}, "
          f"vs eigsh {rel(py_vals, eigsh_vals).max():.2e}; anodiff-hessian vs eigsh {rel(cli_vals, eigsh_vals).max():.2e}")
    print(f"\n{'':<28} {'products':>9} {'+ residuals':>11} {'converged':>9} {'max rel. res.':>13} {'solve s':>8} "
          f"{'wall s':>8}")
    print(f"{'anodiff-hessian (C++)':<28} {cli_products:>9} {cli_verify:>11} {cli_conv:>9} {cli_rel:>13.2e} "
          f"{cli_solve:>8.1f} {cli_wall:>8.1f}")
    print(f"{'anodiff.hessian_eigenpairs':<28} {py.products:>9} {py.verification_products:>11} "
          f"{py.converged_count:>9} {py_rel:>13.2e} {py.seconds:>8.1f} {py_wall:>8.1f}")
    print(f"{'scipy eigsh (ARPACK)':<28} {eigsh_products:>9} {'-':>11} {'-':>9} {eigsh_rel:>13.2e} "
          f"{eigsh_wall:>8.1f} {eigsh_wall:>8.1f}")
    print("(anodiff-hessian's wall time is the whole process: loading the model and data included; eigsh's residuals "
          "are checked here with k extra products, not counted)")


if __name__ == "__main__":
    main()
