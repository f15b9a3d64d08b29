#pragma once
// Shared by anodiff-hessian and anodiff-landscape: the flags that give a --model of one's own its data (.npy inputs
// and labels, a built-in data set, or none for a TorchScript module's own loss()), their checks, and the data.
#include <cstdint>
#include <optional>
#include <string>

#include <boost/program_options.hpp>

#include "anodiff/torch/datasets.hpp"
#include "anodiff/torch/scripted_model.hpp"

namespace anodiff::cli {

/// The data flags of a --model run: --inputs/--labels, --data/--data-dir, --data-free and --classes.
struct ModelDataFlags {
  std::string name;        ///< --data: cifar10, mnist, fashion-mnist or gauss.
  std::string dir;         ///< --data-dir.
  std::string inputs;      ///< --inputs X.npy.
  std::string labels;      ///< --labels Y.npy.
  std::int64_t classes = 0;  ///< --classes of a built-in model (0: from the data).
  bool data_free = false;  ///< --data-free: the module's own loss(), no data.

  /// Adds the flags to `desc`; `data_free_help` says what --data-free means to the program.
  void add_to(boost::program_options::options_description& desc, const char* data_free_help) {
    namespace po = boost::program_options;
    desc.add_options()
        ("inputs", po::value(&inputs), "with --model: inputs (N, C, H, W) float32 .npy, used as they are")
        ("labels", po::value(&labels), "with --inputs: labels (N) int64 .npy")
        ("data", po::value(&name), "with --model: the training split of cifar10, mnist, fashion-mnist or gauss")
        ("data-dir", po::value(&dir), "the --data set's directory")
        ("classes", po::value(&classes)->default_value(0), "classes of a built-in --model (default: from the data)")
        ("data-free", po::bool_switch(&data_free), data_free_help);
  }

  /// Whether any data flag but --classes was given.
  [[nodiscard]] bool given() const { return !inputs.empty() || !labels.empty() || !name.empty() || data_free; }

  /// Throws a flag error unless a --model (`with_model`) has exactly one source of data and --inputs comes with
  /// --labels, or, without a --model, no data flag at all (`elsewhere` names what the program reads instead).
  void check(bool with_model, const char* elsewhere) const {
    namespace po = boost::program_options;
    if (with_model && int(!inputs.empty()) + int(!name.empty()) + int(data_free) != 1) {
      throw po::error("--model needs its data: --inputs X.npy --labels Y.npy, --data NAME, or --data-free");
    }
    if (inputs.empty() != labels.empty()) throw po::error("give --inputs and --labels together");
    if (!with_model && given()) {
      throw po::error(std::string("--inputs, --labels, --data and --data-free go with --model, not ") + elsewhere);
    }
  }

  /// The data with --classes applied; none for --data-free.
  [[nodiscard]] std::optional<Dataset> load() const {
    if (data_free) return std::nullopt;
    Dataset data = load_model_data(name, dir, inputs, labels);
    if (classes > 0) data.classes = classes;
    return data;
  }
};

}  // namespace anodiff::cli
