#include "anodiff/torch/scripted_model.hpp"

#include <caffe2/serialize/inline_container.h>
#include <torch/csrc/jit/python/update_graph_executor_opt.h>
#include <torch/script.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include <fmt/format.h>

#include "anodiff/base/error.hpp"

namespace anodiff {
namespace fs = std::filesystem;

namespace {

// One line of a LibTorch error: TorchScript's interpreter errors end with the Python-level message after a traceback.
std::string one_line(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream ss(text);
  for (std::string line; std::getline(ss, line);) {
    const auto first = line.find_first_not_of(" \t");
    if (first != std::string::npos) lines.push_back(line.substr(first));
  }
  if (lines.empty()) return "unknown error";
  const bool traceback = text.find("Traceback of TorchScript") != std::string::npos;
  return traceback ? lines.back() : lines.front();
}
std::string one_line(const c10::Error& e) { return one_line(std::string(e.what_without_backtrace())); }

std::string dtype_name(torch::ScalarType t) {
  switch (t) {
    case torch::kFloat32: return "float32";
    case torch::kFloat64: return "float64";
    case torch::kInt64: return "int64";
    case torch::kInt32: return "int32";
    case torch::kInt16: return "int16";
    case torch::kInt8: return "int8";
    case torch::kUInt8: return "uint8";
    default: return c10::toString(t);
  }
}

std::string shape_of(const torch::Tensor& t) { return fmt::format("({})", fmt::join(t.sizes(), ", ")); }

// A TorchScript module as a Network: its parameters and buffers registered (the same tensors, not copies) on holder
// modules that mirror its hierarchy, so that their names are the module's (a torch::nn::Module name has no dots).
class ScriptedNetwork : public Network {
 public:
  ScriptedNetwork(torch::jit::Module module, fs::path file) : module_(std::move(module)), file_(std::move(file)) {
    for (const auto& p : module_.named_parameters(/*recurse=*/true)) {
      auto [holder, leaf] = holder_for(p.name);
      holder->register_parameter(leaf, p.value, p.value.requires_grad());
    }
    for (const auto& b : module_.named_buffers(/*recurse=*/true)) {
      auto [holder, leaf] = holder_for(b.name);
      holder->register_buffer(leaf, b.value);
    }
    train(module_.is_training());
  }

  torch::Tensor forward(torch::Tensor x) override {
    // No graph optimisation (autodiff subgraphs, fusion): every op is recorded by autograd as in eager PyTorch, so
    // that double backward (Hessian-vector products) is exact. Inputs contiguous: a user's .view() needs them so.
    torch::jit::GraphOptimizerEnabledGuard plain(false);
    c10::IValue out;
    try {
      out = module_.forward({x.contiguous()});
    } catch (const c10::Error& e) {
      throw InputError(fmt::format("{}: forward failed on inputs of shape {}: {}", file_.string(), shape_of(x), one_line(e)));
    } catch (const std::runtime_error& e) {  // torch::jit::JITException: an error in the module's code
      throw InputError(fmt::format("{}: forward failed on inputs of shape {}: {}", file_.string(), shape_of(x),
                                   one_line(std::string(e.what()))));
    }
    if (!out.isTensor()) {
      throw InputError(fmt::format("{}: forward returned a {}: expected a tensor of logits (N, classes)",
                                   file_.string(), out.tagKind()));
    }
    torch::Tensor logits = out.toTensor();
    if (logits.dim() != 2 || logits.size(0) != x.size(0)) {
      throw InputError(fmt::format("{}: forward returned shape {} for {} inputs: expected logits ({}, classes)",
                                   file_.string(), shape_of(logits), x.size(0), x.size(0)));
    }
    return logits;
  }

  void train(bool on) override {
    Network::train(on);
    module_.train(on);
  }

