// libFuzzer target: an IDX image file and its IDX label file (MNIST / Fashion-MNIST), separated by "\n##\n", parsed
// from memory; the image file also read from disk, plain or gzip (zlib reads either).
#include "torch/detail/dataset_files.hpp"
#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto parts = anodiff::fuzz::split_input(data, size, 2);
  const std::vector<unsigned char> images(parts[0].begin(), parts[0].end()), labels(parts[1].begin(), parts[1].end());
  anodiff::fuzz::expect_input_errors_only([&] {
    const auto s = anodiff::detail::parse_idx(images, labels, "images", "labels");
    if (s.images.size() != std::size_t(s.n) * 1024 || s.labels.size() != std::size_t(s.n)) std::abort();
  });
  const auto file = anodiff::fuzz::scratch() / "images-idx3-ubyte.gz";
  anodiff::fuzz::write_file(file, data, size);
  anodiff::fuzz::expect_input_errors_only([&] { (void)anodiff::detail::read_gzip_or_plain(file, 1 << 24); });
  return 0;
}
