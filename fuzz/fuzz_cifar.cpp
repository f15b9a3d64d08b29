// libFuzzer target: a CIFAR-10 binary file (records of a label byte and 3,072 pixel bytes), from memory and from disk.
#include "torch/detail/dataset_files.hpp"
#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  anodiff::fuzz::expect_input_errors_only([&] {
    const auto s = anodiff::detail::parse_cifar10(std::vector<unsigned char>(data, data + size), "data_batch_1.bin");
    if (s.images.size() != std::size_t(s.n) * 3072 || s.labels.size() != std::size_t(s.n)) std::abort();
  });
  const auto file = anodiff::fuzz::scratch() / "data_batch_1.bin";
  anodiff::fuzz::write_file(file, data, size);
  anodiff::fuzz::expect_input_errors_only([&] { (void)anodiff::detail::read_plain(file); });
  return 0;
}