  // The scalar that the method `name` (no arguments) returns.
  std::function<torch::Tensor()> method(const std::string& name) {
    if (!module_.find_method(name)) {
      throw InputError(fmt::format("{}: the TorchScript module has no method '{}' (a data-free loss: a @torch.jit.export "
                                   "method without arguments returning a scalar)", file_.string(), name));
    }
    return [this, name] {
      torch::jit::GraphOptimizerEnabledGuard plain(false);
      c10::IValue out;
      try {
        out = module_.get_method(name)({});
      } catch (const c10::Error& e) {
        throw InputError(fmt::format("{}: method '{}' failed: {}", file_.string(), name, one_line(e)));
      } catch (const std::runtime_error& e) {
        throw InputError(fmt::format("{}: method '{}' failed: {}", file_.string(), name, one_line(std::string(e.what()))));
      }
      if (!out.isTensor() || out.toTensor().numel() != 1) {
        throw InputError(fmt::format("{}: method '{}' returned {}: expected a scalar tensor", file_.string(), name,
                                     out.isTensor() ? shape_of(out.toTensor()) : std::string(out.tagKind())));
      }
      return out.toTensor().reshape({});
    };
  }

 private:
  // The holder module of a dotted name "a.b.c" (a -> b, created on first use) and the leaf name "c".
  std::pair<torch::nn::Module*, std::string> holder_for(const std::string& name) {
    torch::nn::Module* holder = this;
    std::string path;
    std::size_t start = 0;
    for (std::size_t dot; (dot = name.find('.', start)) != std::string::npos; start = dot + 1) {
      const std::string part = name.substr(start, dot - start);
      path += (path.empty() ? "" : ".") + part;
      auto it = holders_.find(path);
      if (it == holders_.end()) {
        it = holders_.emplace(path, holder->register_module(part, std::make_shared<torch::nn::Module>())).first;
      }
      holder = it->second.get();
    }
    return {holder, name.substr(start)};
  }

  torch::jit::Module module_;
  fs::path file_;
  std::map<std::string, std::shared_ptr<torch::nn::Module>> holders_;
};

// ------------------------------------------------------------------------------------------------ .npy (any dtype)
struct Npy {
  torch::ScalarType type = torch::kFloat32;
  std::vector<std::int64_t> shape;
  std::vector<char> data;
};

Npy read_npy(const fs::path& file, const std::string& expected) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError(fmt::format("{}: no such file (expected {})", file.string(), expected));
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto bad = [&](const std::string& why) {
    return InputError(fmt::format("{}: {}: expected {} as a .npy file", file.string(), why, expected));
  };
  if (bytes.size() < 10 || std::memcmp(bytes.data(), "\x93NUMPY", 6) != 0) throw bad("not a .npy file");
  const int major = static_cast<unsigned char>(bytes[6]);
  std::size_t header_len = 0, offset = 0;
  if (major == 1) {
    header_len = static_cast<unsigned char>(bytes[8]) | (std::size_t(static_cast<unsigned char>(bytes[9])) << 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) throw bad("truncated header");
    for (int k = 0; k < 4; ++k) header_len |= std::size_t(static_cast<unsigned char>(bytes[8 + k])) << (8 * k);
    offset = 12;
  } else {
    throw bad(fmt::format("unsupported .npy version {}", major));
  }
  if (bytes.size() < offset + header_len) throw bad("truncated header");
  const std::string header(bytes.data() + offset, header_len);
  std::smatch m;
  if (!std::regex_search(header, m, std::regex(R"('descr'\s*:\s*'([^']*)')"))) throw bad("no dtype in the header");
  const std::string descr = m[1].str();
  static const std::map<std::string, std::pair<torch::ScalarType, std::size_t>> types = {
      {"<f4", {torch::kFloat32, 4}}, {"<f8", {torch::kFloat64, 8}}, {"<i8", {torch::kInt64, 8}},
      {"<i4", {torch::kInt32, 4}},   {"<i2", {torch::kInt16, 2}},   {"|i1", {torch::kInt8, 1}},
      {"|u1", {torch::kUInt8, 1}}};
  const auto type = types.find(descr);
  if (type == types.end()) throw bad(fmt::format("dtype '{}' is not supported", descr));
  if (header.find("'fortran_order': True") != std::string::npos) throw bad("Fortran order");
  if (!std::regex_search(header, m, std::regex(R"('shape'\s*:\s*\(([^)]*)\))"))) throw bad("no shape in the header");
  Npy a;
  a.type = type->second.first;
  std::size_t count = 1;
  std::stringstream dims(m[1].str());
  for (std::string d; std::getline(dims, d, ',');) {
    if (d.find_first_not_of(" ") == std::string::npos) continue;
    const long long v = std::stoll(d);
    a.shape.push_back(v);
    count *= std::size_t(v);
  }
  const std::size_t need = count * type->second.second, start = offset + header_len;
  if (bytes.size() < start + need) {
    throw bad(fmt::format("truncated: the header promises {} bytes of data, the file holds {}", need, bytes.size() - start));
  }
  a.data.assign(bytes.begin() + std::ptrdiff_t(start), bytes.begin() + std::ptrdiff_t(start + need));
  return a;
}

torch::Tensor to_tensor(Npy& a) {
  return torch::from_blob(a.data.data(), a.shape, torch::TensorOptions().dtype(a.type)).clone();
}

}  // namespace

