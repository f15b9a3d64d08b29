// libFuzzer target: a state_dict archive (torch.save's zip of data.pkl and data/N records) read by anodiff's
// unpickler. LibTorch itself is not instrumented: its zip reader's errors (c10::Error) must become InputErrors.
#include <torch/torch.h>

#include "torch/detail/state_dict_reader.hpp"
#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto file = anodiff::fuzz::scratch() / "state_dict.pt";
  anodiff::fuzz::write_file(file, data, size);
  anodiff::fuzz::expect_input_errors_only([&] {
    for (const auto& [name, tensor] : anodiff::detail::read_state_dict(file.string())) {
      (void)tensor.sum();  // every element read
    }
  });
  return 0;
}
