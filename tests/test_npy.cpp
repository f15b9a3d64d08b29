#include <catch2/catch.hpp>

#include <atomic>

#include <dlfcn.h>

#include "anodiff/base/error.hpp"
#include "anodiff/trajectory/weight_trajectory.hpp"
#include "detail/npy.hpp"
#include "test_helpers.hpp"

using namespace anodiff;
using anodiff::test::TempDir;

namespace {
std::string message_of_load(const std::filesystem::path& p) {
  try {
    WeightTrajectory::load(p);
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}
}  // namespace

TEST_CASE("npy: versions 1.0, 2.0 and 3.0 with float32 and float64 load with the same values", "[npy]") {
  TempDir dir;
  const std::vector<float> f = {1.5f, -2.f, 3.25f, 4.f, 5.f, 6.f};
  const std::vector<double> d = {1.5, -2, 3.25, 4, 5, 6};
  for (int major : {1, 2, 3}) {
    for (bool dbl : {false, true}) {
      const std::string dict = std::string("{'descr': '") + (dbl ? "<f8" : "<f4") +
                               "', 'fortran_order': False, 'shape': (3, 2), }";
      const auto path = dir / ("v" + std::to_string(major) + (dbl ? "d" : "f") + ".npy");
      test::write_bytes(path, test::npy_bytes(major, dict, dbl ? test::bytes_of(d) : test::bytes_of(f)));
      const auto t = WeightTrajectory::load(path);
      REQUIRE(t.size() == 3);
      REQUIRE(t.dimension() == 2);
      CHECK(t.snapshot(1) == std::vector<double>{3.25, 4});
      CHECK(t.snapshot(2) == std::vector<double>{5, 6});
    }
  }
}

TEST_CASE("npy: the writer's header round-trips and is 64-byte aligned", "[npy]") {
  TempDir dir;
  const std::vector<float> v = {1, 2, 3, 4, 5, 6};
  detail::npy_write(dir / "a.npy", detail::NpyType::float32, {2, 3}, v.data());
  const auto a = detail::npy_open(dir / "a.npy");
  CHECK(a.shape == std::vector<std::size_t>{2, 3});
  CHECK((a.data - a.mapping->data()) % 64 == 0);
  CHECK(reinterpret_cast<const float*>(a.data)[5] == 6.f);
  const auto one = detail::npy_header(detail::NpyType::float64, {7});
  CHECK(one.find("'shape': (7,)") != std::string::npos);
}

TEST_CASE("npy: malformed files are rejected with the file, what was expected and what was found", "[npy][errors]") {
  TempDir dir;
  const std::string good = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }";
  const std::string data = test::bytes_of(std::vector<float>{1, 2, 3, 4});

