#pragma once
/// \file models.hpp  (anodiff::anodiff) The study's networks: CIFAR ResNets with and without shortcuts, and VGG-9.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "anodiff/trajectory/parameter_layout.hpp"

namespace anodiff {

/// A classifier network: images (N, C, 32, 32) to logits (N, classes).
class Network : public torch::nn::Module {
 public:
  /// Logits of a batch.
  virtual torch::Tensor forward(torch::Tensor x) = 0;
};

/// Names accepted by make_model: resnet14, resnet20, resnet56, resnet110, each also with `_noshort`, vgg9, and the
/// study's fully connected networks fc3, fc20, fc56, fc110 (width 100, no biases, ReLU; fcN has N linear layers).
std::vector<std::string> model_names();

/// Builds a model by name with the study's initialisation (conv weights Kaiming normal fan_in, BN weight 1 and bias
/// 0, linear weights N(0, 1e-3^2) and biases 0, conv biases 0), seeded with `seed`. Parameter names follow the
/// study's PyTorch definitions (Li et al.'s loss-landscape models), so their state_dicts load. Throws
/// std::invalid_argument for an unknown name, listing the known ones.
std::shared_ptr<Network> make_model(const std::string& name, std::int64_t in_channels = 3,
                                    std::int64_t classes = 10, std::uint64_t seed = 0);

/// The layout of the model's flattened parameters (the order of flatten_parameters) with its scale-invariant
/// groups: the parameters of each layer followed by BatchNorm (docs/formats.md, layout.csv).
ParameterLayout parameter_layout(const Network& model);

/// Stores the 4-D weights of `model` in channels-last order (values and the flattened parameter order unchanged):
/// oneDNN's convolutions on a CPU run about 30% faster on channels-last data (docs/performance.md).
void use_channels_last(torch::nn::Module& model);

/// Loads a state_dict written by Python's torch.save (zip format, PyTorch >= 1.6) into `model`: every parameter and
/// buffer by name, shapes checked. A checkpoint dict such as the study's {'acc', 'epoch', 'state_dict'} gives its
/// 'state_dict' (or 'model_state_dict'); the "module." prefix of nn.DataParallel is removed. Throws InputError
/// naming the file and the first missing or mismatched entry with its expected shape.
void load_state_dict(torch::nn::Module& model, const std::string& path);

/// Writes the model's parameters and buffers as a state_dict that Python's torch.load reads (a dict of tensors).
void save_state_dict(const torch::nn::Module& model, const std::string& path);

}  // namespace anodiff
