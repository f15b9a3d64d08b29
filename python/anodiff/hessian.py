"""The Hessian spectrum of any PyTorch model (docs/python.md, docs/hessian.md).

The Hessian-vector product is torch's double backward over the user's model, loss and fixed batches, on the model's
own device and dtype; the eigensolver, Hutch++ and SLQ are anodiff's C++ core (``anodiff.extreme_eigenpairs``,
``hutchpp_trace``, ``spectral_density``), which call the product through ``anodiff.SymmetricOperator`` with the GIL
released between products. torch is imported only here, when one of these functions is used.
"""
import logging
import time

import numpy as np

from . import _anodiff

__all__ = ["hessian_operator", "hessian_eigenpairs", "hessian_trace", "hessian_density", "TraceEstimate"]

log = logging.getLogger("anodiff")


def _batches(batches):
    """The fixed batches as a list of (inputs, targets): one (inputs, targets) pair of tensors, or an iterable of
    them (a DataLoader is read once, so that every product sees the same data)."""
    import torch

    if isinstance(batches, tuple) and len(batches) == 2 and isinstance(batches[0], torch.Tensor) \
            and not isinstance(batches[1], (tuple, list)):
        return [batches]
    out = []
    for b in batches:
        if not (isinstance(b, (tuple, list)) and len(b) == 2):
            raise TypeError(f"batches: expected (inputs, targets) pairs, got {type(b).__name__}")
        out.append((b[0], b[1]))
    if not out:
        raise ValueError("batches: no batch given")
    return out


def _size(inputs):
    import torch

    if isinstance(inputs, torch.Tensor):
        return int(inputs.shape[0]) if inputs.dim() > 0 else 1
    if isinstance(inputs, (tuple, list)) and inputs:
        return _size(inputs[0])
    if isinstance(inputs, dict) and inputs:
        return _size(next(iter(inputs.values())))
    return 1


def _to(x, device):
    import torch

    if isinstance(x, torch.Tensor):
        return x.to(device)
    if isinstance(x, (tuple, list)):
        return type(x)(_to(v, device) for v in x)
    if isinstance(x, dict):
        return {k: _to(v, device) for k, v in x.items()}
    return x


def _forward(model, inputs):
    if isinstance(inputs, (tuple, list)):
        return model(*inputs)
    if isinstance(inputs, dict):
        return model(**inputs)
    return model(inputs)


class _HessianProduct:
    """y = H x for the loss sum_b (n_b / N) loss_fn(model(inputs_b), targets_b) over the parameters that require a
    gradient (in model.parameters() order), as a float64 numpy function; with a single batch the gradient's graph is
    kept and reused by every product (as the C++ HessianOperator's reuse_graph)."""

    def __init__(self, model, loss_fn, batches, train_mode, reuse_graph):
        import torch

        self.model, self.loss_fn = model, loss_fn
        self.params = [p for p in model.parameters() if p.requires_grad]
        if not self.params:
            raise ValueError("hessian: the model has no parameter that requires a gradient")
        self.device, self.dtype = self.params[0].device, self.params[0].dtype
        self.batches = [(_to(x, self.device), _to(y, self.device)) for x, y in _batches(batches)]
        sizes = [_size(x) for x, _ in self.batches]
        self.weights = [n / sum(sizes) for n in sizes]
        self.train_mode = train_mode
        # Train mode's forward updates BatchNorm's running statistics (the products do not depend on them): they are
        # put back by restore_buffers() after the solve, so that computing a Hessian leaves the model as it was.
        self.buffers = [(b, b.detach().clone()) for b in model.buffers()] if train_mode else []
        self.dimension = sum(p.numel() for p in self.params)
        self.shapes = [p.shape for p in self.params]
        self.numels = [p.numel() for p in self.params]
        self.reuse = reuse_graph and len(self.batches) == 1
        self.grads = None
        self.products = 0
        self.seconds = 0.0
        self._torch = torch

    def _gradient(self, x, y):
        loss = self.loss_fn(_forward(self.model, x), y)
        if not isinstance(loss, self._torch.Tensor) or loss.dim() != 0:
            raise ValueError("hessian: loss_fn must return a scalar tensor (e.g. the batch's mean loss)")
        return self._torch.autograd.grad(loss, self.params, create_graph=True)

    def restore_buffers(self):
        """Puts back the buffers (BatchNorm's running statistics) as they were before the first product."""
        with self._torch.no_grad():
            for b, saved in self.buffers:
                b.copy_(saved)
        self.grads = None  # the kept graph saw the old buffers

    def __call__(self, v):
        torch = self._torch
        t0 = time.perf_counter()
        was_training = self.model.training
        self.model.train(self.train_mode)
        try:
            flat = torch.from_numpy(np.ascontiguousarray(v)).to(device=self.device, dtype=self.dtype)
            vs = [c.view(s) for c, s in zip(torch.split(flat, self.numels), self.shapes)]
            total = None
            for (x, y), w in zip(self.batches, self.weights):
                if self.reuse:
                    if self.grads is None:
                        self.grads = self._gradient(x, y)
                    grads = self.grads
                else:
                    grads = self._gradient(x, y)
                hv = torch.autograd.grad(grads, self.params, grad_outputs=vs, retain_graph=self.reuse,
                                         allow_unused=True)
                hv = torch.cat([(h if h is not None else torch.zeros_like(p)).reshape(-1)
                                for h, p in zip(hv, self.params)])
                total = hv * w if total is None else total + hv * w
            out = total.detach().to(device="cpu", dtype=torch.float64).numpy()
        finally:
            self.model.train(was_training)
        self.products += 1
        self.seconds += time.perf_counter() - t0
        return out


