#pragma once
// Shared by the benchmarks: running a reference script, timing, peak memory of a child process.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>

namespace anodiff::bench {

/// Seconds since an arbitrary origin.
inline double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

/// Runs a shell command and returns what it printed on stdout; throws if it fails.
inline std::string run_command(const std::string& command) {
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) throw std::runtime_error("cannot run: " + command);
  std::string out;
  char buf[4096];
  while (std::fgets(buf, sizeof buf, pipe)) out += buf;
  if (::pclose(pipe) != 0) throw std::runtime_error("command failed: " + command + "\n" + out);
  return out;
}

/// Lines "name seconds ..." of a reference script, as name -> seconds.
inline std::map<std::string, double> parse_timings(const std::string& text) {
  std::map<std::string, double> t;
  std::istringstream in(text);
  std::string name;
  double seconds;
  std::string rest;
  while (in >> name >> seconds) {
    t[name] = seconds;
    std::getline(in, rest);
  }
  return t;
}

/// Result of work done in a child process: its wall time (as reported) and its peak resident memory.
struct ChildRun {
  double seconds = 0;
  double peak_bytes = 0;
};

/// Runs `work` (which returns seconds) in a forked child so that its peak RSS is its own.
inline ChildRun in_child(const std::function<double()>& work) {
  int fd[2];
  if (::pipe(fd) != 0) throw std::runtime_error("pipe failed");
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fd[0]);
    double s = -1;
    try {
      s = work();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "benchmark child failed: %s\n", e.what());
    }
    ssize_t ignored = ::write(fd[1], &s, sizeof s);
    (void)ignored;
    ::_exit(s < 0 ? 1 : 0);
  }
  ::close(fd[1]);
  ChildRun r;
  if (::read(fd[0], &r.seconds, sizeof r.seconds) != sizeof r.seconds) r.seconds = -1;
  ::close(fd[0]);
  int status = 0;
  rusage usage{};
  ::wait4(pid, &status, 0, &usage);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || r.seconds < 0) throw std::runtime_error("child failed");
  r.peak_bytes = static_cast<double>(usage.ru_maxrss) * 1024.0;
  return r;
}

}  // namespace anodiff::bench
