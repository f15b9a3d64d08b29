#!/usr/bin/env bash
# Where a fuzz finding lies: runs TARGET on ARTIFACT (a crash-*, oom-* or leak-* input) and prints "library FRAME"
# when the first stack frame that names LIBRARY (an awk regular expression) or one of anodiff's sources (a .cpp/.hpp
# line, an anodiff:: name) names LIBRARY, else "anodiff FRAME" (a report without such a frame counts as anodiff's).
# FRAME is the function of that frame. Used by smoke.sh and run.sh for the readers that parse through libhdf5 and
# libmatio, whose own faults on crafted files are documented in docs/robustness.md rather than fixed here.
# Usage: classify.sh TARGET LIBRARY ARTIFACT
target=$1 library=$2 artifact=$3
ANODIFF_FUZZ_TMP=${ANODIFF_FUZZ_TMP:-/tmp} timeout 60 "$target" -timeout=30 -rss_limit_mb=2048 -malloc_limit_mb=1024 \
  "$artifact" 2>&1 | awk -v lib="$library" '
  /^ *#[0-9]+ 0x/ {
    where = ""
    if ($0 ~ lib) where = "library"
    else if ($0 ~ /anodiff::|\.(cpp|hpp):[0-9]/) where = "anodiff"
    if (where != "") {
      fn = $0; sub(/^ *#[0-9]+ 0x[0-9a-f]+ in /, "", fn); sub(/ .*/, "", fn); sub(/\(.*/, "", fn)
      print where, fn; found = 1; exit
    }
  }
  END { if (!found) print "anodiff (no frame of the library or of anodiff in the report)" }'
