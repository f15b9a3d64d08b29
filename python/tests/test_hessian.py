"""anodiff.SymmetricOperator, extreme_eigenpairs and the PyTorch Hessian (hessian_eigenpairs, hessian_trace,
hessian_density) against dense references: numpy's eigh of a matrix, and torch.autograd.functional.hessian of a small
CNN (not one of anodiff's models) in float64; the product count against scipy's eigsh over the same product."""
import logging
import threading

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import anodiff

torch.set_num_threads(1)


# ------------------------------------------------------------------ operators on callables
def rotated(eigenvalues, seed):
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((len(eigenvalues), len(eigenvalues))))
    return (q * np.asarray(eigenvalues)) @ q.T


def test_extreme_eigenpairs_of_a_callable_equals_eigh_at_both_ends():
    values = np.concatenate([np.linspace(-3, 10, 60), [20.0, 15.0, -8.0]])
    A = rotated(values, 1)
    calls = []

    def apply(x):
        calls.append(x)
        return A @ x

    exact = np.sort(np.linalg.eigvalsh(A))
    top = anodiff.extreme_eigenpairs(apply, dimension=len(A), k=6, tol=1e-10, eigenvectors=True)
    assert top.all_converged and len(top) == 6
    np.testing.assert_allclose(top.eigenvalues, exact[::-1][:6], rtol=1e-9)
    assert top.products + top.verification_products == len(calls)
    assert top.verification_products == 6
    assert np.all(top.relative_residuals <= 1e-9) and top.converged.dtype == bool and top.converged.all()
    V = top.eigenvectors
    assert V.shape == (6, len(A))
    np.testing.assert_allclose(A @ V[0], top.eigenvalues[0] * V[0], atol=1e-8)
    np.testing.assert_allclose(top.eigenpairs[2].eigenvector, V[2])
    bottom = anodiff.extreme_eigenpairs(apply, dimension=len(A), k=3, tol=1e-10, which="smallest")
    np.testing.assert_allclose(bottom.eigenvalues, exact[:3], rtol=1e-9)
    # A square array and a SymmetricOperator give the same pairs as the callable (same seed: same start vector).
    dense = anodiff.extreme_eigenpairs(A, k=6, tol=1e-10)
    op = anodiff.SymmetricOperator(len(A), apply)
    wrapped = anodiff.extreme_eigenpairs(op, k=6, tol=1e-10)
    np.testing.assert_allclose(dense.eigenvalues, top.eigenvalues, rtol=1e-12)
    np.testing.assert_allclose(wrapped.eigenvalues, top.eigenvalues, rtol=1e-12)
    assert op.products == wrapped.products + wrapped.verification_products
    # Power iteration finds the largest in magnitude.
    power = anodiff.extreme_eigenpairs(A, k=2, tol=1e-10, method="power", power_stop="residual",
                                       max_iterations=5000)
    np.testing.assert_allclose(power.eigenvalues, [20.0, 15.0], rtol=1e-8)


def test_non_convergence_is_data_and_errors_are_pythons():
    A = rotated(np.linspace(1, 2, 200), 2)  # clustered: one restart cannot converge 10 pairs to 1e-12
    r = anodiff.extreme_eigenpairs(lambda x: A @ x, dimension=200, k=10, tol=1e-12, max_iterations=1)
    assert r.converged_count < 10 and not r.all_converged and len(r.eigenvalues) == 10
    assert "converged=" in repr(r)

    class Boom(RuntimeError):
        pass

    def boom(x):
        raise Boom("from the callback")

    with pytest.raises(Boom, match="from the callback"):
        anodiff.extreme_eigenpairs(boom, dimension=50, k=2)
    with pytest.raises(ValueError, match=r"apply returned 3 values .*expected 50"):
        anodiff.extreme_eigenpairs(lambda x: np.ones(3), dimension=50, k=2)
    with pytest.raises(ValueError, match="non-finite"):
        anodiff.extreme_eigenpairs(lambda x: x * np.nan, dimension=50, k=2)
    with pytest.raises(TypeError, match="needs dimension"):
        anodiff.extreme_eigenpairs(lambda x: x, k=2)
    with pytest.raises(TypeError, match="callable"):
        anodiff.SymmetricOperator(5, 3)
    with pytest.raises(ValueError, match="k"):
        anodiff.extreme_eigenpairs(np.eye(5), k=5)
    with pytest.raises(ValueError, match="which"):
        anodiff.extreme_eigenpairs(np.eye(5), k=2, which="top")
    with pytest.raises(ValueError, match="dimension = 4 differs"):
        anodiff.extreme_eigenpairs(anodiff.SymmetricOperator(5, lambda x: x), dimension=4, k=2)


