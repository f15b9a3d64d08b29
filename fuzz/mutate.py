#!/usr/bin/env python3
"""Mutation test of anodiff-post-analysis: hostile .npy files and trajectory directories.

Writes N mutated inputs (a single .npy, or a directory of chunks + steps.csv), runs
  anodiff-post-analysis --trajectory INPUT --out OUT --no-plots
on each under a time limit and a memory limit, and fails unless every run exits 0, or 2 with its message as the
last line of stderr (printable ASCII: a hostile file's bytes are escaped). A run that is killed (a hang or a signal), exits 1 ("internal error") or exits 2 silently is a
finding; its input is kept under WORK/findings/. Every input the program accepts (exit 0) that numpy's rules would
read as a plain 2-D float array (a single .npy, or a directory of chunk_000000.npy ... in order) has its msd.csv
compared with a brute-force MSD computed here: a reader that wrongly accepts a hostile shape and reads the wrong
numbers is a finding too. First, a fixed table of hostile inputs must each exit 2 naming the file. Needs only the
Python standard library.

Usage: mutate.py BINARY WORK [--count 300] [--seed 0] [--timeout 30] [--memory-mb 4096]
"""
import argparse
import array
import ast
import csv
import math
import os
import random
import resource
import shutil
import struct
import subprocess
import sys
import time

DESCRS = ["<f4", "<f8"]
HOSTILE_SHAPES = [
    "(18446744073709551615, 7)", "(-3, 7)", "(7, -3)", "(0, 7)", "(7, 0)", "(0, 0)", "()", "(5,)",
    "(3, 7, 2)", "(99999999999, 99999999999)", "(9223372036854775808, 2)", "(4294967296, 4294967296)",
    "(2305843009213693952, 8)", "(1e5, 7)", "(abc, 7)", "(3 7)", "(,)", "(", "(36893488147419103232, 1)",
    "(60, 7", "(60, 18446744073709551615)", "(1, 4611686018427387904)", "(+60, 7)", "(0x10, 7)",
    "(60, 7, )", "(60,,7)", "( 60 , 7 )",
]


def npy_bytes(shape, descr, data, major=1, dict_text=None):
    d = dict_text if dict_text is not None else \
        "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, shape)
    prefix = 10 if major == 1 else 12
    h = d
    while (prefix + len(h) + 1) % 64:
        h += " "
    h += "\n"
    out = b"\x93NUMPY" + bytes([major, 0])
    out += struct.pack("<H", len(h)) if major == 1 else struct.pack("<I", len(h))
    return out + h.encode("latin-1") + data


def random_walk(rng, T, D, double):
    x = [0.0] * D
    out = bytearray()
    for _ in range(T):
        x = [v + rng.gauss(0, 1) for v in x]
        out += struct.pack("<%d%s" % (D, "d" if double else "f"), *x)
    return bytes(out)


def mutate_bytes(rng, b):
    b = bytearray(b)
    kind = rng.randrange(6)
    if kind == 0 and b:  # flip bits
        for _ in range(rng.randint(1, 8)):
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
    elif kind == 1 and b:  # overwrite bytes of the preamble (version, header length)
        for _ in range(rng.randint(1, 4)):
            b[rng.randrange(min(len(b), 12))] = rng.randrange(256)
    elif kind == 2:  # truncate
        b = b[: rng.randrange(len(b) + 1)]
    elif kind == 3:  # append garbage
        b += bytes(rng.randrange(256) for _ in range(rng.randint(1, 300)))
    elif kind == 4 and b:  # random bytes inside the header
        for _ in range(rng.randint(1, 6)):
            i = rng.randrange(10, min(len(b), 128)) if len(b) > 10 else 0
            b[i] = rng.choice(b"(),:'\"{} 0123456789-\x00\xff")
    else:  # insert bytes
        i = rng.randrange(len(b) + 1)
        b[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 20)))
    return bytes(b)


def hostile_npy(rng, T, D):
    """A .npy whose header lies: a hostile shape, a header length past the file, a bad version."""
    double = rng.random() < 0.3
    data = random_walk(rng, T, D, double)
    kind = rng.randrange(5)
    if kind <= 1:
        return npy_bytes(rng.choice(HOSTILE_SHAPES), DESCRS[double], data, major=rng.choice([1, 2, 3]))
    if kind == 2:  # header length field: random 16 or 32 bits
        b = bytearray(npy_bytes("(%d, %d)" % (T, D), DESCRS[double], data, major=rng.choice([1, 2])))
        n = 2 if b[6] == 1 else 4
        b[8:8 + n] = rng.choice([b"\xff" * n, bytes(rng.randrange(256) for _ in range(n))])
        return bytes(b)
    if kind == 3:  # dict text variants
        texts = ["{'descr': '%s', 'fortran_order': False, 'shape': (%d, %d), }" % (DESCRS[double], T, D),
                 "{'shape': (%d, %d), 'fortran_order': False, 'descr': '%s'}" % (T, D, DESCRS[double]),
                 "{'descr': '%s', 'fortran_order': False}" % DESCRS[double],
                 "{'descr': '%s', 'shape': (%d, %d)}" % (DESCRS[double], T, D),
                 "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), " % (T, D),
                 "'descr': '<f4'", "", "{}", "{'descr': ''}", "{'descr': '<f4', 'shape': '(5, 2)'}",
                 "{'descr: '<f4', 'fortran_order': False, 'shape': (%d, %d), }" % (T, D)]
        return npy_bytes(None, None, data, dict_text=rng.choice(texts))
    return mutate_bytes(rng, npy_bytes("(%d, %d)" % (T, D), DESCRS[double], data))


