# Sourced by the CLI test scripts: their checks. Each failure prints FAIL and sets fail=1.
fail=0
# check CONDITION DESCRIPTION: CONDITION is evaluated by the shell.
check() { if eval "$1"; then echo "ok: $2"; else echo "FAIL: $2"; fail=1; fi; }
# expect2 PATTERN -- COMMAND...: the command exits 2 and the last line of its stderr matches PATTERN.
expect2() {
  local pattern=$1
  shift 2
  local err
  err=$("$@" 2>&1 >/dev/null)
  local got=$?
  if [[ $got -eq 2 ]] && tail -n 1 <<<"$err" | grep -q -- "$pattern"; then echo "ok: exit 2: $pattern"; else
    echo "FAIL: $* -> exit $got, stderr: $err"; fail=1; fi
}