def test_the_solver_releases_the_gil_between_products():
    # A thread counting in Python during the solve; the callback notes the time and the counter when it starts and
    # ends. Between two products the solver works in C++ (orthogonalising against a 50,000 x 60 Lanczos basis, and
    # restarting, 4 times: 25 to 120 ms each on a 2-core EPYC): with the GIL released there, the counting thread runs; with
    # the GIL held through the solve it could not advance at all during such a gap.
    import time

    D = 50_000
    d = np.linspace(1.0, 2.0, D)  # clustered: one restart converges nothing to 1e-12
    counter = [0]
    stop = threading.Event()

    def count():
        while not stop.is_set():
            counter[0] += 1

    starts, ends = [], []

    def apply(x):
        starts.append((time.perf_counter(), counter[0]))
        y = d * x
        ends.append((time.perf_counter(), counter[0]))
        return y

    t = threading.Thread(target=count)
    t.start()
    try:
        r = anodiff.extreme_eigenpairs(apply, dimension=D, k=10, ncv=60, tol=1e-12, max_iterations=4, verify=False)
    finally:
        stop.set()
        t.join()
    assert r.products == len(starts)
    long_gaps = [(starts[i + 1][1] - ends[i][1]) for i in range(len(starts) - 1)
                 if starts[i + 1][0] - ends[i][0] > 0.02]
    assert len(long_gaps) >= 3, "the solver's own work between two products took over 20 ms at least 3 times"
    assert sum(advance > 0 for advance in long_gaps) >= 0.8 * len(long_gaps), long_gaps


def test_trace_and_density_of_a_matrix():
    values = np.concatenate([np.zeros(95), [5.0, 4.0, 3.0, 2.0, 1.0]])
    A = rotated(values, 4)
    assert anodiff.hutchpp_trace(lambda x: A @ x, dimension=100, products=30, seed=1) == pytest.approx(15.0, rel=1e-10)
    d = anodiff.spectral_density(A, probes=3, steps=20, seed=0)
    assert np.sum(d.weights) == pytest.approx(1.0, rel=1e-12)
    # The first moment: E[v^T A v / |v|^2] = trace / D, within the Rademacher estimate's spread.
    assert np.sum(d.weights * d.nodes) == pytest.approx(np.trace(A) / 100, abs=0.1)
    s = anodiff.smooth_density(d, points=50)
    assert len(s.x) == 50 and len(s.y) == 50 and s.sigma > 0 and np.all(s.y >= 0)


