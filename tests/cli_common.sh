# Sourced by the CLI test scripts, which run under `set -euo pipefail`: their checks. Each failure prints FAIL and
# sets fail=1, and the script goes on to its other checks; a command the script needs to go on stops it (set -e).
fail=0
# check CONDITION DESCRIPTION: CONDITION is evaluated by the shell.
check() { if eval "$1"; then echo "ok: $2"; else echo "FAIL: $2"; fail=1; fi; }
# run_ok NAME COMMAND...: the command exits 0; its stdout and stderr go to NAME.log, printed (the end) on a failure.
run_ok() {
  local name=$1
  shift
  local got=0
  "$@" > "$name.log" 2>&1 || got=$?
  if [[ $got -eq 0 ]]; then echo "ok: $name exits 0"; else
    echo "FAIL: $name: $* -> exit $got"; tail -n 30 "$name.log"; fail=1; fi
}
# expect2 PATTERN -- COMMAND...: the command exits 2 and the last line of its stderr matches PATTERN.
expect2() {
  local pattern=$1
  shift 2
  local err got=0
  err=$("$@" 2>&1 >/dev/null) || got=$?
  if [[ $got -eq 2 ]] && tail -n 1 <<<"$err" | grep -q -- "$pattern"; then echo "ok: exit 2: $pattern"; else
    echo "FAIL: $* -> exit $got, stderr: $err"; fail=1; fi
}
# png_ok FILE...: each file is a PNG (its signature) of at least 200 x 150 pixels (IHDR), not an empty or torn file.
png_ok() {
  local f
  for f in "$@"; do
    if /usr/bin/python3 - "$f" <<'PY'; then echo "ok: $f is a drawn PNG"; else echo "FAIL: $f is not a drawn PNG"; fail=1; fi
import struct, sys
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", "no PNG signature"
width, height = struct.unpack(">II", data[16:24])
assert width >= 200 and height >= 150 and len(data) > 2000, (width, height, len(data))
assert data.rstrip(b"\0")[-8:-4] == b"IEND", "torn: no IEND chunk"
PY
  done
}