  SECTION("missing file") {
    const auto msg = message_of_load(dir / "nope.npy");
    CHECK_THAT(msg, Catch::Contains("nope.npy") && Catch::Contains("no such file"));
  }
  SECTION("bad magic") {
    test::write_bytes(dir / "bad.npy", "PK\x03\x04 this is a zip file, not npy");
    CHECK_THAT(message_of_load(dir / "bad.npy"), Catch::Contains("bad.npy") && Catch::Contains("magic"));
  }
  SECTION("unsupported version") {
    test::write_bytes(dir / "v4.npy", test::npy_bytes(4, good, data));
    CHECK_THAT(message_of_load(dir / "v4.npy"), Catch::Contains("version 4.0") && Catch::Contains("expected 1.0"));
  }
  SECTION("truncated data") {
    test::write_bytes(dir / "short.npy", test::npy_bytes(1, good, data.substr(0, 10)));
    CHECK_THAT(message_of_load(dir / "short.npy"),
               Catch::Contains("short.npy") && Catch::Contains("16 bytes") && Catch::Contains("holds 10"));
  }
  SECTION("truncated header") {
    test::write_bytes(dir / "head.npy", test::npy_bytes(1, good, data).substr(0, 30));
    CHECK_THAT(message_of_load(dir / "head.npy"), Catch::Contains("truncated .npy header"));
  }
  SECTION("integer dtype") {
    test::write_bytes(dir / "int.npy",
                      test::npy_bytes(1, "{'descr': '<i8', 'fortran_order': False, 'shape': (2, 1), }", data));
    CHECK_THAT(message_of_load(dir / "int.npy"), Catch::Contains("'<i8'") && Catch::Contains("float32"));
  }
  SECTION("big-endian dtype") {
    test::write_bytes(dir / "be.npy",
                      test::npy_bytes(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (2, 2), }", data));
    CHECK_THAT(message_of_load(dir / "be.npy"), Catch::Contains("'>f4'"));
  }
  SECTION("Fortran order") {
    test::write_bytes(dir / "f.npy",
                      test::npy_bytes(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", data));
    CHECK_THAT(message_of_load(dir / "f.npy"), Catch::Contains("Fortran order"));
  }
  SECTION("1-D array where a trajectory is expected") {
    test::write_bytes(dir / "one.npy",
                      test::npy_bytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", data));
    CHECK_THAT(message_of_load(dir / "one.npy"), Catch::Contains("2-D") && Catch::Contains("found 1"));
  }
}

// Regression tests of the mutation test (fuzz/mutate.py, 2026-11-29): headers whose shape would make the reader map,
// allocate or loop beyond the file. Each is refused with one line naming the file.
TEST_CASE("npy: a shape that overflows or exceeds the file is refused before anything is read", "[npy][errors]") {
  TempDir dir;
  const std::string data = test::bytes_of(std::vector<float>(14, 1.f));
  auto message = [&](const std::string& shape, const std::string& descr = "<f4") {
    const auto path = dir / "hostile.npy";
    test::write_bytes(path, test::npy_bytes(1, "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape +
                                                   ", }", data));
    return message_of_load(path);
  };
  // (2^64 - 1, 7): 7 (2^64 - 1) wraps around to a small number of bytes; so did its product with the item size.
  CHECK_THAT(message("(18446744073709551615, 7)"), Catch::Contains("hostile.npy") && Catch::Contains("overflows"));
  CHECK_THAT(message("(7, 18446744073709551613)"), Catch::Contains("hostile.npy") && Catch::Contains("overflows"));
  CHECK_THAT(message("(4611686018427387904, 1)"), Catch::Contains("overflows"));  // 2^62 x 4 bytes = 2^64
  CHECK_THAT(message("(2305843009213693952, 1)", "<f8"), Catch::Contains("overflows"));
  // (-3, 7): std::stoull read -3 as 2^64 - 3.
  CHECK_THAT(message("(-3, 7)"), Catch::Contains("hostile.npy") && Catch::Contains("non-negative whole numbers"));
  CHECK_THAT(message("(+2, 7)"), Catch::Contains("non-negative whole numbers"));
  CHECK_THAT(message("(18446744073709551616, 1)"), Catch::Contains("exceeds 64 bits"));
  CHECK_THAT(message("(1e5, 7)"), Catch::Contains("malformed .npy shape"));
  CHECK_THAT(message("(2 7)"), Catch::Contains("expected ','"));
  CHECK_THAT(message("(2, 7"), Catch::Contains("malformed"));
  CHECK_THAT(message("(3, 7)"), Catch::Contains("promises 84 bytes") && Catch::Contains("holds 56"));
  CHECK_THAT(message("(100000, 100000)"), Catch::Contains("promises 40000000000 bytes"));
  // A zero dimension holds no bytes: with no snapshot the dimension is not bounded by the file, so it is refused.
  CHECK_THAT(message("(0, 1152921504606846976)"), Catch::Contains("at least one snapshot"));
  // Still accepted: numpy's own spellings of a shape.
  CHECK(message("(2, 7)") == "no error");
  CHECK(message("( 2 , 7 , )") == "no error");
}

TEST_CASE("npy: a hostile header is quoted on one printable line", "[npy][errors]") {
  TempDir dir;
  const auto path = dir / "binary.npy";
  test::write_bytes(path, test::npy_bytes(1, "{'descr': '<f4\n\x01\xff', 'fortran_order': False, 'shape': (1, 1), }",
                                          test::bytes_of(std::vector<float>{1.f})));
  const auto msg = message_of_load(path);
  CHECK_THAT(msg, Catch::Contains("binary.npy") && Catch::Contains("\\x0a\\x01\\xff"));
  CHECK(msg.find('\n') == std::string::npos);
  test::write_bytes(path, test::npy_bytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,\n\xfe 1), }", ""));
  const auto shape = message_of_load(path);
  CHECK_THAT(shape, Catch::Contains("malformed .npy shape") && Catch::Contains("\\x0a"));
  CHECK(shape.find('\n') == std::string::npos);
}

// Regression test of fuzz_npy (fuzz/): a header not padded to a multiple of the item size leaves the data unaligned;
// the values were read by misaligned float loads (undefined behaviour, UBSan's finding). They are copied out now.
TEST_CASE("npy: unaligned data (a header not padded) reads the same values", "[npy]") {
  TempDir dir;
  const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }\n";  // 61 bytes: offset 71
  std::string bytes = std::string("\x93NUMPY\x01\x00", 8) + char(dict.size()) + '\0' + dict;
  REQUIRE(bytes.size() % 4 != 0);
  bytes += test::bytes_of(std::vector<float>{1.5f, -2.f, 3.f, 4.25f});
  test::write_bytes(dir / "odd.npy", bytes);
  const auto t = WeightTrajectory::load(dir / "odd.npy");
  CHECK(t.snapshot(1) == std::vector<double>{3.0, 4.25});
  auto one = std::string("\x93NUMPY\x01\x00", 8);
  const std::string dict1 = "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }\n";
  one += char(dict1.size());
  one += '\0';
  test::write_bytes(dir / "series.npy", one + dict1 + test::bytes_of(std::vector<double>{0.5, -7.0}));
  CHECK(load_series(dir / "series.npy") == std::vector<double>{0.5, -7.0});
}

// fsync interposed for the whole test program (the executable's definition comes before libc's for the library's
// calls too), counting the calls and forwarding them: a durable write that forgets to flush the file or its folder
// fails here, which no other test can see (the data reach the page cache either way).
namespace {
std::atomic<int> fsync_calls{0};
}  // namespace

extern "C" int fsync(int fd) {
  fsync_calls.fetch_add(1);
  using Fsync = int (*)(int);
  static const Fsync real = reinterpret_cast<Fsync>(dlsym(RTLD_NEXT, "fsync"));
  return real(fd);
}

TEST_CASE("a durable write flushes the file and then its folder to disk", "[npy][durable]") {
  TempDir dir;
  const int before = fsync_calls.load();
  detail::write_file_durably(dir / "x.bin", "header", "data", 4);
  CHECK(fsync_calls.load() - before == 2);  // the temporary file before the rename, the folder after it
  const int before_npy = fsync_calls.load();
  const float row[3] = {1, 2, 3};
  detail::npy_write(dir / "x.npy", detail::NpyType::float32, {1, 3}, row);
  CHECK(fsync_calls.load() - before_npy == 2);
  CHECK(WeightTrajectory::load(dir / "x.npy").snapshot(0)[2] == 3);
}
