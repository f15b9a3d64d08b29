#pragma once
/// \file scripted_model.hpp  (anodiff::anodiff) A user's own network, saved from Python with torch.jit.script or
/// torch.jit.trace and torch.jit.save, used wherever anodiff takes a Network (the Hessian, the landscape); and the
/// data it is evaluated on: a built-in data set or inputs and labels as .npy files. docs/own_models.md.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "anodiff/torch/datasets.hpp"
#include "anodiff/torch/models.hpp"

namespace anodiff {

/// Loads a TorchScript module (torch::jit::load) as a Network. Its parameters and buffers are the module's own
/// tensors under their Python names (conv1.weight, layer1.0.bn1.running_mean, ...), in the module's order, so that
/// flatten_parameters, assign_parameters, load_state_dict, random_direction, parameter_layout and the
/// HessianOperator see the module's parameter list; train() and eval() reach the module (a scripted BatchNorm follows
/// them; a traced one keeps the mode it was traced in: trace in eval mode). forward() runs the module's forward with
/// the graph executor's optimisations off (plain autograd, so double backward works as in eager PyTorch) and throws
/// InputError naming the file when it fails or returns anything but a tensor (N, classes) for N inputs. Throws
/// InputError naming the file when it is not a TorchScript archive or the module has no parameters.
[[nodiscard]] std::shared_ptr<Network> load_scripted_model(const std::filesystem::path& file);

/// A TorchScript model's own data-free loss: its method `method` (no arguments; a scalar tensor computed from the
/// parameters, e.g. a loss over data held in the module's buffers), for a HessianOperator term. Throws InputError
/// naming the file when `model` is not a TorchScript model (load_scripted_model) or has no such method; the returned
/// function throws InputError when the method fails or returns anything but a scalar tensor.
[[nodiscard]] std::function<torch::Tensor()> scripted_loss(Network& model, const std::string& method = "loss");

/// Whether `file` is a TorchScript archive (torch.jit.save) rather than a state_dict or checkpoint (torch.save).
[[nodiscard]] bool is_torchscript_file(const std::filesystem::path& file);

/// A network by name or file: a built-in name (make_model with `channels` and `classes`, its initial weights), or a
/// TorchScript file (load_scripted_model).
[[nodiscard]] std::shared_ptr<Network> load_model(const std::string& name_or_file, std::int64_t channels,
                                                  std::int64_t classes);

/// Whether `name` is a built-in model's name (model_names(), models.hpp).
[[nodiscard]] bool is_builtin_model(const std::string& name);

/// Checks a model argument (a program's --model): a built-in name or an existing file. Throws InputError naming it
/// otherwise; returns whether it is a built-in name.
[[nodiscard]] bool check_model_argument(const std::string& model);

/// A network with the weights of `weights`: a TorchScript file as it is (load_scripted_model), or a state_dict /
/// checkpoint (model_E.t7, torch.save) loaded into `architecture` (a built-in name or a TorchScript file of the same
/// network, built by load_model for `data`'s channels and classes; without data, a data-free loss: 3 channels and
/// 10 classes).
/// Throws InputError naming the file when a state_dict comes without an architecture, is missing, or does not fit.
[[nodiscard]] std::shared_ptr<Network> resolve_network(const std::string& architecture,
                                                       const std::filesystem::path& weights,
                                                       const std::optional<Dataset>& data);

/// Inputs and labels of one's own as .npy files: inputs (N, C, H, W) float32 or float64, used as they are (mean 0,
/// std 1: normalise them before saving), and N integer labels >= 0 (int64, int32, int16, int8 or uint8). `classes`
/// is the largest label + 1. Throws InputError naming the file for a missing or truncated file, another dtype,
/// Fortran order, a shape that is not (N, C, H, W) and (N), or a negative label.
[[nodiscard]] Dataset load_npy_dataset(const std::filesystem::path& inputs, const std::filesystem::path& labels);

/// The data for a model of one's own: `inputs` and `labels` (.npy, load_npy_dataset) when given, else the training
/// split of the built-in data set `name` (load_dataset with `dir`: cifar10, mnist, fashion-mnist, gauss). Throws
/// std::invalid_argument unless exactly one of the two is given (and both .npy files together).
[[nodiscard]] Dataset load_model_data(const std::string& name, const std::filesystem::path& dir,
                                      const std::filesystem::path& inputs, const std::filesystem::path& labels);

/// Checks that `model` (in eval mode, on the CPU) maps a batch of `data` to logits of shape (batch, K) with K above
/// every label of `data`. Throws InputError naming `what` (the model's file) and the shapes otherwise.
void check_classifier(Network& model, const Dataset& data, const std::string& what);

}  // namespace anodiff
