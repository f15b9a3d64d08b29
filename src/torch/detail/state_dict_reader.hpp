#pragma once
// Private: reads a state_dict written by Python's torch.save (the zip format, or the legacy one of PyTorch before 1.6
// and of _use_new_zipfile_serialization=False): a small unpickler for what a state_dict holds (LibTorch 1.13's own
// unpickler cannot build the OrderedDict that state_dict() returns, nor read the legacy format).
#include <map>
#include <string>

#include <torch/torch.h>

namespace anodiff::detail {

/// Name -> tensor of a torch.save'd dict of tensors (OrderedDict or dict), or of the dict under 'state_dict' (or
/// 'model_state_dict') of a checkpoint such as {'acc', 'epoch', 'state_dict'}; the prefix "module." that
/// nn.DataParallel adds to every name is removed. Throws InputError naming the file.
std::map<std::string, torch::Tensor> read_state_dict(const std::string& path);

}  // namespace anodiff::detail
