// anodiff._anodiff: the compiled part of the Python package anodiff (docs/python.md), over anodiff::core only.
#include <string>

#include "anodiff/base/error.hpp"
#include "common.hpp"

namespace {

bool contains(const std::string& s, const char* what) { return s.find(what) != std::string::npos; }

}  // namespace

PYBIND11_MODULE(_anodiff, m) {
  namespace py = pybind11;
  m.doc() =
      "anodiff: anomalous diffusion of SGD. Numpy in and out over the C++ library anodiff::core.\n"
      "See help(anodiff) and docs/python.md.";
  // The library's errors as Python's: a user's unusable input is a ValueError (an OSError when a file is missing or
  // cannot be opened), a failure to write a file an OSError; the message is the library's.
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const anodiff::InputError& e) {
      const std::string what = e.what();
      if (contains(what, ": no such file")) {
        PyErr_SetString(PyExc_FileNotFoundError, e.what());
      } else if (contains(what, ": cannot open") || contains(what, ": cannot memory-map") ||
                 contains(what, ": expected a regular file")) {
        PyErr_SetString(PyExc_OSError, e.what());
      } else {
        PyErr_SetString(PyExc_ValueError, e.what());
      }
    } catch (const anodiff::IoError& e) {
      PyErr_SetString(PyExc_OSError, e.what());
    } catch (const std::filesystem::filesystem_error& e) {
      PyErr_SetString(PyExc_OSError, e.what());
    }
  });
  anodiff::python::init_trajectory(m);
  anodiff::python::init_msd(m);
  anodiff::python::init_fits(m);
  anodiff::python::init_post_analysis(m);
  anodiff::python::init_pairs(m);
  anodiff::python::init_surfaces(m);
  anodiff::python::init_spectrum(m);
  anodiff::python::init_landscape(m);
  anodiff::python::init_follow(m);
}
