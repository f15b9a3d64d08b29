// anodiff-train: the study's training runs (paper section 1) with every step recorded.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include <boost/program_options.hpp>
#include <fmt/format.h>

#include "anodiff/torch/datasets.hpp"
#include "anodiff/torch/runtime.hpp"
#include "anodiff/torch/trainer.hpp"
#include "cli.hpp"

namespace po = boost::program_options;

int main(int argc, char** argv) {
  return anodiff::cli::run("anodiff-train", [&] {
    anodiff::TrainerOptions o;
    std::string data_dir, out = "runs", init;
    po::options_description desc(
        "anodiff-train: plain SGD on the study's networks, recording the parameter vector after every step.\n"
        "Usage: anodiff-train --model resnet14 --epochs 500 --batch_size 1024 --lr 0.1 --dataset cifar10\n"
        "                     --data-dir DIR --out runs/\nOptions");
    desc.add_options()("help,h", "show this help")
        ("model", po::value(&o.model)->default_value("resnet14"),
         "resnet14|20|56|110[_noshort], vgg9, or the study's fully connected fc3|20|56|110")
        ("dataset", po::value(&o.dataset)->default_value("cifar10"), "cifar10, fashion-mnist, mnist or gauss")
        ("data-dir", po::value(&data_dir), "folder of the data set's files (fashion-mnist: Debian's by default)")
        ("epochs", po::value(&o.epochs)->default_value(500), "epochs (a rerun with more continues the run)")
        ("batch_size", po::value(&o.batch_size)->default_value(1024), "mini-batch size")
        ("lr", po::value(&o.lr)->default_value(0.1, "0.1"), "learning rate")
        ("momentum", po::value(&o.momentum)->default_value(0.0, "0"), "SGD momentum")
        ("weight_decay", po::value(&o.weight_decay)->default_value(0.0, "0"), "weight decay")
        ("seed", po::value(&o.seed)->default_value(0), "seed of the initialisation, order and augmentation")
        ("noaug", "no data augmentation")
        ("save-gradients", "also record every mini-batch gradient, epoch means and noise norms")
        ("project", po::value(&o.projection)->default_value(0), "also record a K-dimensional sketch of theta")
        ("no-weights", "do not record the full parameter vector (with --project: the sketch only)")
        ("record-shards", po::value(&o.record_shards)->default_value(1),
         "write the trajectory as N column shards of whole tensors (trajectory/shard_k; docs/formats.md)")
        ("device", po::value(&o.device)->default_value("auto"), "cpu, cuda or auto")
        ("limit-train", po::value(&o.limit_train)->default_value(0), "use only the first N training samples")
        ("limit-test", po::value(&o.limit_test)->default_value(0), "use only the first N test samples")
        ("init", po::value(&init), "start from a PyTorch state_dict (torch.save) of the same architecture")
        ("run-name", po::value(&o.run_name), "run directory name (default: the study's)")
        ("out", po::value(&out)->default_value("runs"), "parent folder of the run directory")
        ("no-plots", "do not draw metrics.png")("quiet", "no progress on stderr");
    po::variables_map vm;
    if (!anodiff::cli::parse(argc, argv, desc, vm)) return 0;
    o.data_dir = data_dir;
    o.out = out;
    o.init_from = init;
    o.augment = vm.count("noaug") == 0;
    o.save_gradients = vm.count("save-gradients") > 0;
    o.record_weights = vm.count("no-weights") == 0;
    o.plots = vm.count("no-plots") == 0;
    if (vm.count("quiet") == 0) o.log = anodiff::cli::stderr_log;
#ifdef ANODIFF_TEST_HOOKS
    // Only in the tests' build of this program (anodiff-train-test-hooks, tests/CMakeLists.txt; never installed):
    // SIGKILL at a step of the test's choosing, after that step's snapshot was handed to the recorder; a kill timed by
    // polling for files could land anywhere, or after the run ended.
    if (const char* kill_at = std::getenv("ANODIFF_TEST_KILL_AT_STEP")) {
      const std::int64_t at = std::stoll(kill_at);
      o.after_step = [at](std::int64_t step) {
        if (step == at) std::raise(SIGKILL);
      };
    }
#endif
    o.validate();  // an unknown model name fails before the data are read
    anodiff::use_all_cores();
    anodiff::keep_freed_memory();
    const auto data = anodiff::load_dataset(o.dataset, data_dir);
    anodiff::Trainer trainer(o, data);
    std::fprintf(stderr, "anodiff-train: %s on %s (%lld training samples, %lld steps per epoch) on %s -> %s\n",
                 o.model.c_str(), o.dataset.c_str(), (long long)std::min<std::int64_t>(data.train.size(), o.limit_train ? o.limit_train : data.train.size()),
                 (long long)trainer.steps_per_epoch(), trainer.device().str().c_str(), trainer.directory().c_str());
    const auto metrics = trainer.run();
    if (!metrics.empty()) {
      const auto& m = metrics.back();
      std::cout << fmt::format("epoch {}: train loss {:.4f} error {:.4f}, test loss {:.4f} error {:.4f}\n", m.epoch,
                               m.train_loss, m.train_error, m.test_loss, m.test_error);
    }
    std::cout << "run directory: " << trainer.directory().string() << "\n";
    return 0;
  });
}
