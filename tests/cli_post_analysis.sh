#!/usr/bin/env bash
# Exit codes and outputs of anodiff-post-analysis. Usage: cli_post_analysis.sh BINARY WORKDIR
set -euo pipefail
bin=$1
work=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
rm -rf "$work" && mkdir -p "$work" && cd "$work"
source "$here/cli_common.sh"
expect() {  # expect CODE PATTERN -- command...
  local code=$1 pattern=$2
  shift 3
  local err got=0
  err=$("$@" 2>&1 >/dev/null) || got=$?
  if [[ $got -ne $code ]] || ! grep -q -- "$pattern" <<<"$err"; then
    echo "FAIL: $* -> exit $got (expected $code), stderr: $err"
    fail=1
  elif [[ $code -eq 2 ]] && ! tail -n 1 <<<"$err" | grep -q -- "$pattern"; then
    # The error is one line, the last: only progress lines written before the fault was found may precede it.
    echo "FAIL: $* -> the error is not the one last line of stderr: $err"
    fail=1
  elif [[ $code -eq 2 && "$*" == *"--part-length"* && $(grep -c . <<<"$err") -ne 1 ]]; then
    echo "FAIL: $* -> a flag error must be the only line on stderr: $err"
    fail=1
  else
    echo "ok: $* -> $got"
  fi
}
/usr/bin/python3 - <<'PY'
import numpy as np
rng = np.random.default_rng(0)
x = np.cumsum(rng.standard_normal((300, 20)), axis=0).astype(np.float32)
np.save("traj.npy", x)
np.save("loss.npy", rng.random(300))
np.save("short_loss.npy", rng.random(10))
y = x.copy(); y[123, 4] = np.nan
np.save("nan.npy", y)
np.save("int.npy", np.zeros((3, 3), dtype=np.int64))
open("garbage.npy", "wb").write(b"not an npy file at all")
PY
expect 2 "required" -- "$bin"
expect 2 "unrecognised option\|unrecognized option" -- "$bin" --bogus --out o
expect 2 "exactly one of" -- "$bin" --out o
expect 2 "missing.npy" -- "$bin" --trajectory missing.npy --out o
expect 2 "garbage.npy.*magic" -- "$bin" --trajectory garbage.npy --out o
expect 2 "int.npy.*'<i8'" -- "$bin" --trajectory int.npy --out o
expect 2 "nan.npy.*snapshot 123" -- "$bin" --trajectory nan.npy --out o
expect 2 "part-length must be at least 2" -- "$bin" --trajectory traj.npy --part-length 1 --out o
expect 2 "300 snapshots, the part length is 500" -- "$bin" --trajectory traj.npy --part-length 500 --out o
expect 2 "short_loss.npy.*expected 300.*found 10" -- "$bin" --trajectory traj.npy --loss short_loss.npy --out o
expect 2 "window must be at least 1" -- "$bin" --trajectory traj.npy --window 0 --out o
expect 2 "invalid\|the argument" -- "$bin" --trajectory traj.npy --window abc --out o
expect 2 "short-band expects LO:HI" -- "$bin" --trajectory traj.npy --short-band 40:4 --out o
expect 2 "long-band expects LO:HI" -- "$bin" --trajectory traj.npy --long-band x --out o
expect 2 "min_lag must be at least 1, got 0" -- "$bin" --trajectory traj.npy --min-lag 0 --out o
expect 2 "missing_layout.csv: cannot open" -- "$bin" --trajectory traj.npy --layout missing_layout.csv --out o
expect 0 "results in" -- "$bin" --trajectory traj.npy --loss loss.npy --part-length 100 --out good
png_ok good/msd.png good/local_exponent.png good/msl.png good/msd_contour.png good/band_exponents.png
[[ $(head -n 1 good/msd.csv) == "part,start,lag,msd" ]] || { echo "FAIL: msd.csv header"; fail=1; }
[[ $(head -n 1 good/local_exponent.csv) == "part,start,lag,beta" ]] || { echo "FAIL: beta header"; fail=1; }
[[ $(grep -c '^2,200,' good/msd.csv) -eq 99 ]] || { echo "FAIL: part 2 rows of msd.csv"; fail=1; }
[[ $(wc -l < good/fit.csv) -eq 4 ]] || { echo "FAIL: fit.csv rows"; fail=1; }
# Named columns: the crossover verdict and the band exponents; the summary prints the bands.
/usr/bin/python3 - <<'PY' || fail=1
import csv
rows = list(csv.DictReader(open("good/fit.csv")))
for r in rows:
    assert r["crossover_found"] in ("0", "1"), r
    assert (r["tau0"] == "") == (r["crossover_found"] == "0"), r
    assert r["short_band_lo"] == "4" and r["short_band_hi"] == "40", r
    assert float(r["short_band_q25"]) <= float(r["short_band_median"]) <= float(r["short_band_q75"]), r
    assert r["long_band_lo"] == "30" and r["long_band_hi"] == "90", r
print("ok: fit.csv has the crossover verdict and the band exponents")
PY
run_ok noplots "$bin" --trajectory traj.npy --out noplots --no-plots
check "[[ ! -e noplots/msd.png ]]" "--no-plots writes no PNG"
# The MSD the program writes equals numpy's brute force.
/usr/bin/python3 - <<'PY' || fail=1
import numpy as np, csv
x = np.load("traj.npy").astype(np.float64)[:100]
rows = [r for r in csv.DictReader(open("good/msd.csv")) if r["part"] == "0"]
for r in rows[:50]:
    tau = int(r["lag"])
    ref = np.mean(np.sum((x[tau:] - x[:-tau]) ** 2, axis=1))
    assert abs(float(r["msd"]) - ref) <= 1e-9 * ref, (tau, r["msd"], ref)
print("ok: msd.csv equals numpy's brute force")
# Every other table holds what its name says: finite numbers (empty cells: no crossover), positive where they must be.
import math
def rows(name):
    return list(csv.DictReader(open(f"good/{name}")))
positive = {"aging_msd.csv": "msd", "contour.csv": "mean_contour_length", "msd_contour.csv": "msd", "msl.csv": "msl",
            "displacement_histogram.csv": "count", "step_length.csv": "step_length", "motion_fit.csv": "noise_floor"}
for name, column in positive.items():
    table = rows(name)
    assert table, name
    for r in table:
        if r.get("pairs") == "0":  # an empty bin: its mean is not a number, written as an empty cell
            assert r[column] == "", (name, r)
            continue
        assert all(math.isfinite(float(v)) for k, v in r.items() if v != "" and k not in ("component", "binning")), (name, r)
        assert float(r[column]) >= 0, (name, r)
beta = [float(r["beta"]) for r in rows("local_exponent.csv")]
assert beta and all(0.0 < b < 3.0 for b in beta), (min(beta), max(beta))  # a random walk: beta near 1
print("ok: aging, contour, MSL, histogram, step-length and motion-fit tables are finite and in range")
PY
exit $fail
