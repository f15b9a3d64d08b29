// anodiff-reproduce: the study end to end in one process (training with every step recorded, MSD analysis per part,
// Hessian spectrum, loss landscape and its roughness, the simplified model) and a report comparing with the study.
#include <cstdio>
#include <string>

#include <boost/program_options.hpp>
#include <fmt/format.h>

#include "anodiff/torch/hessian_run.hpp"
#include "anodiff/torch/reproduction.hpp"
#include "anodiff/torch/runtime.hpp"
#include "cli.hpp"

namespace po = boost::program_options;
namespace fs = std::filesystem;
using namespace anodiff;

int main(int argc, char** argv) {
  return cli::run("anodiff-reproduce", [&] {
    std::string preset, out;
    po::options_description desc(
        "anodiff-reproduce: the study end to end, with a report (report.html, report.md). Usage:\n"
        "  anodiff-reproduce [--preset quick|study|paper|sweep] --out DIR\n"
        "quick (default): the study's fully connected fc3 on all of Fashion-MNIST for its run length (batch 128,\n"
        "  lr 0.1, 24,388 steps recorded, parts of 1,000; its 11 GB trajectory removed once analysed), then ResNet-14\n"
        "  (a 16,384-sample subset, batch 128, 384 steps, parts of 192) with its Hessian every epoch and an 11 x 11\n"
        "  landscape, and the simplified model.\n"
        "study: the study's regime (its Fig. 2) on Fashion-MNIST (or --dataset cifar10 --data-dir): ResNet-14, batch\n"
        "  1024, lr 0.1, augmentation, 416 epochs = 24,544 steps, parts of 1,000; resumable (hours on a CPU).\n"
        "paper: the study's configuration on CIFAR-10 (--data-dir), 500 epochs, parts of 1,000 steps, Hessian every\n"
        "  5 epochs, 51 x 51 landscapes at epochs 300 and 500 (--model, default resnet14).\n"
        "sweep: the study's grids of models, learning rates and batch sizes (meant for a GPU).\nOptions");
    desc.add_options()("help,h", "show this help")
        ("preset", po::value(&preset)->default_value("quick"), "quick, study, paper or sweep")
        ("keep-trajectory", "keep the recorded trajectories after the analysis (quick removes them)")
        ("out", po::value(&out), "output directory")
        ("model", po::value<std::string>(), "network (paper: default resnet14)")
        ("dataset", po::value<std::string>(), "override the preset's data set")
        ("data-dir", po::value<std::string>(), "folder of the data set's files (CIFAR-10 for paper)")
        ("device", po::value<std::string>()->default_value("auto"), "cpu, cuda or auto")
        ("epochs", po::value<std::int64_t>(), "override the preset's epochs")
        ("batch_size", po::value<std::int64_t>(), "override the preset's batch size")
        ("lr", po::value<double>(), "override the preset's learning rate")
        ("augment", po::value<int>(), "override the preset's augmentation (1 or 0)")
        ("limit-train", po::value<std::int64_t>(), "override the number of training samples (of both runs)")
        ("part-length", po::value<std::size_t>(), "override the part length (of both runs)")
        ("hessian-epochs", po::value<std::string>(), "override the Hessian's checkpoints, e.g. 0,5,10")
        ("landscape-epochs", po::value<std::string>(), "override the landscapes' checkpoints, e.g. 300,500")
        ("landscape-points", po::value<std::size_t>(), "override the landscape's points per axis")
        ("landscape-samples", po::value<std::int64_t>(), "override the landscape's samples")
        ("eigenvalues", po::value<std::size_t>(), "override the number of Hessian eigenvalues")
        ("toy-steps", po::value<std::size_t>(), "override the simplified model's steps")
        ("long-epochs", po::value<std::int64_t>(), "override the long run's epochs (0: no long run)");
    po::variables_map vm;
    if (!cli::parse(argc, argv, desc, vm)) return 0;
    if (out.empty()) throw po::error("--out DIR is required");
    auto s = ReproductionOptions::named_preset(preset);
    auto set = [&](const char* flag, auto& field) {
      if (vm.count(flag)) field = vm[flag].as<std::decay_t<decltype(field)>>();
    };
    set("dataset", s.dataset);
    set("data-dir", s.data_dir);
    set("device", s.device);
    RunSpec& m = s.main_run;
    set("model", m.model);
    set("epochs", m.epochs);
    set("batch_size", m.batch_size);
    set("lr", m.lr);
    if (vm.count("augment")) m.augment = vm["augment"].as<int>() != 0;
    set("limit-train", m.limit_train);
    set("part-length", m.part_length);
    set("landscape-points", s.landscape_points);
    set("landscape-samples", s.landscape_samples);
    set("eigenvalues", s.eigenvalues);
    set("toy-steps", s.toy_steps);
    if (vm.count("hessian-epochs")) s.hessian_epochs = parse_epoch_list(vm["hessian-epochs"].as<std::string>());
    if (vm.count("landscape-epochs")) s.landscape_epochs = parse_epoch_list(vm["landscape-epochs"].as<std::string>());
    if (vm.count("long-epochs")) {
      const auto epochs = vm["long-epochs"].as<std::int64_t>();
      if (epochs == 0) {
        s.long_run.reset();
      } else {
        if (!s.long_run) throw po::error("--long-epochs: the preset " + preset + " has no long run");
        s.long_run->epochs = epochs;  // validate() refuses a negative number
      }
    }
    if (s.long_run) {
      set("limit-train", s.long_run->limit_train);
      set("part-length", s.long_run->part_length);
    }
    if (vm.count("keep-trajectory")) s.keep_trajectory = true;
    s.log = cli::stderr_log;
    s.validate();  // before any work
    use_all_cores();
    keep_freed_memory();
    const fs::path dir(out);
    if (preset == "sweep") {
      const auto rows = run_sweep(s, dir);
      std::printf("anodiff-reproduce: sweep of %zu runs; report: %s\n", rows.size(), (dir / "report.html").c_str());
      return 0;
    }
    const auto result = run_reproduction(s, dir, {true, cli::stderr_log});
    write_reproduction_report(result, dir);
    double total = 0;
    for (const auto& stage : result.stage_seconds) total += stage.second;
    std::printf("anodiff-reproduce: %s the study's pattern in its late phase (claims.md); report: %s (also "
                "report.md); total %.1f min\n",
                shows_study_pattern(result) ? "every run shows" : "not every run shows", (dir / "report.html").c_str(),
                total / 60);
    return 0;
  });
}
