#pragma once
/// \file anodiff.hpp  Convenience umbrella of anodiff::core (no LibTorch). Include single headers where you can.
#include "anodiff/error.hpp"
#include "anodiff/fit.hpp"
#include "anodiff/msd.hpp"
#include "anodiff/streaming_post_analysis.hpp"
#include "anodiff/pair_statistics.hpp"
#include "anodiff/plot.hpp"
#include "anodiff/post_analysis.hpp"
#include "anodiff/progress.hpp"
#include "anodiff/synthetic.hpp"
#include "anodiff/weight_trajectory.hpp"