std::function<torch::Tensor()> scripted_loss(Network& model, const std::string& method) {
  auto* scripted = dynamic_cast<ScriptedNetwork*>(&model);
  if (!scripted) throw InputError("a data-free loss needs a TorchScript model (a built-in model has none)");
  return scripted->method(method);
}

bool is_torchscript_file(const fs::path& file) {
  try {
    caffe2::serialize::PyTorchStreamReader reader(file.string());
    return reader.hasRecord("constants.pkl") || reader.hasRecord("bytecode.pkl");
  } catch (const c10::Error&) {
    return false;
  }
}

std::shared_ptr<Network> load_scripted_model(const fs::path& file) {
  if (!fs::exists(file)) throw InputError(fmt::format("{}: no such file (expected a TorchScript model)", file.string()));
  torch::jit::Module module;
  try {
    module = torch::jit::load(file.string(), torch::kCPU);
  } catch (const c10::Error& e) {
    throw InputError(fmt::format("{}: not a TorchScript model (save one with torch.jit.save(torch.jit.script(model), "
                                 "path)): {}", file.string(), one_line(e)));
  }
  auto net = std::make_shared<ScriptedNetwork>(std::move(module), file);
  if (net->parameters().empty()) {
    throw InputError(fmt::format("{}: the TorchScript module has no parameters", file.string()));
  }
  return net;
}

std::shared_ptr<Network> load_model(const std::string& name_or_file, std::int64_t channels, std::int64_t classes) {
  if (is_builtin_model(name_or_file)) return make_model(name_or_file, channels, classes);
  if (!fs::exists(name_or_file)) {
    throw InputError(fmt::format("{}: no such file: expected a TorchScript model file or a built-in model ({})",
                                 name_or_file, fmt::join(model_names(), ", ")));
  }
  return load_scripted_model(name_or_file);
}

bool is_builtin_model(const std::string& name) {
  const auto names = model_names();
  return std::find(names.begin(), names.end(), name) != names.end();
}

bool check_model_argument(const std::string& model) {
  const bool builtin = is_builtin_model(model);
  if (!builtin && !fs::exists(model)) {
    throw InputError(fmt::format("{}: no such file: expected a TorchScript model or a built-in model name", model));
  }
  return builtin;
}

std::shared_ptr<Network> resolve_network(const std::string& architecture, const fs::path& weights,
                                         const std::optional<Dataset>& data) {
  if (is_torchscript_file(weights)) return load_scripted_model(weights);
  if (architecture.empty()) {
    throw InputError(fmt::format("{}: a state_dict or checkpoint needs its architecture: a built-in model name or "
                                 "a TorchScript file of the same network", weights.string()));
  }
  if (!fs::exists(weights)) throw InputError(fmt::format("{}: no such file (expected a checkpoint)", weights.string()));
  auto model = load_model(architecture, data ? data->channels() : 3, data ? data->classes : 10);
  load_state_dict(*model, weights.string());
  return model;
}

