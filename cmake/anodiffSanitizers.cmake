# Sanitizer and fuzzing builds (docs/robustness.md). Included by the top-level CMakeLists.txt before any target:
#   ANODIFF_SANITIZE=ON       everything built with AddressSanitizer + UndefinedBehaviorSanitizer (any UB aborts);
#                             scripts/test.sh builds anodiff::core and its tests so in build-asan and runs them
#   ANODIFF_BUILD_FUZZERS=ON  the libFuzzer targets of fuzz/ (clang only; implies ANODIFF_SANITIZE), with a smoke run
#                             of each (a fixed number of executions) registered in ctest (label fuzz)
option(ANODIFF_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)
option(ANODIFF_BUILD_FUZZERS "Build the libFuzzer targets of fuzz/ (clang; implies ANODIFF_SANITIZE)" OFF)
if(ANODIFF_BUILD_FUZZERS)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "ANODIFF_BUILD_FUZZERS needs clang (libFuzzer): configure with -DCMAKE_CXX_COMPILER=clang++ "
                        "(Debian: apt-get install clang)")
  endif()
  set(ANODIFF_SANITIZE ON)
  # Coverage feedback from the library too, not only from the fuzz targets' own code.
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
if(ANODIFF_SANITIZE)
  if(ANODIFF_WITH_PYTHON)
    message(STATUS "anodiff: ANODIFF_SANITIZE builds no Python module (an instrumented module needs an instrumented "
                   "interpreter)")
    set(ANODIFF_WITH_PYTHON OFF CACHE BOOL "" FORCE)
  endif()
  set(ANODIFF_SANITIZER_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_compile_options(${ANODIFF_SANITIZER_FLAGS})
  add_link_options(${ANODIFF_SANITIZER_FLAGS})
endif()
