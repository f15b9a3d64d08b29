#!/usr/bin/env bash
# Where a fuzz finding lies: runs TARGET on ARTIFACT (a crash-*, oom-* or leak-* input) and prints "library FRAME"
# when the first stack frame that names LIBRARY (an awk regular expression) or one of anodiff's sources (a .cpp/.hpp
# line, an anodiff:: name) names LIBRARY, else "anodiff FRAME" (a report without such a frame counts as anodiff's).
# FRAME is the function of that frame (module+offset where the library has no symbols). Used by smoke.sh and run.sh for the readers that parse through libhdf5 and
# libmatio, whose own faults on crafted files are documented in docs/robustness.md rather than fixed here.
# Usage: classify.sh TARGET LIBRARY ARTIFACT
target=$1 library=$2 artifact=$3
# $1: the largest allocation (MB) ASan grants, calloc's included, which libFuzzer's -malloc_limit_mb does not see.
run() {
  ASAN_OPTIONS=max_allocation_size_mb=$1${ASAN_OPTIONS:+:$ASAN_OPTIONS} ANODIFF_FUZZ_TMP=${ANODIFF_FUZZ_TMP:-/tmp} \
    timeout 60 "$target" -timeout=30 -rss_limit_mb=2048 -malloc_limit_mb="$1" "$artifact" 2>&1
}
report=$(run 1024)
# Past the RSS limit with no stack (ASan's calloc memsets what glibc's would map as zero pages): the first
# allocation over 64 MB names where it came from.
if [[ $report == *"out-of-memory (used:"* ]]; then report=$(run 64); fi
echo "$report" | awk -v lib="$library" '
  /^ *#[0-9]+ 0x/ {
    where = ""
    if ($0 ~ lib) where = "library"
    else if ($0 ~ /anodiff::|\.(cpp|hpp):[0-9]/) where = "anodiff"
    if (where != "") {
      fn = $0
      if (fn ~ / in /) { sub(/^ *#[0-9]+ 0x[0-9a-f]+ in /, "", fn); sub(/ .*/, "", fn); sub(/\(.*/, "", fn) }
      else { sub(/^[^(]*\(/, "", fn); sub(/\).*/, "", fn); sub(/.*\//, "", fn) }  # no symbol: module+offset
      print where, fn; found = 1; exit
    }
  }
  END { if (!found) print "anodiff (no frame of the library or of anodiff in the report)" }'
