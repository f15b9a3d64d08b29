#include "anodiff/torch/models.hpp"

#include <map>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include <fmt/format.h>

#include "anodiff/base/error.hpp"
#include "torch/detail/conv2d.hpp"
#include "detail/npy.hpp"
#include "torch/detail/state_dict_reader.hpp"

namespace anodiff {
namespace nn = torch::nn;

namespace {

// nn::Conv2d (same parameters, names and initialisation) whose forward is detail::conv2d: the same values, and a
// double backward (Hessian-vector products) without LibTorch's slow transposed-convolution fallback.
class ConvImpl : public nn::Conv2dImpl {
 public:
  ConvImpl(std::int64_t in, std::int64_t out, std::int64_t kernel, std::int64_t stride, std::int64_t padding,
           bool bias)
      : nn::Conv2dImpl(nn::Conv2dOptions(in, out, kernel).stride(stride).padding(padding).bias(bias)),
        stride_(stride),
        padding_(padding) {}
  torch::Tensor forward(const torch::Tensor& x) { return detail::conv2d(x, weight, bias, stride_, padding_); }

 private:
  std::int64_t stride_, padding_;
};
TORCH_MODULE(Conv);

Conv conv3x3(std::int64_t in, std::int64_t out, std::int64_t stride, bool bias = false) {
  return Conv(in, out, /*kernel=*/3, stride, /*padding=*/1, bias);
}

// conv3x3-BN-ReLU-conv3x3-BN (+ shortcut), then ReLU. Module names as in Li et al.'s resnet.py.
class BasicBlock : public nn::Module {
 public:
  BasicBlock(std::int64_t in, std::int64_t planes, std::int64_t stride, bool shortcut)
      : conv1_(register_module("conv1", conv3x3(in, planes, stride))),
        bn1_(register_module("bn1", nn::BatchNorm2d(planes))),
        conv2_(register_module("conv2", conv3x3(planes, planes, 1))),
        bn2_(register_module("bn2", nn::BatchNorm2d(planes))),
        use_shortcut_(shortcut) {
    if (shortcut && (stride != 1 || in != planes)) {
      projection_ = register_module(
          "shortcut", nn::Sequential(Conv(in, planes, /*kernel=*/1, stride, /*padding=*/0, /*bias=*/false),
                                     nn::BatchNorm2d(planes)));
    }
  }
  torch::Tensor forward(torch::Tensor x) {
    auto out = torch::relu(bn1_(conv1_(x)));
    out = bn2_(conv2_(out));
    if (use_shortcut_) out += projection_.is_empty() ? x : projection_->forward(x);
    return torch::relu(out);
  }

 private:
  Conv conv1_;
  nn::BatchNorm2d bn1_;
  Conv conv2_;
  nn::BatchNorm2d bn2_;
  nn::Sequential projection_{nullptr};
  bool use_shortcut_;
};

class CifarResNet : public Network {
 public:
  CifarResNet(int depth, bool shortcut, std::int64_t in_channels, std::int64_t classes) {
    const int n = (depth - 2) / 6;
    conv1_ = register_module("conv1", conv3x3(in_channels, 16, 1));
    bn1_ = register_module("bn1", nn::BatchNorm2d(16));
    std::int64_t in = 16;
    const std::int64_t planes[3] = {16, 32, 64};
    for (int s = 0; s < 3; ++s) {
      nn::Sequential layer;
      for (int b = 0; b < n; ++b) {
        layer->push_back(BasicBlock(in, planes[s], b == 0 && s > 0 ? 2 : 1, shortcut));
        in = planes[s];
      }
      layers_.push_back(register_module(fmt::format("layer{}", s + 1), layer));
    }
    linear_ = register_module("linear", nn::Linear(64, classes));
  }
  torch::Tensor forward(torch::Tensor x) override {
    auto out = torch::relu(bn1_(conv1_(x)));
    for (auto& l : layers_) out = l->forward(out);
    out = torch::avg_pool2d(out, /*kernel_size=*/{8, 8}).flatten(1);  // global average of the 8x8 maps
    return linear_(out);
  }