def steps_csv(rows, first=0):
    lines = ["step,epoch,loss,grad_norm"]
    for t in range(first, first + rows):
        lines.append("%d,%d,%s,%s" % (t, t // 20, "" if t == 0 else "%.6g" % (1.0 / (t + 1)), "0.5"))
    return "\n".join(lines) + "\n"


def mutate_csv(rng, text):
    lines = text.split("\n")
    kind = rng.randrange(9)
    if kind == 0:
        del lines[rng.randrange(len(lines)):]
    elif kind == 1:
        i = rng.randrange(1, len(lines))
        lines[i] = rng.choice(["1e999999,2,3,4", "nan,nan,nan,nan", "x,y,z,w", ",,,", "1,2,3", "1,2,3,4,5",
                               "18446744073709551617,-1,inf,-inf", "1" * 5000 + ",1,1,1", "\x00,\x01,\x02,\x03"])
    elif kind == 2:
        lines[0] = rng.choice(["", "step", "step,epoch,loss", "a,b,c,d", "\ufeffstep,epoch,loss,grad_norm",
                               "step,epoch,loss,grad_norm,extra", ",,,"])
    elif kind == 3:
        lines = [l + "\r" for l in lines]
    elif kind == 4:
        lines = lines + lines[1:] * rng.randint(1, 50)
    elif kind == 5:
        return mutate_bytes(rng, text.encode("latin-1", "replace")).decode("latin-1")
    elif kind == 6:
        return ""
    elif kind == 7:
        return "\n" * rng.randint(1, 1000)
    else:
        return "".join(chr(rng.randrange(1, 256)) for _ in range(rng.randint(1, 2000)))
    return "\n".join(lines)


def layout_csv(D):
    a = D // 2
    return "name,offset,size,shape,group\nconv.weight,0,%d,%dx1,0\nfc.bias,%d,%d,%d,-1\n" % (a, a, a, D - a, D - a)


HOSTILE_LAYOUTS = [
    "name,offset,size,shape,group\na,0,9223372036854775807,9223372036854775807,0\n"
    "b,9223372036854775807,9223372036854775807,9223372036854775807,0\nc,18446744073709551614,4,4,0\n",
    "name,offset,size,shape,group\na,0,0,4294967296x4294967296,0\n",
    "name,offset,size,shape,group\na,0,4,4,99999999999\n",
    "name,offset,size,shape,group\na,0,4,4,-5\n",
    "name,offset,size,shape,group\na,0,-4,4,0\n",
    "name,offset,size,shape,group\na,0,100000000,100000000,0\n",
]


def make_input(rng, path):
    """A mutated single .npy (returns path + '.npy') or trajectory directory."""
    T, D = rng.randint(30, 80), rng.randint(2, 12)
    if rng.random() < 0.4:
        f = path + ".npy"
        with open(f, "wb") as out:
            out.write(hostile_npy(rng, T, D))
        return f
    os.makedirs(path)
    sizes = [rng.randint(10, 30) for _ in range(rng.randint(1, 4))]
    total = sum(sizes)
    victim = rng.randrange(len(sizes) + 1)  # == len(sizes): mutate steps.csv instead
    for i, rows in enumerate(sizes):
        if i == victim:
            b = hostile_npy(rng, rows, D)
        else:
            b = npy_bytes("(%d, %d)" % (rows, D), "<f4", random_walk(rng, rows, D, False))
        name = "chunk_%06d.npy" % i
        if i == victim and rng.random() < 0.1:
            name = rng.choice(["chunk_999999999999999999999.npy", "chunk_00000a.npy", "chunk_%06d.npy.1.tmp" % i])
        with open(os.path.join(path, name), "wb") as out:
            out.write(b)
    csv = steps_csv(total)
    if victim == len(sizes) or rng.random() < 0.2:
        csv = mutate_csv(rng, csv)
    if rng.random() < 0.15:  # a parameter layout beside the chunks (read by default)
        layout = mutate_csv(rng, layout_csv(D)) if rng.random() < 0.7 else rng.choice(HOSTILE_LAYOUTS)
        with open(os.path.join(path, "layout.csv"), "w", encoding="latin-1", errors="replace") as out:
            out.write(layout)
    if rng.random() < 0.05:
        os.makedirs(os.path.join(path, "steps.csv"))
    else:
        with open(os.path.join(path, "steps.csv"), "w", encoding="latin-1", errors="replace") as out:
            out.write(csv)
    return path


def read_npy_plain(path):
    """The rows of `path` if numpy's rules read it as a C-order 2-D little-endian float32/float64 array (its header a
    dict of exactly descr, fortran_order, shape; data at least as long as the shape says), else None."""
    with open(path, "rb") as f:
        b = f.read()
    if len(b) < 10 or b[:6] != b"\x93NUMPY" or b[6] not in (1, 2, 3):
        return None
    size, off = (struct.unpack("<H", b[8:10])[0], 10) if b[6] == 1 else (struct.unpack("<I", b[8:12])[0], 12)
    try:
        d = ast.literal_eval(b[off:off + size].decode("latin-1"))
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    if not isinstance(d, dict) or set(d) != {"descr", "fortran_order", "shape"} or d["fortran_order"] is not False:
        return None
    shape = d["shape"]
    if d["descr"] not in DESCRS or not isinstance(shape, tuple) or len(shape) != 2 or \
            not all(type(v) is int and v >= 0 for v in shape):
        return None
    T, D = shape
    item = 4 if d["descr"] == "<f4" else 8
    data = b[off + size:]
    if T * D * item > len(data) or T * D > 10 ** 7:
        return None
    a = array.array("f" if item == 4 else "d")
    a.frombytes(data[:T * D * item])
    return [a[i * D:(i + 1) * D] for i in range(T)]


def read_plain_input(inp):
    """The rows of an input as numpy would read them, or None when its reading is not plain (an odd chunk name, a
    chunk numpy refuses, chunks of different widths)."""
    if not os.path.isdir(inp):
        return read_npy_plain(inp)
    names = sorted(n for n in os.listdir(inp) if n.startswith("chunk_") and n.endswith(".npy") and ".tmp" not in n)
    if not names or names != ["chunk_%06d.npy" % k for k in range(len(names))]:
        return None
    rows = []
    for n in names:
        r = read_npy_plain(os.path.join(inp, n))
        if r is None or (rows and r and len(r[0]) != len(rows[0])):
            return None
        rows += r
    return rows


def brute_force_msd(rows):
    """MSD(tau) = mean over t of |w_{t+tau} - w_t|^2, tau = 1 .. T-1, in float64."""
    T = len(rows)
    return {tau: sum(sum((float(b) - float(a)) ** 2 for a, b in zip(rows[t], rows[t + tau])) for t in range(T - tau))
            / (T - tau) for tau in range(1, T)}


def msd_matches(rows, msd_csv):
    """'' when msd.csv (one part: the whole trajectory) equals the brute-force MSD, else what differs."""
    if any(not math.isfinite(v) for r in rows for v in r):
        return ""  # non-finite weights: the program refuses them or reports NaN; nothing to compare
    try:
        want = brute_force_msd(rows)
    except OverflowError:
        return ""  # squared distances beyond float64: nothing to compare
    got = {}
    with open(msd_csv) as f:
        for r in csv.DictReader(f):
            got[int(r["lag"])] = float(r["msd"]) if r["msd"] else float("nan")
    if set(got) != set(want):
        return "lags %s, expected 1..%d" % (sorted(got)[:5], len(rows) - 1)
    # Accurate relative to the trajectory's scale, as a floating-point method can be: the distances come from sums of
    # increments, so one coordinate at 1e96 beside steps of 1 leaves the small distances at the rounding of 1e192
    # (a mutated input found this; docs/robustness.md). The scale is T times the largest MSD.
    scale = len(rows) * max(abs(v) for v in want.values())
    for tau, m in want.items():
        if not math.isclose(got[tau], m, rel_tol=1e-8, abs_tol=1e-10 * scale):
            return "MSD(%d) = %r, brute force %r (scale %r)" % (tau, got[tau], m, scale)
    return ""


def must_exit_2(work):
    """Hostile inputs whose refusal is certain: (name, bytes of a single .npy or {file: bytes} of a directory)."""
    walk = random_walk(random.Random(1), 40, 5, False)
    good = npy_bytes("(40, 5)", "<f4", walk)
    nan = bytearray(good)
    nan[-4:] = struct.pack("<f", float("nan"))
    cases = [
        ("truncated_data.npy", npy_bytes("(60, 5)", "<f4", walk)),
        ("header_past_end.npy", good[:8] + b"\xff\xff" + good[10:]),
        ("three_dimensions.npy", npy_bytes("(8, 5, 5)", "<f4", walk)),
        ("one_dimension.npy", npy_bytes("(200,)", "<f4", walk)),
        ("big_endian.npy", npy_bytes("(40, 5)", ">f4", walk)),
        ("integers.npy", npy_bytes("(40, 5)", "<i4", walk)),
        ("fortran_order.npy", npy_bytes(None, None, walk, dict_text="{'descr': '<f4', 'fortran_order': True, "
                                                                    "'shape': (40, 5), }")),
        ("huge_shape.npy", npy_bytes("(18446744073709551615, 7)", "<f4", walk)),
        ("not_npy.npy", b"PK\x03\x04 not a numpy file at all"),
        ("nan_weights.npy", bytes(nan)),
        ("widths_differ", {"chunk_000000.npy": good, "chunk_000001.npy": npy_bytes("(40, 4)", "<f4", walk[:640]),
                           "steps.csv": steps_csv(80).encode()}),
        ("empty_directory", {}),
    ]
    for name, content in cases:
        path = os.path.join(work, "must_exit_2", name)
        if isinstance(content, dict):
            os.makedirs(path)
            for f, b in content.items():
                with open(os.path.join(path, f), "wb") as out:
                    out.write(b)
        else:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as out:
                out.write(content)
        yield name, path


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("binary")
    ap.add_argument("work")
    ap.add_argument("--count", type=int, default=300)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=30)
    ap.add_argument("--memory-mb", type=int, default=4096, help="address-space limit of each run (0: none)")
    args = ap.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(os.path.join(args.work, "inputs"))
    rng = random.Random(args.seed)

    def limits():
        if args.memory_mb:
            m = args.memory_mb << 20
            resource.setrlimit(resource.RLIMIT_AS, (m, m))

    outcome = {}
    findings = []
    t0 = time.time()
    env = dict(os.environ, OMP_NUM_THREADS="1")
    for name, path in must_exit_2(args.work):
        out = os.path.join(args.work, "out")
        p = subprocess.run([args.binary, "--trajectory", path, "--out", out, "--no-plots"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, timeout=args.timeout, preexec_fn=limits, env=env)
        err = p.stderr.decode("utf-8", "replace").strip()
        last = err.splitlines()[-1] if err else ""
        if p.returncode != 2 or name not in last:
            findings.append((path, p.returncode, last))
            print("FINDING: %s must exit 2 naming it: exit %s: %s" % (name, p.returncode, last[:300]))
        shutil.rmtree(out, ignore_errors=True)
    compared = 0
    for i in range(args.count):
        inp = make_input(rng, os.path.join(args.work, "inputs", "m%04d" % i))
        out = os.path.join(args.work, "out")
        cmd = [args.binary, "--trajectory", inp, "--out", out, "--no-plots"]
        try:
            p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=args.timeout,
                               preexec_fn=limits, env=env)
            rc, err = p.returncode, p.stderr.decode("utf-8", "replace")
        except subprocess.TimeoutExpired:
            rc, err = "timeout", ""
        last = err.strip().splitlines()[-1] if err.strip() else ""
        # Exit 0, or 2 with the error as the last line of stderr, printable (a hostile file's bytes are escaped).
        ok = rc == 0 or (rc == 2 and last.startswith("anodiff-post-analysis: ") and last.isprintable()
                         and last.isascii() and " internal error" not in last)
        if ok and rc == 0:
            rows = read_plain_input(inp)
            if rows is not None and len(rows) >= 2:
                differs = msd_matches(rows, os.path.join(out, "msd.csv"))
                compared += 1
                if differs:
                    ok, last = False, "accepted, but its MSD is not the brute force's: " + differs
        key = rc if ok else "finding"
        outcome[key] = outcome.get(key, 0) + 1
        if not ok:
            kept = os.path.join(args.work, "findings", os.path.basename(inp))
            os.makedirs(os.path.dirname(kept), exist_ok=True)
            (shutil.copytree if os.path.isdir(inp) else shutil.copy)(inp, kept)
            findings.append((kept, rc, last))
            print("FINDING: %s: exit %s: %s" % (kept, rc, last[:300]))
        shutil.rmtree(inp, ignore_errors=True) if os.path.isdir(inp) else os.remove(inp)
        shutil.rmtree(out, ignore_errors=True)
    print("mutate.py: the table of must-exit-2 inputs checked; %d accepted inputs' MSD equal to brute force" % compared)
    print("mutate.py: %d inputs (seed %d) in %.0f s: %s" % (
        args.count, args.seed, time.time() - t0,
        ", ".join("%s: %d" % ("exit %s" % k if k != "finding" else "findings", v)
                  for k, v in sorted(outcome.items(), key=str))))
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
