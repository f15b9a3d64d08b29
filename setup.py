"""Builds the Python package anodiff with the project's own CMake (pyproject.toml; docs/python.md, "Install").

`pip install --no-build-isolation .` from the checkout runs this with Debian's setuptools: CMake configures the core
library and the compiled module only (no LibTorch, no programs, no tests) for the Python that runs pip, builds the
module, and the wheel gets the module, the package's Python files, anodiff/_version.py (CMake's project VERSION) and,
when the core is a shared library, libanodiff_core beside the module (the module's RPATH has $ORIGIN). Nothing is
downloaded: pybind11, Eigen, Spectra and fmt are the system's (scripts/install-deps.sh).

Environment: ANODIFF_CMAKE_BUILD_DIR names a CMake build directory to use (an existing, configured one is only
built, e.g. the checkout's build/ made by scripts/build.sh); otherwise setuptools' build_temp. ANODIFF_CMAKE_ARGS
adds configure arguments; CMAKE_BUILD_PARALLEL_LEVEL sets the build's jobs (default: every core).
"""
import glob
import os
import re
import shlex
import shutil
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = os.path.dirname(os.path.abspath(__file__))


def cmake_version():
    """The version in the top-level CMakeLists.txt's project(anodiff VERSION x.y.z)."""
    with open(os.path.join(ROOT, "CMakeLists.txt"), encoding="utf-8") as f:
        m = re.search(r"project\(\s*anodiff\s+VERSION\s+([0-9][0-9.]*)", f.read())
    if not m:
        raise RuntimeError("setup.py: no project(anodiff VERSION ...) in CMakeLists.txt")
    return m.group(1)


class CMakeBuild(build_ext):
    """build_ext that builds the module anodiff._anodiff with CMake and copies what it needs into the wheel."""

    def run(self):
        build = os.environ.get("ANODIFF_CMAKE_BUILD_DIR") or os.path.join(os.path.abspath(self.build_temp), "cmake")
        build = os.path.abspath(build)
        if not os.path.exists(os.path.join(build, "CMakeCache.txt")):
            args = ["cmake", "-S", ROOT, "-B", build, "-DCMAKE_BUILD_TYPE=Release", "-DANODIFF_WITH_TORCH=OFF",
                    "-DANODIFF_BUILD_EXAMPLES=OFF", "-DANODIFF_BUILD_TESTS=OFF", "-DANODIFF_INSTALL=OFF",
                    "-DANODIFF_WITH_PYTHON=ON", f"-DPython_EXECUTABLE={sys.executable}"]
            args += shlex.split(os.environ.get("ANODIFF_CMAKE_ARGS", ""))
            subprocess.run(args, check=True)
        env = dict(os.environ)
        env.setdefault("CMAKE_BUILD_PARALLEL_LEVEL", str(os.cpu_count() or 1))
        subprocess.run(["cmake", "--build", build, "--target", "anodiff_python"], check=True, env=env)

        package = os.path.join(build, "python", "anodiff")
        modules = glob.glob(os.path.join(package, "_anodiff*.so"))
        if len(modules) != 1:
            raise RuntimeError(f"setup.py: expected one compiled module in {package}, found {modules}")
        dest = os.path.dirname(self.get_ext_fullpath("anodiff._anodiff"))
        os.makedirs(dest, exist_ok=True)
        shutil.copy2(modules[0], os.path.join(dest, os.path.basename(self.get_ext_fullpath("anodiff._anodiff"))))
        shutil.copy2(os.path.join(package, "_version.py"), dest)
        # A shared core: its SONAME file (libanodiff_core.so.N) beside the module.
        for lib in glob.glob(os.path.join(build, "libanodiff_core.so.*")):
            if re.fullmatch(r"libanodiff_core\.so\.\d+", os.path.basename(lib)):
                shutil.copy(lib, dest)


setup(
    version=cmake_version(),
    ext_modules=[Extension("anodiff._anodiff", sources=[])],
    cmdclass={"build_ext": CMakeBuild},
    zip_safe=False,
)
