"""The package as installed by `cmake --install`: importable by Debian's python3 from the install prefix, without the
build tree, and without importing torch."""
import os
import subprocess
import sys

import pytest


def test_import_does_not_load_torch():
    code = "import sys, anodiff; anodiff.msd; assert 'torch' not in sys.modules, 'torch imported'; print('ok')"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr


def test_cmake_install_puts_it_on_pythons_path(tmp_path):
    build = os.environ.get("ANODIFF_BUILD_DIR")
    if not build:
        pytest.skip("ANODIFF_BUILD_DIR is not set (run under ctest)")
    prefix = tmp_path / "prefix"
    r = subprocess.run(["cmake", "--install", build, "--prefix", str(prefix)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    site = subprocess.run([sys.executable, "-c", "import os, sysconfig; p = sysconfig.get_paths(); "
                           "print(os.path.relpath(p['platlib'], p['data']))"], capture_output=True, text=True).stdout.strip()
    package = prefix / site / "anodiff"
    assert (package / "__init__.py").exists() and (package / "recorder.py").exists()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "LD_LIBRARY_PATH")}
    env["PYTHONPATH"] = str(prefix / site)
    code = ("import anodiff, numpy as np; assert anodiff.__file__.startswith(%r), anodiff.__file__; "
            "print(len(anodiff.msd(np.cumsum(np.ones((50, 3), np.float32), 0))))" % str(package))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "49"
