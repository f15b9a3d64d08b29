#!/usr/bin/python3
"""Code mutants the test suite must catch (issue "tests that can fail"; docs/robustness.md).

Each mutant changes one line of the library (an off-by-one in the MSD's lags, a sign in the power-law fit, a dropped
fsync, a swapped verdict comparison, a skipped bound check in the .npy reader, ...). For each one, this script
compiles the mutated source file alone with its command from compile_commands.json, links a mutated copy of the
library it belongs to (the target's own link command) into a scratch folder, and runs the tests that must catch it
with LD_LIBRARY_PATH pointing there (the build's programs and tests find their libraries through RUNPATH, which
LD_LIBRARY_PATH precedes). The build itself is never touched. A mutant the tests do not catch, or a mutant whose line
is no longer in the source (the list is stale), fails this script.

Usage: mutants.py BUILD_DIR [NAME ...]   (names: run only those mutants)
"""
import json
import os
import shlex
import subprocess
import sys
import time

BUILD = os.path.abspath(sys.argv[1])
ONLY = set(sys.argv[2:])
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRATCH = os.path.join(BUILD, "mutants")
CORE_TESTS = os.path.join(BUILD, "tests", "anodiff_core_tests")
TORCH_TESTS = os.path.join(BUILD, "tests", "anodiff_torch_tests")

# name, library target, source file, the text replaced (exactly once), its replacement, the test command that must fail.
MUTANTS = [
    ("msd_lag_off_by_one", "anodiff_core", "src/analysis/msd.cpp",
     "c.msd.push_back(by_lag[tau]);", "c.msd.push_back(by_lag[tau - 1]);", [CORE_TESTS, "[msd]"]),
    ("fit_slope_sign", "anodiff_core", "src/analysis/fit.cpp",
     "f.exponent = sxy / sxx;", "f.exponent = -sxy / sxx;", [CORE_TESTS, "[fit]"]),
    ("dropped_fsync", "anodiff_core", "src/detail/npy.cpp",
     'if (::fsync(fd) != 0) throw fail("fsync failed", errno);', 'if (false) throw fail("fsync failed", errno);',
     [CORE_TESTS, "[durable]"]),
    ("npy_bound_check_skipped", "anodiff_core", "src/detail/npy.cpp",
     "if (have < need) {", "if (false) {", [CORE_TESTS, "[npy]"]),
    ("verdict_crossover_direction", "anodiff_core", "src/analysis/claims.cpp",
     "f.early_exponent > 1 && f.late_exponent < 1;", "f.early_exponent < 1 && f.late_exponent > 1;",
     [CORE_TESTS, "[claims]"]),
    ("verdict_threshold", "anodiff_core", "src/analysis/claims.cpp",
     "if (share >= t.shown - 1e-9) return Verdict::shown;", "if (share > t.shown) return Verdict::shown;",
     [CORE_TESTS, "[claims]"]),
    ("attenuation_sign", "anodiff_core", "src/analysis/claims.cpp",
     "beyond(t.slope_log_wait, t.slope_log_wait_error, -1)", "beyond(t.slope_log_wait, t.slope_log_wait_error, +1)",
     [CORE_TESTS, "[claims]"]),
    ("headline_any_run", "anodiff_torch", "src/torch/reproduction_report.cpp",
     "std::all_of(claims.begin(), claims.end(), [](const RunClaims& c) { return c.shows_pattern(); });",
     "std::any_of(claims.begin(), claims.end(), [](const RunClaims& c) { return c.shows_pattern(); });",
     [TORCH_TESTS, "[report]"]),
]


def fail(message):
    print(f"mutants: {message}", flush=True)
    sys.exit(1)