def hessian_operator(model, loss_fn, batches, train_mode=False, reuse_graph=True):
    """hessian_operator(model, loss_fn, batches, train_mode=False, reuse_graph=True) -> SymmetricOperator

    The Hessian of the mean loss over fixed batches with respect to the model's parameters that require a gradient
    (flattened in ``model.parameters()`` order), as an ``anodiff.SymmetricOperator``: each product is torch's double
    backward on the model's device and in its dtype. ``batches``: one ``(inputs, targets)`` pair or an iterable of
    them (read once; ``inputs`` may be a tuple or dict of arguments), weighted by their sizes so that several batches
    give the mean over their samples. ``loss_fn(outputs, targets)`` returns a scalar (e.g.
    ``torch.nn.functional.cross_entropy``). The model is put in eval mode for each product (BatchNorm's running
    statistics, no dropout: the study's Hessian) and back in its own mode after; ``train_mode=True`` uses train mode
    (batch statistics; the running statistics each forward updates are put back by ``op.function.restore_buffers()``,
    which hessian_eigenpairs, hessian_trace and hessian_density call when they end).
    With one batch, the gradient's graph is kept and reused (``reuse_graph=False`` recomputes it every product).
    """
    product = _HessianProduct(model, loss_fn, batches, train_mode, reuse_graph)
    op = _anodiff.SymmetricOperator(product.dimension, product)
    return op


def hessian_eigenpairs(model, loss_fn, batches, k=20, tol=1e-4, which="largest", method="lanczos",
                       eigenvectors=False, verify=True, seed=0, ncv=0, max_iterations=1000, start=None,
                       train_mode=False, reuse_graph=True):
    """hessian_eigenpairs(model, loss_fn, batches, k=20, tol=1e-4, which='largest', method='lanczos',
    eigenvectors=False, verify=True, seed=0, ncv=0, max_iterations=1000, start=None, train_mode=False) -> EigenResult

    The k extreme eigenpairs of the Hessian of ``loss_fn`` over ``batches`` (see ``hessian_operator``) by the core's
    implicitly restarted Lanczos (``anodiff.extreme_eigenpairs``: a pair converged when |H v - lambda v| <= tol
    |lambda|): an ``EigenResult`` with ``eigenvalues``, ``residuals``, ``relative_residuals``, ``converged``,
    ``products`` (of the solve) and ``verification_products`` (one per pair when verify), as anodiff-hessian's
    eigenvalues.csv. Logs one line on ``logging.getLogger("anodiff")`` at INFO.
    """
    op = hessian_operator(model, loss_fn, batches, train_mode=train_mode, reuse_graph=reuse_graph)
    try:
        result = _anodiff.extreme_eigenpairs(op, k=k, tol=tol, which=which, method=method, eigenvectors=eigenvectors,
                                             verify=verify, seed=seed, ncv=ncv, max_iterations=max_iterations,
                                             start=start)
    finally:
        op.function.restore_buffers()
    log.info("hessian_eigenpairs: D = %d, k = %d, %d of %d converged, %d + %d products, %.3g s (%.3g s in products)",
             op.dimension, k, result.converged_count, k, result.products, result.verification_products,
             result.seconds, op.function.seconds)
    return result


class TraceEstimate:
    """A Hutch++ trace estimate: ``trace`` and the ``products`` it used (as anodiff-hessian's trace.csv)."""

    __slots__ = ("trace", "products")

    def __init__(self, trace, products):
        self.trace = float(trace)
        self.products = int(products)

    def __float__(self):
        return self.trace

    def __repr__(self):
        return f"TraceEstimate(trace={self.trace:.9g}, products={self.products})"


def hessian_trace(model, loss_fn, batches, products=99, seed=0, train_mode=False, reuse_graph=True):
    """hessian_trace(model, loss_fn, batches, products=99, seed=0, train_mode=False) -> TraceEstimate

    Hutch++ (Meyer et al. 2021, the core's ``hutchpp_trace``) estimate of the Hessian's trace with ``products``
    products (a multiple of 3). Its error: for m products, Meyer et al. bound |estimate - trace| by a constant times
    ||H||_* / m with high probability (docs/python.md gives the form the tests check); exact when the Hessian's rank
    is at most m / 3.
    """
    op = hessian_operator(model, loss_fn, batches, train_mode=train_mode, reuse_graph=reuse_graph)
    try:
        trace = _anodiff.hutchpp_trace(op, products=products, seed=seed)
    finally:
        op.function.restore_buffers()
    log.info("hessian_trace: D = %d, %d products, trace %.6g", op.dimension, op.products, trace)
    return TraceEstimate(trace, op.products)


def hessian_density(model, loss_fn, batches, probes=4, steps=40, seed=0, points=400, train_mode=False,
                    reuse_graph=True):
    """hessian_density(model, loss_fn, batches, probes=4, steps=40, seed=0, points=400, train_mode=False)
    -> SmoothedDensity

    The Hessian's spectral density by stochastic Lanczos quadrature (the core's ``spectral_density``: ``probes``
    Rademacher probes of ``steps`` Lanczos steps), smoothed on ``points`` grid points as anodiff-hessian's
    density_epoch_E.csv (``.x``, ``.y``, ``.quadrature.nodes``, ``.quadrature.weights``).
    """
    op = hessian_operator(model, loss_fn, batches, train_mode=train_mode, reuse_graph=reuse_graph)
    try:
        density = _anodiff.spectral_density(op, probes=probes, steps=steps, seed=seed)
    finally:
        op.function.restore_buffers()
    log.info("hessian_density: D = %d, %d probes x %d steps, %d products", op.dimension, probes, steps, op.products)
    return _anodiff.smooth_density(density, points=points)
