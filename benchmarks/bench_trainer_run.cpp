// A short Trainer run with per-step recording on the synthetic "gauss" data: images/s per epoch as metrics.csv
// records them. Usage: bench_trainer_run [model=resnet20] [batch=128] [epochs=2] [device=auto] [train=10240]
#include <cstdio>
#include <filesystem>
#include <string>

#include "anodiff/datasets.hpp"
#include "anodiff/runtime.hpp"
#include "anodiff/trainer.hpp"

int main(int argc, char** argv) {
  anodiff::TrainerOptions o;
  o.model = argc > 1 ? argv[1] : "resnet20";
  o.batch_size = argc > 2 ? std::stoll(argv[2]) : 128;
  o.epochs = argc > 3 ? std::stoll(argv[3]) : 2;
  o.device = argc > 4 ? argv[4] : "auto";
  const std::int64_t n = argc > 5 ? std::stoll(argv[5]) : 10240;
  o.dataset = "gauss";
  o.plots = false;
  o.out = std::filesystem::temp_directory_path() / "anodiff_bench_trainer";
  std::filesystem::remove_all(o.out);
  anodiff::use_all_cores();  // as anodiff-train does
  anodiff::keep_freed_memory();
  anodiff::Trainer trainer(o, anodiff::make_gauss_dataset(n, 1024, 0));
  const auto metrics = trainer.run();
  for (const auto& m : metrics) {
    if (m.epoch == 0) continue;
    std::printf("trainer %s on %s, batch %lld, epoch %lld: %.1f images/s with per-step recording to disk (%lld "
                "samples, %.2f s)\n",
                o.model.c_str(), trainer.device().str().c_str(), (long long)o.batch_size, (long long)m.epoch,
                m.images_per_second, (long long)n, m.seconds);
  }
  std::filesystem::remove_all(o.out);
  return 0;
}
