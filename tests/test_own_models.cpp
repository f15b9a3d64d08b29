// A user's own checkpoints, data and TorchScript models (scripted_model.hpp, hessian_of_checkpoints): what needs no
// Python. tests/cli_own_models.sh checks the TorchScript path against PyTorch.
#define CATCH_CONFIG_PREFIX_ALL  // glog (pulled in by LibTorch) redefines CHECK
#include <catch2/catch.hpp>

#include <torch/torch.h>

#include "anodiff/base/error.hpp"
#include "anodiff/torch/hessian_run.hpp"
#include "anodiff/torch/models.hpp"
#include "anodiff/torch/parameters.hpp"
#include "anodiff/torch/scripted_model.hpp"
#include "test_helpers.hpp"

namespace fs = std::filesystem;
using namespace anodiff;

namespace {
// A checkpoint as the study's main.py saved it from nn.DataParallel: {'acc', 'epoch', 'state_dict'}, "module." names.
void save_study_checkpoint(const Network& model, const fs::path& path) {
  c10::Dict<std::string, torch::Tensor> state;
  for (const auto& p : model.named_parameters()) state.insert("module." + p.key(), p.value().detach().clone());
  for (const auto& b : model.named_buffers()) state.insert("module." + b.key(), b.value().detach().clone());
  c10::impl::GenericDict checkpoint(c10::StringType::get(), c10::AnyType::get());
  checkpoint.insert("acc", 91.5);
  checkpoint.insert("epoch", int64_t(12));
  checkpoint.insert("state_dict", state);
  const auto bytes = torch::pickle_save(checkpoint);
  test::write_bytes(path, std::string(bytes.begin(), bytes.end()));
}
}  // namespace

CATCH_TEST_CASE("own models: the study's checkpoint dicts with module. prefixes load, a mismatch names key and shape",
                "[torch][own_models]") {
  test::TempDir tmp;
  auto trained = make_model("resnet14", 3, 10, /*seed=*/5);
  save_study_checkpoint(*trained, tmp / "model_12.t7");
  auto fresh = make_model("resnet14", 3, 10, /*seed=*/6);
  load_state_dict(*fresh, (tmp / "model_12.t7").string());
  std::vector<float> a, b;
  flatten_parameters(*trained, a);
  flatten_parameters(*fresh, b);
  CATCH_CHECK(a == b);
  CATCH_CHECK(torch::equal(fresh->named_buffers()["bn1.running_var"], trained->named_buffers()["bn1.running_var"]));

  auto other = make_model("resnet20", 3, 10);
  CATCH_CHECK_THROWS_AS(load_state_dict(*other, (tmp / "model_12.t7").string()), InputError);
  auto vgg = make_model("vgg9", 3, 10);
  CATCH_CHECK_THROWS_WITH(load_state_dict(*vgg, (tmp / "model_12.t7").string()),
                          Catch::Contains("model_12.t7: expected an entry 'features.0.weight' of shape 64x3x3x3") &&
                              Catch::Contains("the file's first entry the model lacks is 'bn1.bias' of shape 16"));
  auto classes = make_model("resnet14", 3, 7);
  CATCH_CHECK_THROWS_WITH(load_state_dict(*classes, (tmp / "model_12.t7").string()),
                          Catch::Contains("entry 'linear.weight': expected shape 7x64, found 10x64"));
}

CATCH_TEST_CASE("own models: .npy inputs and labels, data checks, checkpoint labels", "[torch][own_models]") {
  test::TempDir tmp;
  const std::vector<float> x(4 * 3 * 32 * 32, 0.25f);
  const std::vector<std::int64_t> y = {0, 3, 9, 1};
  test::write_bytes(tmp / "x.npy", test::npy_bytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 3, 32, 32), }",
                                                   test::bytes_of(x)));
  test::write_bytes(tmp / "y.npy", test::npy_bytes(1, "{'descr': '<i8', 'fortran_order': False, 'shape': (4,), }",
                                                   test::bytes_of(y)));
  const Dataset d = load_npy_dataset(tmp / "x.npy", tmp / "y.npy");
  CATCH_CHECK(d.size() == 4);
  CATCH_CHECK(d.channels() == 3);
  CATCH_CHECK(d.classes == 10);
  auto model = make_model("resnet14", 3, 10);
  check_classifier(*model, d, "resnet14");
  auto small = make_model("resnet14", 3, 5);
  CATCH_CHECK_THROWS_WITH(check_classifier(*small, d, "small"), Catch::Contains("returns 5 classes, the data have labels up to 9"));
  CATCH_CHECK_THROWS_WITH(load_npy_dataset(tmp / "y.npy", tmp / "y.npy"), Catch::Contains("y.npy: int64 array of shape (4)"));
  CATCH_CHECK_THROWS_WITH(load_npy_dataset(tmp / "x.npy", tmp / "x.npy"), Catch::Contains("expected integer labels"));
  CATCH_CHECK_THROWS_WITH(load_npy_dataset(tmp / "x.npy", tmp / "none.npy"), Catch::Contains("none.npy: no such file"));
  CATCH_CHECK_THROWS_AS(load_model_data("", {}, tmp / "x.npy", {}), std::invalid_argument);

  CATCH_CHECK(checkpoint_labels({"run/model_0.t7", "run/model_10.t7", "x/epoch5.pt"}) == std::vector<std::int64_t>{0, 10, 5});
  CATCH_CHECK(checkpoint_labels({"resnet14.pt"}) == std::vector<std::int64_t>{0});
  CATCH_CHECK(checkpoint_labels({"a_1.pt", "b_1.pt"}) == std::vector<std::int64_t>{0, 1});

  CATCH_CHECK_FALSE(is_torchscript_file(tmp / "x.npy"));
  CATCH_CHECK_THROWS_WITH(load_scripted_model(tmp / "x.npy"), Catch::Contains("x.npy: not a TorchScript model"));
  CATCH_CHECK_THROWS_WITH(load_model("resnet99", 3, 10), Catch::Contains("resnet99: no such file"));
  CATCH_CHECK_THROWS_WITH(scripted_loss(*model), Catch::Contains("a data-free loss needs a TorchScript model"));

  // The Hessian of a checkpoint list of a built-in architecture: the checkpoint of epoch 12 equals the model's own.
  save_study_checkpoint(*model, tmp / "model_12.t7");
  HessianRunOptions o;
  o.eigen.k = 2;
  o.data.batch_size = 4;
  o.device = "cpu";
  const auto run = hessian_of_checkpoints("resnet14", {tmp / "model_12.t7"}, d, o);
  CATCH_REQUIRE(run.checkpoints.size() == 1);
  CATCH_CHECK(run.checkpoints[0].epoch == 12);
  auto op = classifier_hessian(*model, d, o.data, torch::kCPU);
  EigenOptions e = o.eigen;
  const auto direct = extreme_eigenpairs(*op, e);
  CATCH_CHECK(run.checkpoints[0].eigen.eigenpairs[0].eigenvalue == Approx(direct.eigenpairs[0].eigenvalue).epsilon(1e-3));
}