Dataset load_npy_dataset(const fs::path& inputs, const fs::path& labels) {
  Npy x = read_npy(inputs, "inputs (N, C, H, W) float32");
  Npy y = read_npy(labels, "labels (N) int64");
  if (x.shape.size() != 4 || (x.type != torch::kFloat32 && x.type != torch::kFloat64)) {
    throw InputError(fmt::format("{}: {} array of shape ({}): expected float32 inputs (N, C, H, W)", inputs.string(),
                                 dtype_name(x.type), fmt::join(x.shape, ", ")));
  }
  if (y.shape.size() != 1 || y.type == torch::kFloat32 || y.type == torch::kFloat64) {
    throw InputError(fmt::format("{}: {} array of shape ({}): expected integer labels (N)", labels.string(),
                                 dtype_name(y.type), fmt::join(y.shape, ", ")));
  }
  if (y.shape[0] != x.shape[0]) {
    throw InputError(fmt::format("{}: {} labels for {} inputs in {}: expected one label per input", labels.string(),
                                 y.shape[0], x.shape[0], inputs.string()));
  }
  if (x.shape[0] == 0) throw InputError(fmt::format("{}: no samples", inputs.string()));
  Dataset d;
  d.name = "npy";
  d.images = to_tensor(x).to(torch::kFloat32);
  d.labels = to_tensor(y).to(torch::kInt64);
  if (d.labels.min().item<std::int64_t>() < 0) {
    throw InputError(fmt::format("{}: negative label {}: expected class indices >= 0", labels.string(),
                                 d.labels.min().item<std::int64_t>()));
  }
  d.classes = d.labels.max().item<std::int64_t>() + 1;
  d.mean.assign(std::size_t(x.shape[1]), 0.0);
  d.std.assign(std::size_t(x.shape[1]), 1.0);
  return d;
}

Dataset load_model_data(const std::string& name, const fs::path& dir, const fs::path& inputs, const fs::path& labels) {
  if (inputs.empty() != labels.empty()) {
    throw std::invalid_argument("load_model_data: give both the inputs and the labels (.npy), or neither");
  }
  if (inputs.empty() == name.empty()) {
    throw std::invalid_argument("load_model_data: give exactly one of a built-in data set and .npy inputs and labels");
  }
  if (!inputs.empty()) return load_npy_dataset(inputs, labels);
  return load_dataset(name, dir).train;
}

void check_classifier(Network& model, const Dataset& data, const std::string& what) {
  torch::NoGradGuard no_grad;
  const bool training = model.is_training();
  model.eval();
  std::mt19937_64 unused(0);
  const std::int64_t n = std::min<std::int64_t>(2, data.size());
  std::vector<std::int64_t> idx(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) idx[std::size_t(i)] = i;
  const torch::Tensor p0 = model.parameters().front();
  auto x = make_batch(data, idx, false, unused).to(p0.device(), p0.scalar_type());
  torch::Tensor logits;
  try {
    logits = model.forward(x);
  } catch (const c10::Error& e) {
    throw InputError(fmt::format("{}: forward failed on inputs of shape {}: {}", what, shape_of(x), one_line(e)));
  }
  model.train(training);
  if (logits.dim() != 2 || logits.size(0) != n) {
    throw InputError(fmt::format("{}: the model returned shape {} for {} inputs: expected logits ({}, classes)", what,
                                 shape_of(logits), n, n));
  }
  const std::int64_t top = data.labels.max().item<std::int64_t>();
  if (logits.size(1) <= top) {
    throw InputError(fmt::format("{}: the model returns {} classes, the data have labels up to {}", what,
                                 logits.size(1), top));
  }
}

}  // namespace anodiff
