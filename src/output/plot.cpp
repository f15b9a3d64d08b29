#include "anodiff/output/plot.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <vector>

#include <fmt/format.h>

#include "anodiff/base/error.hpp"
#include "detail/gnuplot.hpp"

namespace anodiff {
namespace fs = std::filesystem;

namespace {
std::string quoted(const std::string& s) { return detail::gnuplot_quoted(s); }
}  // namespace

std::string detail::gnuplot_quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "''";
    } else if (c == '\n' || c == '\r') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out + "'";
}

bool run_gnuplot(const fs::path& script, const LogSink& log) {
  // gnuplot is started with posix_spawnp, no shell: in the script's folder (the CSVs are named relative to it), its
  // stdout and stderr read back through a pipe for the message of a failed plot.
  const fs::path dir = script.has_parent_path() ? script.parent_path() : fs::path(".");
  const std::string name = script.filename().string();
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    log_line(log, fmt::format("anodiff: cannot run gnuplot for {}: {}", script.string(), std::strerror(errno)));
    return false;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addchdir_np(&actions, dir.c_str());
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
  char arg0[] = "gnuplot";
  std::vector<char> arg1(name.begin(), name.end());
  arg1.push_back('\0');
  char* argv[] = {arg0, arg1.data(), nullptr};
  pid_t pid = 0;
  const int spawned = ::posix_spawnp(&pid, "gnuplot", &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (spawned != 0) {
    ::close(fds[0]);
    log_line(log, fmt::format("anodiff: cannot run gnuplot for {} (is gnuplot-nox installed?): {}", script.string(),
                              std::strerror(spawned)));
    return false;
  }
  std::string output;
  char buf[512];
  for (;;) {
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n > 0) {
      output.append(buf, std::size_t(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    log_line(log, fmt::format("anodiff: gnuplot failed on {} (is gnuplot-nox installed?): {}", script.string(), output));
    return false;
  }
  return true;
}

std::string detail::plot_script(const Plot& plot, const fs::path& png) {
  const fs::path dir = png.has_parent_path() ? png.parent_path() : fs::path(".");
  std::string gp;
  gp += "set terminal pngcairo size 1000,700 enhanced font 'sans,11'\n";
  gp += fmt::format("set output {}\n", quoted(png.filename().string()));
  gp += "set datafile separator ','\nset datafile columnheaders\n";
  gp += "set key outside right top\n";
  gp += "set grid\n";
  gp += fmt::format("set title {}\n", quoted(plot.title));
  gp += fmt::format("set xlabel {}\nset ylabel {}\n", quoted(plot.xlabel), quoted(plot.ylabel));
  if (plot.logx) gp += "set logscale x\nset format x '10^{%L}'\n";
  if (plot.logy) gp += "set logscale y\nset format y '10^{%L}'\n";
  if (!plot.extra.empty()) gp += plot.extra + "\n";
  gp += "plot ";
  for (std::size_t i = 0; i < plot.series.size(); ++i) {
    const auto& s = plot.series[i];
    const std::string file = fs::relative(s.csv, dir).string();
    gp += fmt::format("{}{} using {} with {} {}", i ? ", \\\n     " : "", quoted(file), s.columns, s.style,
                      s.title.empty() ? "notitle" : "title " + quoted(s.title));
  }
  gp += "\n";
  return gp;
}

bool draw(const Plot& plot, const fs::path& png, const LogSink& log) {
  fs::path script = png;
  script.replace_extension(".gp");
  const std::string gp = detail::plot_script(plot, png);
  {
    std::ofstream out(script);
    out << gp << std::flush;
    if (!out) throw IoError(fmt::format("{}: cannot write the gnuplot script", script.string()));
  }
  return run_gnuplot(script, log);
}

}  // namespace anodiff
