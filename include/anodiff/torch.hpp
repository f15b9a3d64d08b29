#pragma once
/// \file torch.hpp  Umbrella of anodiff::anodiff: all of anodiff::core (anodiff.hpp) and every header of torch/ (the
/// models, training, the Hessian operator and runs, the landscape probe, the reproduction), which need LibTorch.
#include "anodiff/anodiff.hpp"
#include "anodiff/torch/datasets.hpp"
#include "anodiff/torch/hessian_operator.hpp"
#include "anodiff/torch/hessian_run.hpp"
#include "anodiff/torch/landscape_probe.hpp"
#include "anodiff/torch/models.hpp"
#include "anodiff/torch/parameters.hpp"
#include "anodiff/torch/reproduction.hpp"
#include "anodiff/torch/runtime.hpp"
#include "anodiff/torch/scripted_model.hpp"
#include "anodiff/torch/trainer.hpp"
