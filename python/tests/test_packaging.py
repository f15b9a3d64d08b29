"""anodiff.__version__ from CMake, logging through logging.getLogger("anodiff"), and `pip install
--no-build-isolation .` of the checkout into a virtual environment made with --system-site-packages (pyproject.toml,
setup.py), without network: the installed package imports from the environment and computes."""
import logging
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

import anodiff

SOURCE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def cmake_version():
    with open(os.path.join(SOURCE, "CMakeLists.txt")) as f:
        return re.search(r"project\(\s*anodiff\s+VERSION\s+([0-9.]+)", f.read()).group(1)


def test_version_is_cmakes():
    assert anodiff.__version__ == cmake_version()
    assert re.fullmatch(r"\d+\.\d+\.\d+", anodiff.__version__)


def test_the_library_logs_through_the_anodiff_logger(caplog):
    X = np.cumsum(np.random.default_rng(0).standard_normal((300, 20)), axis=0)
    with caplog.at_level(logging.INFO, logger="anodiff"):
        anodiff.post_analysis(X, part_length=70)  # 300 = 4 x 70 + 20: the library notes the 20 left out
    lines = [r.getMessage() for r in caplog.records if r.name == "anodiff"]
    assert any("the last 20 snapshots" in line for line in lines), lines
    assert any(isinstance(h, logging.NullHandler) for h in logging.getLogger("anodiff").handlers)
    # An explicit log= callable still receives the lines instead.
    got = []
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="anodiff"):
        anodiff.post_analysis(X, part_length=70, log=got.append)
    assert any("the last 20 snapshots" in line for line in got)
    assert not [r for r in caplog.records if "the last 20" in r.getMessage()]


def test_pip_install_into_a_venv(tmp_path):
    build = os.environ.get("ANODIFF_BUILD_DIR")
    if not build:
        pytest.skip("ANODIFF_BUILD_DIR is not set (run under ctest)")
    # The checkout's files that the build reads (pip builds in the source tree: a copy keeps the checkout clean).
    src = tmp_path / "src"
    for name in ("CMakeLists.txt", "pyproject.toml", "setup.py", "LICENSE", "cmake", "include", "src", "python",
                 "docs/python.md"):
        a = os.path.join(SOURCE, name)
        b = src / name
        if os.path.isdir(a):
            shutil.copytree(a, b, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            os.makedirs(b.parent, exist_ok=True)
            shutil.copy2(a, b)
    venv = tmp_path / "venv"
    subprocess.run(["/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable, "-m", "venv",
                    "--system-site-packages", str(venv)], check=True)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "LD_LIBRARY_PATH")}
    env["ANODIFF_CMAKE_BUILD_DIR"] = build  # the module built by this build (the CMake build is not repeated)
    env["PIP_NO_INDEX"] = "1"  # no network
    r = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--no-build-isolation", "--no-index",
                        "--no-deps", str(src)], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    # The package, and the core library it loads (a shared core is copied beside the module), are the venv's.
    code = ("import sys, anodiff, numpy as np; assert anodiff.__file__.startswith(sys.prefix), anodiff.__file__; "
            "maps = [l.split()[-1] for l in open('/proc/self/maps') if 'anodiff_core' in l]; "
            "assert all(m.startswith(sys.prefix) for m in maps), maps; "
            "c = anodiff.msd(np.cumsum(np.ones((50, 3)), 0)); print(anodiff.__version__, len(c), c.msd[0])")
    r = subprocess.run([str(venv / "bin" / "python"), "-c", code], capture_output=True, text=True, env=env,
                       cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    version, lags, first = r.stdout.split()
    assert version == cmake_version() and lags == "49" and float(first) == pytest.approx(3.0, rel=1e-9)
    r = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "show", "anodiff"], capture_output=True, text=True,
                       env=env)
    assert f"Version: {cmake_version()}" in r.stdout
