// The training run's picture: metrics.png from the metrics.csv that Trainer writes.
#include "anodiff/output/output.hpp"
#include "anodiff/output/plot.hpp"

namespace anodiff {
namespace fs = std::filesystem;

void write_training_plot(const fs::path& run, const OutputOptions& output) {
  if (!output.plots) return;
  Plot p{"Training", "epoch", "loss", false, true, {},
         "set y2label 'error'\nset y2tics\nset ytics nomirror\nset y2range [0:1]"};
  const fs::path csv = run / "metrics.csv";
  p.series.push_back({csv, "'epoch':'train_loss'", "train loss", "linespoints pt 7 ps 0.5 lw 2"});
  p.series.push_back({csv, "'epoch':'test_loss'", "test loss", "linespoints pt 7 ps 0.5 lw 2"});
  p.series.push_back({csv, "'epoch':'train_error' axes x1y2", "train error (right)", "linespoints pt 6 ps 0.5 dt 2"});
  p.series.push_back({csv, "'epoch':'test_error' axes x1y2", "test error (right)", "linespoints pt 6 ps 0.5 dt 2"});
  draw(p, run / "metrics.png", output.log);
}

}  // namespace anodiff
