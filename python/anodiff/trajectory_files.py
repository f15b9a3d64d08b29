"""The trajectory directory as the Recorder writes it (docs/formats.md): .npy chunks with the C++ library's header,
steps.csv with its number format, and durable writes (a temporary name of this process's own, fsync, rename, fsync of
the directory) so that a reader never sees a partial file; _Writer appends to a directory by the C++
TrajectoryWriter's rules."""
import math
import os
import re

import numpy as np

CHUNK = re.compile(r"chunk_[0-9]{6,}\.npy")  # a complete chunk's name (temporary names never match)


def _npy_header(shape, descr="<f4"):
    """The .npy preamble the C++ library writes (src/detail/npy.cpp): version 1.0 (2.0 if it does not fit), the
    dictionary padded with spaces and a newline to a multiple of 64 bytes."""
    dims = ", ".join(str(int(s)) for s in shape) + ("," if len(shape) == 1 else "")
    d = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (descr, dims)
    v1 = len(d) + 1 + 10 < 65536
    prefix = 10 if v1 else 12
    pad = (64 - (prefix + len(d) + 1) % 64) % 64
    d = (d + " " * pad + "\n").encode("latin1")
    n = len(d)
    size = n.to_bytes(2, "little") if v1 else n.to_bytes(4, "little")
    return b"\x93NUMPY" + bytes([1 if v1 else 2, 0]) + size + d


def _fsync_directory(directory):
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_durably(path, parts, hook=None):
    """Writes the bytes-like `parts` to `path`: to ``path.PID.tmp``, fsync, rename, fsync of the directory (as the
    C++ library), so that a reader never sees a partial file. `hook(stage)` is a test seam."""
    tmp = "%s.%d.tmp" % (path, os.getpid())
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0), 0o644)
    try:
        for part in parts:
            view = memoryview(part).cast("B")
            while view:
                view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)
    if hook:
        hook("written")
    os.replace(tmp, path)
    _fsync_directory(os.path.dirname(os.path.abspath(path)))


def _number(v):
    """A steps.csv field as the C++ StepTable writes it: empty for NaN, whole numbers without a decimal point, else
    9 significant digits."""
    v = float(v)
    if math.isnan(v):
        return ""
    if v == math.floor(v) and abs(v) < 1e15:
        return str(int(v))
    return format(v, ".9g")


def _read_steps(path):
    """steps.csv as (names, rows of floats); CRLF line ends and a UTF-8 BOM accepted, as the C++ reader does."""
    import csv
    with open(path, newline="", encoding="utf-8-sig") as f:
        lines = [r for r in csv.reader(f) if r]
    if not lines:
        raise ValueError(f"{path}: empty file, expected a header line")
    names, rows = lines[0], []
    for i, r in enumerate(lines[1:], start=2):
        if len(r) != len(names):
            raise ValueError(f"{path}:{i}: expected {len(names)} fields, found {len(r)}")
        try:
            rows.append([float(x) if x != "" else math.nan for x in r])
        except ValueError:
            raise ValueError(f"{path}:{i}: expected numbers, found {r}") from None
    return names, rows


class _Writer:
    """A trajectory directory being appended to (the C++ TrajectoryWriter's rules): complete chunks are kept on
    opening, leftover temporary files removed; commit() writes steps.csv, then the pending rows as the next chunk."""

    def __init__(self, directory, dimension, columns, hook=None):
        self.directory, self.dimension, self.columns, self.hook = directory, dimension, list(columns), hook
        os.makedirs(directory, exist_ok=True)
        for name in os.listdir(directory):
            if name.endswith(".tmp"):
                os.remove(os.path.join(directory, name))  # a write that never completed
        self.ends = []
        for name in sorted(n for n in os.listdir(directory) if CHUNK.fullmatch(n)):
            a = np.load(os.path.join(directory, name), mmap_mode="r")
            if a.ndim != 2 or a.shape[1] != dimension:
                raise ValueError(f"{os.path.join(directory, name)}: expected a chunk of {dimension} parameters per "
                                 f"snapshot, found shape {a.shape}")
            self.ends.append((self.ends[-1] if self.ends else 0) + a.shape[0])
            del a
        self.rows = []
        csv_path = os.path.join(directory, "steps.csv")
        if os.path.exists(csv_path):
            names, rows = _read_steps(csv_path)
            if names != self.columns:
                raise ValueError(f"{csv_path}: expected the columns {','.join(self.columns)}, found {','.join(names)}")
            if len(rows) < self.committed:
                raise ValueError(f"{csv_path}: expected at least {self.committed} rows (one per recorded snapshot), "
                                 f"found {len(rows)}")
            self.rows = rows[:self.committed]
        elif self.committed > 0:
            raise ValueError(f"{csv_path}: missing, but {self.committed} snapshots are recorded beside it")
        self.pending = []  # float32 arrays, one row each (or blocks of rows)
        self.pending_rows = 0

    @property
    def committed(self):
        return self.ends[-1] if self.ends else 0

    def append(self, row, values):
        self.pending.append(row)
        self.pending_rows += 1 if row.ndim == 1 else row.shape[0]
        self.rows.append(values)

    def _write_steps(self):
        text = ",".join(self.columns) + "\n" + "".join(",".join(_number(v) for v in r) + "\n" for r in self.rows)
        write_durably(os.path.join(self.directory, "steps.csv"), [text.encode()])

    def commit(self):
        if self.pending_rows == 0:
            return
        self._write_steps()
        chunk = os.path.join(self.directory, "chunk_%06d.npy" % len(self.ends))
        write_durably(chunk, [_npy_header((self.pending_rows, self.dimension))] + self.pending, self.hook)
        self.ends.append(self.committed + self.pending_rows)
        self.pending, self.pending_rows = [], 0

    def truncate(self, snapshots):
        if snapshots > self.committed or (snapshots != 0 and snapshots not in self.ends):
            raise ValueError(f"{self.directory}: cannot resume at snapshot {snapshots}: not a chunk boundary "
                             f"(chunks end at {self.ends})")
        self.pending, self.pending_rows = [], 0
        while self.committed > snapshots:
            os.remove(os.path.join(self.directory, "chunk_%06d.npy" % (len(self.ends) - 1)))
            self.ends.pop()
        self.rows = self.rows[:self.committed]
        self._write_steps()
