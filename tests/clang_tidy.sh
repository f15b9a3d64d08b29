#!/usr/bin/env bash
# The conventions clang-tidy keeps (docs/architecture.md): [[nodiscard]] on every const member function that returns a
# result (modernize-use-nodiscard) and the bug-prone patterns of bugprone-* (but easily-swappable-parameters, which
# flags every pair of adjacent same-typed parameters), over anodiff::core's sources and the headers they include, any
# finding an error.
# Usage: clang_tidy.sh BUILD_DIR SOURCE_DIR   (BUILD_DIR has compile_commands.json)
set -euo pipefail
build=$1 src=$(cd "$2" && pwd)
if ! command -v run-clang-tidy > /dev/null; then
  echo "FAIL: run-clang-tidy is missing (Debian: clang-tidy; scripts/install-deps.sh installs it)"
  exit 1
fi
code=0
checks='-*,modernize-use-nodiscard,bugprone-*,-bugprone-easily-swappable-parameters'
run-clang-tidy -p "$build" -j 2 -checks="$checks" -header-filter="$src/(include/anodiff|src)/.*" \
  "$src/src/(base|io|trajectory|analysis|spectrum|landscape|toy|output|detail)/" > tidy.log 2>&1 || code=$?
files=$(grep -c "^.*clang-tidy.* -p=" tidy.log || true)
findings=$(grep -E "warning: .*\[(modernize-use-nodiscard|bugprone-[a-z-]+)(,[a-z-]+)*\]" tidy.log | sed 's/\x1b\[[0-9;]*m//g' | sort -u || true)
if [[ $code -ne 0 || $files -lt 20 ]]; then
  tail -n 20 tidy.log
  echo "FAIL: run-clang-tidy exited $code after $files files"
  exit 1
fi
if [[ -n $findings ]]; then
  echo "$findings" | head -20
  echo "FAIL: clang-tidy findings (above): a const member function returning a result without [[nodiscard]], or a bug-prone pattern"
  exit 1
fi
echo "ok: clang-tidy modernize-use-nodiscard and bugprone-*: no finding in the $files core sources and their headers"
