// A user of anodiff::core: the MSD of a trajectory, through the installed package.
#include <cmath>
#include <cstdio>

#include <anodiff/analysis/msd.hpp>
#include <anodiff/trajectory/synthetic.hpp>

int main() {
  const anodiff::WeightTrajectory trajectory = anodiff::synthetic::ballistic(50, {3.0, 4.0});
  std::vector<anodiff::MsdCurve> parts = anodiff::msd(trajectory);
  const double got = parts.at(0).msd.at(9);  // lag 10: 25 * 100
  std::printf("consumer_core: MSD(10) = %g (expected 2500)\n", got);
  return std::fabs(got - 2500.0) < 1e-9 ? 0 : 1;
}