# ------------------------------------------------------------------ the Hessian of a small PyTorch CNN
class SmallCNN(torch.nn.Module):
    """conv 3x3 -> BatchNorm -> tanh -> max-pool -> linear: 99 parameters, smooth except the pooling's choice."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 4, 3)
        self.bn = torch.nn.BatchNorm2d(4)
        self.fc = torch.nn.Linear(4 * 2 * 2, 3)

    def forward(self, x):
        return self.fc(F.max_pool2d(torch.tanh(self.bn(self.conv(x))), 2).flatten(1))


@pytest.fixture(scope="module")
def cnn():
    torch.manual_seed(0)
    model = SmallCNN().double()
    x = torch.randn(40, 1, 6, 6, dtype=torch.float64)
    y = torch.randint(0, 3, (40,))
    model.train()
    with torch.no_grad():  # running statistics that are not the defaults
        for i in range(0, 40, 10):
            model(x[i:i + 10])
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    for _ in range(30):  # away from initialisation, so that the spectrum has structure
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    model.train()  # as a user's model after training: the Hessian functions must use eval mode and restore this

    names = [n for n, _ in model.named_parameters()]
    shapes = [p.shape for p in model.parameters()]
    flat0 = torch.cat([p.detach().reshape(-1) for p in model.parameters()])

    def loss_of(flat):
        parts = torch.split(flat, [int(np.prod(s)) for s in shapes])
        params = {n: p.view(s) for n, p, s in zip(names, parts, shapes)}
        was = model.training
        model.eval()
        try:
            out = torch.nn.utils.stateless.functional_call(model, params, (x,))
        finally:
            model.train(was)
        return F.cross_entropy(out, y)

    H = torch.autograd.functional.hessian(loss_of, flat0).numpy()
    H = (H + H.T) / 2
    return {"model": model, "x": x, "y": y, "H": H, "eig": np.sort(np.linalg.eigvalsh(H))[::-1]}


def test_hessian_top5_equal_the_dense_hessian(cnn):
    model, x, y, eig = cnn["model"], cnn["x"], cnn["y"], cnn["eig"]
    assert len(eig) == sum(p.numel() for p in model.parameters()) == 99
    r = anodiff.hessian_eigenpairs(model, F.cross_entropy, [(x, y)], k=5)  # the defaults: tol 1e-4, eval mode
    assert model.training, "the model's own mode is restored"
    assert r.all_converged and r.products > 0 and r.verification_products == 5
    np.testing.assert_allclose(r.eigenvalues, eig[:5], rtol=1e-6)
    assert np.all(r.relative_residuals <= 1e-4)
    # Two batches of different sizes, weighted by size, are the Hessian of the mean over all 40 samples; a tuple
    # (x, y) is one batch; a generator is read once.
    two = anodiff.hessian_eigenpairs(model, F.cross_entropy, [(x[:25], y[:25]), (x[25:], y[25:])], k=5, tol=1e-10)
    np.testing.assert_allclose(two.eigenvalues, eig[:5], rtol=1e-9)
    one = anodiff.hessian_eigenpairs(model, F.cross_entropy, (x, y), k=5, tol=1e-10, reuse_graph=False,
                                     eigenvectors=True)
    np.testing.assert_allclose(one.eigenvalues, eig[:5], rtol=1e-9)
    v = one.eigenvectors[0]
    np.testing.assert_allclose(cnn["H"] @ v, one.eigenvalues[0] * v, atol=1e-8 * abs(eig[0]))
    gen = anodiff.hessian_eigenpairs(model, F.cross_entropy, ((x[i:i + 20], y[i:i + 20]) for i in (0, 20)), k=3,
                                     tol=1e-10, which="smallest")
    np.testing.assert_allclose(gen.eigenvalues, eig[::-1][:3], rtol=1e-7, atol=1e-9 * abs(eig[0]))
    # Train mode (batch statistics) is another Hessian.
    train = anodiff.hessian_eigenpairs(model, F.cross_entropy, (x, y), k=1, tol=1e-10, train_mode=True)
    assert abs(train.eigenvalues[0] - eig[0]) > 1e-6 * abs(eig[0])
    assert model.training
    # ... which leaves BatchNorm's running statistics as they were: the eval-mode Hessian is unchanged.
    after = anodiff.hessian_eigenpairs(model, F.cross_entropy, (x, y), k=1, tol=1e-10)
    assert after.eigenvalues[0] == pytest.approx(eig[0], rel=1e-9)


def test_hessian_trace_within_hutchpp_error(cnn):
    model, x, y, eig = cnn["model"], cnn["x"], cnn["y"], cnn["eig"]
    exact = float(np.sum(eig))
    # m products, k = m/3: Hutchinson's standard deviation on the unsketched rest is sqrt(2/k) ||rest||_F, and the
    # sketch's rest is within sqrt(2) of the best rank-k/2 one in expectation (Meyer et al. 2021, from Halko et al.);
    # "the error" is 4 such standard deviations (docs/python.md).
    m = 99
    k = m // 3
    by_size = np.sort(np.abs(eig))[::-1]
    bound = 4 * np.sqrt(2 / k) * np.sqrt(2) * np.sqrt(np.sum(by_size[k // 2:] ** 2))
    errors = []
    for seed in range(5):
        t = anodiff.hessian_trace(model, F.cross_entropy, (x, y), products=m, seed=seed)
        assert t.products == m
        errors.append(abs(t.trace - exact))
    assert max(errors) <= bound, (errors, bound, exact)
    assert bound < 0.5 * np.sum(np.abs(eig)), "the bound says something"
    # With a sketch as wide as the space, exact.
    full = anodiff.hessian_trace(model, F.cross_entropy, (x, y), products=3 * 99, seed=0)
    assert full.trace == pytest.approx(exact, rel=1e-9, abs=1e-9 * np.sum(np.abs(eig)))


def test_hessian_density_has_the_spectrum_s_mass_and_range(cnn):
    model, x, y, eig = cnn["model"], cnn["x"], cnn["y"], cnn["eig"]
    d = anodiff.hessian_density(model, F.cross_entropy, (x, y), probes=2, steps=30, points=100)
    q = d.quadrature
    assert np.sum(q.weights) == pytest.approx(1.0, rel=1e-12)
    assert q.nodes.max() == pytest.approx(eig[0], rel=1e-6)  # 30 Lanczos steps find the top eigenvalue
    assert q.nodes.min() >= eig[-1] - 1e-9 * abs(eig[0])
    assert len(d.x) == 100 and d.x[0] < eig[-1] and d.x[-1] > eig[0]


def test_product_count_against_scipy_eigsh(cnn, capsys):
    import scipy.sparse.linalg as sla

    model, x, y, eig = cnn["model"], cnn["x"], cnn["y"], cnn["eig"]
    op = anodiff.hessian_operator(model, F.cross_entropy, (x, y))
    counted = [0]

    def matvec(v):
        counted[0] += 1
        return op.apply(np.ravel(v))

    lin = sla.LinearOperator((99, 99), matvec=matvec, dtype=np.float64)
    v0 = np.random.default_rng(0).standard_normal(99)  # the same start for both: a count depends on it
    values = sla.eigsh(lin, k=20, which="LA", tol=1e-4, return_eigenvectors=False, v0=v0)
    ours = anodiff.hessian_eigenpairs(model, F.cross_entropy, (x, y), k=20, tol=1e-4, start=v0)
    assert ours.all_converged
    np.testing.assert_allclose(np.sort(values)[::-1], eig[:20], rtol=1e-6)
    np.testing.assert_allclose(ours.eigenvalues, eig[:20], rtol=1e-6)
    with capsys.disabled():
        print(f"\n[hessian] small CNN D=99 top-20 tol 1e-4: anodiff {ours.products} products "
              f"(+{ours.verification_products} for residuals), scipy eigsh {counted[0]} products")
    # Measured (docs/python.md): 52 against 52; one product more (53) while Spectra's init spent a product to push
    # the start into A's range, as ARPACK does for a generalized problem only. The residuals that eigsh does not
    # report cost one product per pair, counted apart.
    assert ours.products <= counted[0]
    assert ours.verification_products == 20


@pytest.mark.parametrize("n,k,seed", [(400, 20, 0), (400, 20, 3), (1000, 20, 1), (2000, 10, 0)])
def test_no_more_products_than_eigsh_from_the_same_start(n, k, seed):
    # Dense matrices whose top k need restarts (a gamma(0.5) spectrum): from the same start vector, Lanczos takes no
    # more products than ARPACK (measured: equal in all 12 cases of docs/python.md; from its own seeded start, the
    # count differed from eigsh's by -11 to +11).
    import scipy.sparse.linalg as sla

    rng = np.random.default_rng(seed)
    A = rotated(np.sort(rng.gamma(0.5, 1.0, n))[::-1], seed)
    counted = [0]

    def matvec(v):
        counted[0] += 1
        return A @ np.ravel(v)

    v0 = rng.standard_normal(n)
    values = sla.eigsh(sla.LinearOperator((n, n), matvec=matvec, dtype=np.float64), k=k, which="LA", tol=1e-4,
                       return_eigenvectors=False, v0=v0)
    ours = anodiff.extreme_eigenpairs(lambda v: A @ v, dimension=n, k=k, tol=1e-4, start=v0)
    assert ours.all_converged
    np.testing.assert_allclose(ours.eigenvalues, np.sort(values)[::-1], rtol=1e-6)
    assert counted[0] > max(2 * k + 1, 20)  # restarted: the first factorization alone takes ncv products
    assert ours.products <= counted[0]


def test_hessian_logs_on_the_anodiff_logger(cnn, caplog):
    with caplog.at_level(logging.INFO, logger="anodiff"):
        anodiff.hessian_eigenpairs(cnn["model"], F.cross_entropy, (cnn["x"], cnn["y"]), k=2)
    assert any(r.name == "anodiff" and "hessian_eigenpairs: D = 99" in r.getMessage() for r in caplog.records)
