#define CATCH_CONFIG_PREFIX_ALL  // glog (pulled in by LibTorch) redefines CHECK
#include <catch2/catch.hpp>

#include <torch/torch.h>

#include "anodiff/torch/parameters.hpp"

CATCH_TEST_CASE("parameters: flatten and assign round-trip through a module, BN running statistics excluded", "[torch]") {
  torch::manual_seed(0);
  torch::nn::Sequential net(torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 4, /*kernel_size=*/3).bias(false)),
                            torch::nn::BatchNorm2d(4), torch::nn::Flatten(), torch::nn::Linear(4 * 6 * 6, 10));
  // conv 3*4*9 = 108, BN weight + bias 8, linear 144*10 + 10 = 1450
  CATCH_REQUIRE(anodiff::parameter_count(*net) == 108 + 8 + 1450);
  std::vector<float> theta;
  anodiff::flatten_parameters(*net, theta);
  CATCH_REQUIRE(theta.size() == 1566);
  CATCH_CHECK(theta[108] == 1.0f);  // BN weight starts at 1
  CATCH_CHECK(theta[112] == 0.0f);  // BN bias at 0
  for (auto& v : theta) v *= 2.0f;
  anodiff::assign_parameters(*net, theta);
  std::vector<float> back;
  anodiff::flatten_parameters(*net, back);
  CATCH_CHECK(back == theta);
  CATCH_CHECK_THROWS_AS(anodiff::assign_parameters(*net, std::vector<float>(3)), std::invalid_argument);
}