 private:
  Conv conv1_{nullptr};
  nn::BatchNorm2d bn1_{nullptr};
  std::vector<nn::Sequential> layers_;
  nn::Linear linear_{nullptr};
};

// VGG-9 as in Li et al.'s vgg.py: features (conv-BN-ReLU and max-pools), fc (Linear-BN1d-ReLU), classifier.
class Vgg9 : public Network {
 public:
  Vgg9(std::int64_t in_channels, std::int64_t classes) {
    const int cfg[] = {64, 64, -1, 128, 128, -1, 256, 256, 256, -1};
    std::int64_t in = in_channels;
    for (int c : cfg) {
      if (c < 0) {
        features_->push_back(nn::MaxPool2d(nn::MaxPool2dOptions(2).stride(2).ceil_mode(true)));
      } else {
        features_->push_back(conv3x3(in, c, 1, /*bias=*/true));
        features_->push_back(nn::BatchNorm2d(c));
        features_->push_back(nn::ReLU(nn::ReLUOptions(/*inplace=*/true)));
        in = c;
      }
    }
    register_module("features", features_);
    fc_->push_back(nn::Linear(256 * 4 * 4, 256));
    fc_->push_back(nn::BatchNorm1d(256));
    fc_->push_back(nn::ReLU(nn::ReLUOptions(/*inplace=*/true)));
    register_module("fc", fc_);
    classifier_ = register_module("classifier", nn::Linear(256, classes));
  }
  torch::Tensor forward(torch::Tensor x) override {
    return classifier_(fc_->forward(features_->forward(x).flatten(1)));
  }

 private:
  nn::Sequential features_, fc_;
  nn::Linear classifier_{nullptr};
};

// The study's fully connected networks (train_DNN_code/models/Alexnet.py, FullyConnected): flatten, then depth
// Linear layers of width 100 without biases, ReLU between them. Module names as in that file (fc.0, fc.2, ...).
class FullyConnected : public Network {
 public:
  FullyConnected(std::int64_t input_dim, int depth, std::int64_t classes) {
    const std::int64_t width = 100;
    fc_->push_back(nn::Linear(nn::LinearOptions(input_dim, width).bias(false)));
    fc_->push_back(nn::ReLU(nn::ReLUOptions(/*inplace=*/true)));
    for (int i = 0; i < depth - 2; ++i) {
      fc_->push_back(nn::Linear(nn::LinearOptions(width, width).bias(false)));
      fc_->push_back(nn::ReLU());
    }
    fc_->push_back(nn::Linear(nn::LinearOptions(width, classes).bias(false)));
    register_module("fc", fc_);
  }
  torch::Tensor forward(torch::Tensor x) override { return fc_->forward(x.flatten(1)); }