def compile_command(source):
    """The compile command of `source` from compile_commands.json, as (directory, argument list, object)."""
    with open(os.path.join(BUILD, "compile_commands.json")) as f:
        for entry in json.load(f):
            if os.path.realpath(entry["file"]) == os.path.realpath(source):
                args = entry.get("arguments") or shlex.split(entry["command"])
                return entry["directory"], args, entry.get("output") or args[args.index("-o") + 1]
    fail(f"{source}: not in {BUILD}/compile_commands.json (configure with CMAKE_EXPORT_COMPILE_COMMANDS=ON)")


def build_mutant(name, target, source_rel, before, after):
    """Compiles the mutated source and links the mutated library into SCRATCH/name; returns that folder."""
    source = os.path.join(ROOT, source_rel)
    with open(source) as f:
        text = f.read()
    if text.count(before) != 1:
        fail(f"{name}: expected the text {before!r} once in {source_rel}, found it {text.count(before)} times: the "
             f"mutant list is stale")
    out = os.path.join(SCRATCH, name)
    os.makedirs(out, exist_ok=True)
    mutated = os.path.join(out, os.path.basename(source))
    with open(mutated, "w") as f:
        f.write(text.replace(before, after))
    directory, args, obj = compile_command(source)
    obj_abs = os.path.normpath(os.path.join(directory, obj))
    new_obj = os.path.join(out, os.path.basename(obj))
    args = list(args)
    args[args.index("-o") + 1] = new_obj
    args = [mutated if os.path.realpath(os.path.join(directory, a)) == os.path.realpath(source) else a for a in args]
    args.insert(1, "-iquote" + os.path.dirname(source))  # the original's folder, for its quoted includes
    subprocess.run(args, cwd=directory, check=True)
    target_dir = os.path.join(BUILD, "CMakeFiles", f"{target}.dir")
    with open(os.path.join(target_dir, "link.txt")) as f:
        link = shlex.split(f.read())
    rel_obj = os.path.relpath(obj_abs, BUILD)
    if rel_obj not in link:
        fail(f"{name}: {rel_obj} is not in {target}'s link command")
    link = [new_obj if a == rel_obj else a for a in link]
    library = link[link.index("-o") + 1]  # libanodiff_core.so.0.1.0
    link[link.index("-o") + 1] = os.path.join(out, library)
    subprocess.run(link, cwd=BUILD, check=True)
    soname = library[:library.index(".so") + 3] + "." + library.split(".so.")[1].split(".")[0]
    for alias in (soname, library[:library.index(".so") + 3]):
        path = os.path.join(out, alias)
        if os.path.lexists(path):
            os.remove(path)
        os.symlink(library, path)
    return out


def main():
    caught, survived = [], []
    for name, target, source, before, after, command in MUTANTS:
        if ONLY and name not in ONLY:
            continue
        t0 = time.time()
        lib = build_mutant(name, target, source, before, after)
        env = {**os.environ, "LD_LIBRARY_PATH": lib + os.pathsep + os.environ.get("LD_LIBRARY_PATH", ""),
               "OMP_NUM_THREADS": "1"}
        run = subprocess.run(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600)
        # The mutated library must be the one loaded: ldd of the test program names the scratch folder.
        ldd = subprocess.run(["ldd", command[0]], env=env, stdout=subprocess.PIPE, text=True).stdout
        if lib not in ldd:
            fail(f"{name}: {command[0]} does not load the mutated library from {lib}:\n{ldd}")
        verdict = "caught" if run.returncode != 0 else "SURVIVED"
        (caught if run.returncode != 0 else survived).append(name)
        last = [line for line in run.stdout.splitlines() if line.strip()][-1:]
        print(f"mutants: {name} ({source}): {verdict} by {' '.join(os.path.basename(c) for c in command)} "
              f"in {time.time() - t0:.0f} s: {last[0] if last else ''}", flush=True)
    print(f"mutants: {len(caught)} caught, {len(survived)} survived" + (f": {', '.join(survived)}" if survived else ""))
    sys.exit(1 if survived else 0)


if __name__ == "__main__":
    main()
