#include <catch2/catch.hpp>

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "anodiff/analysis/streaming_post_analysis.hpp"
#include "anodiff/analysis/post_analysis.hpp"
#include "anodiff/trajectory/synthetic.hpp"

using namespace anodiff;

TEST_CASE("StreamingPostAnalysis: snapshots streamed one at a time give the batch results per part", "[msd][stream]") {
  const auto t = synthetic::demo(650, 40, 1);
  PostAnalysisOptions o;
  o.part_length = 200;
  const auto batch = post_analysis(t, o);
  StreamingPostAnalysis stream(t.dimension(), o);
  const auto loss = t.loss();
  std::vector<double> w(t.dimension());
  std::vector<float> wf(t.dimension());
  for (std::size_t s = 0; s < t.size(); ++s) {
    t.read(s, 1, 0, t.dimension(), w.data());
    for (std::size_t j = 0; j < w.size(); ++j) wf[j] = static_cast<float>(w[j]);
    stream.add(wf.data(), loss[s]);
    CHECK(stream.parts().size() == (s + 1) / 200);  // each part analysed as soon as it is complete
  }
  CHECK(stream.finish() == 50);  // 650 = 3 parts of 200 and 50 snapshots left out
  REQUIRE(batch.size() == 3);
  REQUIRE(stream.parts().size() == 3);
  for (std::size_t p = 0; p < 3; ++p) {
    const auto& a = batch[p];
    const auto& b = stream.parts()[p];
    CHECK(b.part.start == a.part.start);
    CHECK(b.msd.start == a.msd.start);
    REQUIRE(b.msd.msd.size() == a.msd.msd.size());
    for (std::size_t i = 0; i < a.msd.msd.size(); ++i) CHECK(b.msd.msd[i] == Approx(a.msd.msd[i]).epsilon(1e-12));
    CHECK(b.fit.early_exponent == Approx(a.fit.early_exponent).epsilon(1e-9));
    CHECK(b.fit.crossover == Approx(a.fit.crossover).epsilon(1e-9));
    CHECK(b.msl_fit.exponent == Approx(a.msl_fit.exponent).epsilon(1e-9));
    CHECK(b.tail_index == Approx(a.tail_index).epsilon(1e-12));
  }
}

TEST_CASE("StreamingPostAnalysis: without a part length everything is one part at finish()", "[msd][stream]") {
  const auto t = synthetic::brownian(50, 5, 1.0, 2);
  StreamingPostAnalysis stream(5);
  std::vector<double> w(5);
  std::vector<float> wf(5);
  for (std::size_t s = 0; s < 50; ++s) {
    t.read(s, 1, 0, 5, w.data());
    for (std::size_t j = 0; j < 5; ++j) wf[j] = static_cast<float>(w[j]);
    stream.add(wf.data());
  }
  CHECK(stream.parts().empty());
  stream.finish();
  REQUIRE(stream.parts().size() == 1);
  CHECK(stream.parts()[0].msd.lag.size() == 49);
  CHECK_THROWS_AS(StreamingPostAnalysis(0), std::invalid_argument);
}

TEST_CASE("post_analysis: silent without a LogSink, progress and notes through the one it is given", "[msd][log]") {
  const auto t = synthetic::demo(650, 40, 1);
  PostAnalysisOptions o;
  o.part_length = 200;
  // Nothing on stderr without a sink: stderr is redirected to a file for the call.
  std::fflush(stderr);
  FILE* capture = std::tmpfile();
  const int saved = ::dup(2);
  ::dup2(::fileno(capture), 2);
  (void)post_analysis(t, o);
  std::fflush(stderr);
  ::dup2(saved, 2);
  ::close(saved);
  CHECK(std::ftell(capture) == 0);
  std::fclose(capture);
  std::vector<std::string> lines;
  o.log = [&](const std::string& line) { lines.push_back(line); };
  (void)post_analysis(t, o);
  REQUIRE_FALSE(lines.empty());
  CHECK(lines.front().find("the last 50 snapshots") != std::string::npos);
  CHECK(lines.back().find("post-analysis (parts): 3/3") != std::string::npos);
}