 private:
  nn::Sequential fc_;
};

void initialise(nn::Module& model, std::uint64_t seed) {
  torch::manual_seed(seed);
  torch::NoGradGuard no_grad;
  for (auto& m : model.modules(/*include_self=*/false)) {
    if (auto* conv = m->as<nn::Conv2d>()) {
      nn::init::kaiming_normal_(conv->weight, /*a=*/0, torch::kFanIn, torch::kReLU);
      if (conv->bias.defined()) conv->bias.zero_();
    } else if (auto* bn = m->as<nn::BatchNorm2d>()) {
      bn->weight.fill_(1);
      bn->bias.zero_();
    } else if (auto* bn1 = m->as<nn::BatchNorm1d>()) {
      bn1->weight.fill_(1);
      bn1->bias.zero_();
    } else if (auto* lin = m->as<nn::Linear>()) {
      lin->weight.normal_(0, 1e-3);
      if (lin->bias.defined()) lin->bias.zero_();
    }
  }
}

}  // namespace

std::vector<std::string> model_names() {
  return {"resnet14", "resnet14_noshort", "resnet20", "resnet20_noshort", "resnet56", "resnet56_noshort",
          "resnet110", "resnet110_noshort", "vgg9", "fc3", "fc20", "fc56", "fc110"};
}

std::shared_ptr<Network> make_model(const std::string& name, std::int64_t in_channels, std::int64_t classes,
                                    std::uint64_t seed) {
  std::shared_ptr<Network> net;
  if (name == "vgg9") {
    net = std::make_shared<Vgg9>(in_channels, classes);
  } else if (name == "fc3" || name == "fc20" || name == "fc56" || name == "fc110") {
    net = std::make_shared<FullyConnected>(in_channels * 32 * 32, std::stoi(name.substr(2)), classes);
  } else {
    for (int depth : {14, 20, 56, 110}) {
      if (name == fmt::format("resnet{}", depth)) net = std::make_shared<CifarResNet>(depth, true, in_channels, classes);
      if (name == fmt::format("resnet{}_noshort", depth)) {
        net = std::make_shared<CifarResNet>(depth, false, in_channels, classes);
      }
    }
  }
  if (!net) {
    throw std::invalid_argument(
        fmt::format("unknown model '{}': expected one of {}", name, fmt::join(model_names(), ", ")));
  }
  initialise(*net, seed);
  return net;
}

ParameterLayout parameter_layout(const Network& model) {
  // Scale-invariant groups: the parameters of a layer whose output goes straight into a BatchNorm. In the ResNets
  // every 4-D weight (convolutions without bias, each followed by BN); in VGG-9 each convolution's weight and bias
  // and the first fc layer's weight and bias; the fully connected networks have no BatchNorm.
  const bool resnet = dynamic_cast<const CifarResNet*>(&model) != nullptr;
  const bool vgg = dynamic_cast<const Vgg9*>(&model) != nullptr;
  ParameterLayout layout;
  std::map<std::string, int> group_of_layer;
  std::size_t offset = 0;
  for (const auto& p : model.named_parameters()) {
    ParameterTensor t;
    t.name = p.key();
    t.shape.assign(p.value().sizes().begin(), p.value().sizes().end());
    t.offset = offset;
    t.size = static_cast<std::size_t>(p.value().numel());
    offset += t.size;
    const std::string layer = t.name.substr(0, t.name.rfind('.'));
    bool invariant = false;
    if (resnet) invariant = p.value().dim() == 4;
    if (vgg) {  // a convolution's weight (4-D) is registered before its bias; BN's parameters are 1-D
      const bool conv = layer.rfind("features.", 0) == 0 && (p.value().dim() == 4 || group_of_layer.count(layer));
      invariant = conv || layer == "fc.0";
    }
    if (invariant) {
      auto it = group_of_layer.find(layer);
      if (it == group_of_layer.end()) it = group_of_layer.emplace(layer, int(group_of_layer.size())).first;
      t.group = it->second;
    }
    layout.tensors.push_back(std::move(t));
  }
  return layout;
}

void use_channels_last(nn::Module& model) {
  torch::NoGradGuard no_grad;
  for (auto& p : model.parameters()) {
    if (p.dim() == 4) p.set_data(p.contiguous(at::MemoryFormat::ChannelsLast));
  }
}

void load_state_dict(nn::Module& model, const std::string& path) {
  if (!std::filesystem::exists(path)) throw InputError(fmt::format("{}: no such file (expected a state_dict)", path));
  const std::map<std::string, torch::Tensor> entries = detail::read_state_dict(path);
  torch::NoGradGuard no_grad;
  auto assign = [&](const std::string& name, torch::Tensor& target) {
    auto it = entries.find(name);
    if (it == entries.end()) {
      // The file's first entry that the model does not have, as a hint of what the file holds.
      std::string other;
      const auto names = model.named_parameters();
      const auto buffers = model.named_buffers();
      for (const auto& [key, value] : entries) {
        if (!names.contains(key) && !buffers.contains(key)) {
          other = fmt::format("; the file's first entry the model lacks is '{}' of shape {}", key,
                              fmt::join(value.sizes(), "x"));
          break;
        }
      }
      throw InputError(fmt::format("{}: expected an entry '{}' of shape {} for this model, the file has none "
                                   "(is it a checkpoint of another architecture?){}", path, name,
                                   fmt::join(target.sizes(), "x"), other));
    }
    if (it->second.sizes() != target.sizes()) {
      throw InputError(fmt::format("{}: entry '{}': expected shape {}, found {}", path, name,
                                   fmt::join(target.sizes(), "x"), fmt::join(it->second.sizes(), "x")));
    }
    target.copy_(it->second.to(target.dtype()));
  };
  for (auto& p : model.named_parameters()) assign(p.key(), p.value());
  for (auto& b : model.named_buffers()) {
    if (b.key().find("num_batches_tracked") != std::string::npos && entries.count(b.key()) == 0) continue;
    assign(b.key(), b.value());
  }
}

void save_state_dict(const nn::Module& model, const std::string& path) {
  c10::Dict<std::string, torch::Tensor> dict;
  for (const auto& p : model.named_parameters()) dict.insert(p.key(), p.value().detach().cpu());
  for (const auto& b : model.named_buffers()) dict.insert(b.key(), b.value().detach().cpu());
  const std::vector<char> bytes = torch::pickle_save(dict);
  detail::write_file_durably(path, std::string(bytes.begin(), bytes.end()), nullptr, 0);
}

}  // namespace anodiff
