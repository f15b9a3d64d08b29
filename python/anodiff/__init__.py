"""anodiff: anomalous diffusion of SGD, from Python.

The analyses are the C++ library anodiff::core (compiled module ``anodiff._anodiff``, no LibTorch inside): numpy
arrays in (float32/float64, read in place) and out, the GIL released while they compute. ``anodiff.Recorder``
records a PyTorch training loop in anodiff's trajectory format (torch is imported only when it is used).

    import anodiff
    t = anodiff.load_trajectory("runs/mine/trajectory")     # memory-mapped; t.positions is a numpy view
    c = anodiff.msd(t, part_length=1000, part=0)            # c.lag, c.msd: numpy arrays
    fit = anodiff.fit_crossover(c)                          # early/late exponents, tau0
    parts = anodiff.post_analysis(t, part_length=1000)      # everything anodiff-post-analysis computes
    for part in anodiff.follow(path, 1000, until_epoch=30):  # the same, part by part, while the run records

Errors: TypeError (wrong dtype), ValueError (wrong shape, NaN weights, a malformed file), OSError / FileNotFoundError
(a missing file, a failed write), each with the library's message. docs/python.md has the guide.
"""
import logging as _logging

from ._anodiff import *  # noqa: F401,F403
from .recorder import Recorder, flat_parameters, parameter_layout  # noqa: F401
from .hessian import hessian_operator, hessian_eigenpairs, hessian_trace, hessian_density, TraceEstimate  # noqa: F401
from .landscape import loss_surface, random_directions, roughness, LossSurface  # noqa: F401
from .follow import follow  # noqa: F401

from ._version import __version__  # noqa: F401  (CMake's project(VERSION), written at configure time)

_logging.getLogger("anodiff").addHandler(_logging.NullHandler())


def __getattr__(name):
    # anodiff.plot is imported on first use, so that `import anodiff` never needs matplotlib.
    if name == "plot":
        import importlib

        return importlib.import_module(".plot", __name__)
    raise AttributeError(f"module 'anodiff' has no attribute '{name}'")
