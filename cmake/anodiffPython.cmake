# Finds what the Python module needs (python/CMakeLists.txt): a Python 3 interpreter with its headers, and pybind11
# (Debian: python3-dev, pybind11-dev). Debian's /usr/bin/python3 is preferred to another python3 on the PATH (a
# pyenv shim, a virtual environment) unless -DPython_EXECUTABLE=... says otherwise: the module must be importable by
# the python3 that runs it. Sets ANODIFF_PYTHON_FOUND.
if(NOT DEFINED Python_EXECUTABLE AND EXISTS /usr/bin/python3)
  set(Python_EXECUTABLE /usr/bin/python3 CACHE FILEPATH "The Python interpreter the anodiff module is built for")
endif()
find_package(Python 3.7 QUIET COMPONENTS Interpreter Development.Module)
set(ANODIFF_PYTHON_FOUND OFF)
if(Python_FOUND)
  set(PYBIND11_FINDPYTHON ON)  # pybind11 uses the Python found above
  find_package(pybind11 2.6 CONFIG QUIET)
  if(pybind11_FOUND)
    set(ANODIFF_PYTHON_FOUND ON)
  endif()
endif()
