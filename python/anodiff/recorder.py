"""anodiff.Recorder: records a PyTorch training loop in anodiff's trajectory format (docs/formats.md, docs/python.md).

Pure Python over the user's own torch, imported when a Recorder is made. The files are the C++ Trainer's, byte for
byte in layout: ``chunk_NNNNNN.npy`` (float32 rows, chunk 0 = the initial weights, then one per epoch),
``steps.csv`` (``step,epoch,loss`` and the extra columns), ``layout.csv``; each written durably (a temporary name of
this process's own that no reader takes for a chunk, fsync, rename, fsync of the directory), ``steps.csv`` before
each chunk. A ``recorder_checkpoint.pt`` after each epoch (model, optimizer, random states) lets a killed run resume
from its last complete chunk, as anodiff-train does from its last checkpoint.
"""
import io
import math
import os
import queue
import random
import re
import threading

import numpy as np

from .layout import _layout_csv, _named_parameters, flat_parameters, parameter_layout
from .trajectory_files import _Writer, write_durably

__all__ = ["Recorder", "flat_parameters", "parameter_layout"]

CHECKPOINT = "recorder_checkpoint.pt"
_SHARD_CHECKPOINT_NAME = "recorder_checkpoint_%012d.pt"  # a shard's checkpoints, by snapshot count
_SHARD_CHECKPOINT = re.compile(r"recorder_checkpoint_([0-9]{12})\.pt")
_BASE_COLUMNS = ("step", "epoch", "loss")


def _plain_numpy_state():
    name, keys, pos, has_gauss, cached = np.random.get_state()
    return (name, [int(k) for k in keys], int(pos), int(has_gauss), float(cached))


class Recorder:
    """Records the weights of a PyTorch model after every optimiser step, in anodiff's trajectory format.

        rec = anodiff.Recorder(model, "runs/mine/trajectory")   # snapshot 0 = the initial weights
        ...; optimizer.step(); rec.step(loss)                   # after every optimiser step
        rec.close()                                             # or: with anodiff.Recorder(...) as rec

    Then ``anodiff.post_analysis("runs/mine/trajectory", part_length=1000)`` or anodiff-post-analysis.

    Each step's weights are copied once (on a GPU: concatenated on the device, copied into pinned memory on a side
    stream) and handed to a worker thread that keeps them, applies the projection and writes the chunks, so the
    training loop does not wait for the disk. A chunk is written at each end_epoch(), every `chunk_steps` steps if
    given, and when the pending rows exceed `max_chunk_bytes`; close() ends the epoch if it has steps (so a loop that
    never calls end_epoch() is one epoch).

    Resuming (same rule as anodiff-train): end_epoch() writes the chunk, then a checkpoint (model, optimizer, the
    objects in `stateful`, torch's, numpy's and Python's random states). A Recorder opened on a directory that has
    one loads it into the model and optimizer, drops every chunk past it, and continues: ``rec.epoch`` says how many
    epochs are complete. A loop written as ``for epoch in range(rec.epoch + 1, epochs + 1)`` then records, after a
    kill at any moment, the same trajectory as an uninterrupted run (given a deterministic loop).

    model: an nn.Module (or an iterable of tensors). path: the trajectory directory.
    optimizer: saved in and restored from the checkpoint. stateful: more objects with state_dict/load_state_dict
      (an LR scheduler). columns: extra steps.csv columns after step,epoch,loss; "grad_norm" (the norm of all
      gradients) and "lr" (the optimizer's first group) are filled in when step() is not given them.
    projection: k > 0 also records the count sketch of the weights into `projection_path` (default: "projection"
      beside `path`), identical to anodiff-train --project k --seed `seed` (anodiff.RandomProjection).
    weights: False records the projection only. resume: False starts over, deleting the chunks there.
    groups: scale-invariant groups of layout.csv (see parameter_layout). queue_size: steps in flight.
    shard: (k, n) records `model` (rank k's part of a model sharded over n ranks, or the k-th of n groups of its
      modules) as shard k of a sharded trajectory directory: ``path/shard_{k:03d}``, an ordinary trajectory directory
      with this part's layout; anodiff.load_trajectory(path) reads the n shards as one (docs/formats.md). Each shard
      keeps its last two checkpoints (``recorder_checkpoint_SNAPSHOTS.pt``) and resumes at the newest one that every
      shard has, so that shards killed between their checkpoints resume at the same step. No projection.
    """

    def __init__(self, model, path, *, optimizer=None, stateful=(), columns=(), chunk_steps=0,
                 max_chunk_bytes=1 << 30, projection=0, seed=0, projection_path=None, weights=True, resume=True,
                 groups="auto", queue_size=8, shard=None):
        import torch  # the user's own, imported only now
        self._torch = torch
        self.path = os.fspath(path)
        self.shard = None
        if shard is not None:
            try:
                k, n = (int(v) for v in shard)
            except (TypeError, ValueError):
                raise ValueError(f"anodiff.Recorder: shard must be (k, n), this shard's index and the number of "
                                 f"shards, got {shard!r}") from None
            if not 0 <= k < n or n > 1000:
                raise ValueError(f"anodiff.Recorder: shard (k, n) needs 0 <= k < n <= 1000, got {shard!r}")
            if projection > 0:
                raise ValueError("anodiff.Recorder: a shard records no projection (the sketch of the whole is not "
                                 "a column slice); record it with an unsharded Recorder")
            self.shard = (k, n)
            self.trajectory_path = self.path
            self.path = os.path.join(self.path, "shard_%03d" % k)
        self.model, self.optimizer, self.stateful = model, optimizer, list(stateful)
        self._named = _named_parameters(model)
        if not self._named:
            raise ValueError("anodiff.Recorder: the model has no parameters")
        self._params = [p for _, p in self._named]
        self.dimension = sum(p.numel() for p in self._params)
        self.columns = list(_BASE_COLUMNS) + [c for c in columns]
        if len(set(self.columns)) != len(self.columns):
            raise ValueError(f"anodiff.Recorder: duplicate columns in {self.columns}")
        self._extra = self.columns[3:]
        if not weights and projection <= 0:
            raise ValueError("anodiff.Recorder: weights=False needs a projection (projection=k)")
        self.chunk_steps = int(chunk_steps)
        self._max_rows = max(1, int(max_chunk_bytes) // (4 * self.dimension))
        self._hook = None  # test seam: called with a stage name around chunk writes
        self._writers, self._projected = [], []
        if weights:
            self._writers.append(_Writer(self.path, self.dimension, self.columns, self._call_hook))
            self._projected.append(False)
        self._sketch = None
        if projection > 0:
            from ._anodiff import RandomProjection
            self._sketch = RandomProjection(self.dimension, int(projection), int(seed))
            if projection_path is None:
                projection_path = os.path.join(os.path.dirname(os.path.abspath(self.path)), "projection")
            self.projection_path = os.fspath(projection_path)
            self._writers.append(_Writer(self.projection_path, int(projection), self.columns, self._call_hook))
            self._projected.append(True)
        self._home = self._writers[0].directory
        if weights:
            write_durably(os.path.join(self.path, "layout.csv"), [_layout_csv(parameter_layout(model, groups)).encode()])

        device = self._params[0].device
        self._cuda = device.type == "cuda" and all(p.device == device for p in self._params)
        self._error = None
        self._queue = queue.Queue(maxsize=max(1, int(queue_size)))
        if self._cuda:
            self._stream = torch.cuda.Stream(device=device)
            self._slots = queue.Queue()
            for _ in range(max(1, int(queue_size)) + 1):
                self._slots.put((torch.empty(self.dimension, dtype=torch.float32, pin_memory=True),
                                 torch.empty(len(self.columns), dtype=torch.float64, pin_memory=True)))

        self.step_count, self.epoch, self.steps_in_epoch, self.resumed = 0, 0, 0, False
        self._pending = 0
        state = self._checkpoint_state() if resume else None
        if state is not None:
            self._restore(state)
        else:
            for w in self._writers:
                w.truncate(0)
            if self.shard is not None:
                self._drop_shard_checkpoints(0)  # a fresh start: no checkpoint of an earlier run stays
        self._closed = False
        self._worker = threading.Thread(target=self._work, name="anodiff.Recorder", daemon=True)
        self._worker.start()
        if state is None:
            self._record([0.0, 0.0] + [math.nan] * (len(self.columns) - 2), auto=False)  # the initial weights
            self._commit(checkpoint=True)

    # ------------------------------------------------------------------ the training loop's side
    def step(self, loss=None, **values):
        """Records the weights after one optimiser step, with its mini-batch `loss` (a float or a tensor; a tensor
        on the GPU is read without waiting for it) and the extra columns by name."""
        self._check()
        unknown = set(values) - set(self._extra)
        if unknown:
            raise TypeError(f"anodiff.Recorder.step: no column {sorted(unknown)} (columns: {self.columns})")
        self.step_count += 1
        self.steps_in_epoch += 1
        row = [float(self.step_count), float(self.epoch + 1), math.nan if loss is None else loss]
        row += [values.get(c, None) for c in self._extra]
        self._record(row, auto=True)
        self._pending += 1
        if (self.chunk_steps and self._pending >= self.chunk_steps) or self._pending >= self._max_rows:
            self._commit(checkpoint=False)

    def end_epoch(self):
        """Ends an epoch: its steps become a chunk, then a checkpoint is written (the resume point)."""
        self._check()
        self.epoch += 1
        self.steps_in_epoch = 0
        self._commit(checkpoint=True)

    def flush(self):
        """Waits until everything handed to the worker is on disk (raises the worker's error, if any)."""
        self._queue.join()
        self._raise_error()

    def close(self):
        """Ends the epoch if it has steps (end_epoch()), waits until everything is on disk, stops the worker."""
        if self._closed:
            return
        try:
            self._check()
            if self.steps_in_epoch > 0:
                self.end_epoch()
        finally:
            self._closed = True
            self._queue.put(None)
            self._worker.join()
        self._raise_error()

    def __enter__(self):
        return self

    def __exit__(self, kind, value, traceback):
        if kind is None:
            self.close()
            return False
        # The loop failed, perhaps between optimizer.step() and rec.step(): keep the rows, but no checkpoint (a
        # resume goes back to the last end_epoch()).
        if not self._closed:
            self._closed = True
            try:
                if self._pending:
                    self._queue.put(("commit", None))
            finally:
                self._queue.put(None)
                self._worker.join()
        return False

    @property
    def snapshots(self):
        """Snapshots recorded so far (the initial weights and one per step)."""
        return self.step_count + 1

    # ------------------------------------------------------------------ internals
    def _call_hook(self, stage):
        if self._hook:
            self._hook(stage)

    def _raise_error(self):
        if self._error is not None:
            e, self._error = self._error, None
            raise e

    def _check(self):
        self._raise_error()
        if getattr(self, "_closed", False):
            raise ValueError("anodiff.Recorder: closed")

    def _auto(self, name):
        torch = self._torch
        if name == "grad_norm":
            grads = [p.grad.detach() for p in self._params if p.grad is not None]
            if not grads:
                return math.nan
            with torch.no_grad():
                if hasattr(torch, "_foreach_norm"):
                    norms = torch._foreach_norm(grads)
                else:
                    norms = [torch.linalg.vector_norm(g) for g in grads]
                return torch.linalg.vector_norm(torch.stack([n.float() for n in norms]))
        if name == "lr" and self.optimizer is not None:
            return float(self.optimizer.param_groups[0]["lr"])
        return math.nan

    def _record(self, row, auto):
        """Takes the snapshot now (the next optimizer.step() changes the weights) and queues it."""
        torch = self._torch
        if auto:
            row = [self._auto(c) if v is None else v for c, v in zip(self.columns, row)]
        row = [math.nan if v is None else v for v in row]
        with torch.no_grad():
            if not self._cuda:
                flat = torch.cat([p.detach().reshape(-1).float() for p in self._params])
                if flat.device.type != "cpu":
                    flat = flat.cpu()
                values = [float(v) for v in row]
                self._queue.put(("row", flat, values))
                return
            # GPU: concatenate on the device, then copy to pinned memory on a side stream; the worker waits for it.
            while True:  # a free pinned buffer (the worker returns them); never wait on a failed worker
                try:
                    weights, scalars = self._slots.get(timeout=1.0)
                    break
                except queue.Empty:
                    self._raise_error()
            current = torch.cuda.current_stream(self._params[0].device)
            flat = torch.cat([p.detach().reshape(-1).float() for p in self._params])
            tensors = [i for i, v in enumerate(row) if isinstance(v, torch.Tensor)]
            small = None
            if tensors:
                small = torch.stack([row[i].detach().reshape(()).to(device=flat.device, dtype=torch.float64)
                                     for i in tensors])
            self._stream.wait_stream(current)
            with torch.cuda.stream(self._stream):
                weights.copy_(flat, non_blocking=True)
                if small is not None:
                    scalars[:len(tensors)].copy_(small, non_blocking=True)
                event = torch.cuda.Event()
                event.record(self._stream)
            flat.record_stream(self._stream)
            if small is not None:
                small.record_stream(self._stream)
            values = [math.nan if i in tensors else float(v) for i, v in enumerate(row)]
            self._queue.put(("cuda", (weights, scalars, event, tensors), values))

    def _commit(self, checkpoint):
        """Queues the pending steps as a chunk, and with `checkpoint` the state to resume from after it."""
        state = None
        if checkpoint:
            torch = self._torch
            blob = io.BytesIO()
            torch.save(self._state(), blob)  # now: the model and optimizer of this very step
            state = blob.getvalue()
        self._queue.put(("commit", state, self.step_count + 1))
        self._pending = 0

    def _state(self):
        torch = self._torch
        s = {"format": 1, "snapshots": self.step_count + 1, "step": self.step_count, "epoch": self.epoch,
             "steps_in_epoch": self.steps_in_epoch, "dimension": self.dimension, "columns": self.columns,
             "model": self.model.state_dict() if hasattr(self.model, "state_dict") else
             [p.detach().cpu() for p in self._params],
             "optimizer": self.optimizer.state_dict() if self.optimizer is not None else None,
             "stateful": [o.state_dict() for o in self.stateful],
             "torch_rng": torch.get_rng_state(), "numpy_rng": _plain_numpy_state(), "python_rng": random.getstate()}
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            s["cuda_rng"] = torch.cuda.get_rng_state_all()
        return s

    def _shard_checkpoints(self, directory):
        """{snapshots: file} of the checkpoints of a shard directory."""
        found = {}
        try:
            names = os.listdir(directory)
        except OSError:
            return found
        for name in names:
            m = _SHARD_CHECKPOINT.fullmatch(name)
            if m:
                found[int(m.group(1))] = os.path.join(directory, name)
        return found

    def _write_checkpoint(self, payload, snapshots):
        if self.shard is None:
            write_durably(os.path.join(self._home, CHECKPOINT), [payload])
            return
        write_durably(os.path.join(self._home, _SHARD_CHECKPOINT_NAME % snapshots), [payload])
        for n in sorted(self._shard_checkpoints(self._home))[:-2]:  # keep the last two
            os.remove(os.path.join(self._home, _SHARD_CHECKPOINT_NAME % n))

    def _drop_shard_checkpoints(self, above):
        for n, f in self._shard_checkpoints(self._home).items():
            if n > above:
                os.remove(f)

    def _checkpoint_state(self):
        path = os.path.join(self._home, CHECKPOINT)
        if self.shard is not None:
            # The newest checkpoint that every shard has (a kill may land between two shards' checkpoints).
            k, n = self.shard
            common = None
            for j in range(n):
                have = set(self._shard_checkpoints(os.path.join(self.trajectory_path, "shard_%03d" % j)))
                common = have if common is None else common & have
            mine = self._shard_checkpoints(self._home)
            if not common or all(w.committed == 0 for w in self._writers):
                return None
            path = mine[max(common)]
            self._drop_shard_checkpoints(max(common))
        elif not os.path.exists(path) or all(w.committed == 0 for w in self._writers):
            return None
        torch = self._torch
        import pickle
        try:  # plain types and tensors only: loadable without unpickling arbitrary objects
            state = torch.load(path, map_location="cpu", weights_only=True)
        except TypeError:  # a torch without weights_only
            state = torch.load(path, map_location="cpu")
        except pickle.UnpicklingError:  # an older torch whose safe loader lacks some plain types (1.13: floats)
            state = torch.load(path, map_location="cpu", weights_only=False)
        if state.get("dimension") != self.dimension or state.get("columns") != self.columns:
            raise ValueError(f"{path}: recorded {state.get('dimension')} parameters with columns "
                             f"{state.get('columns')}, this Recorder has {self.dimension} with {self.columns}")
        return state

    def _restore(self, state):
        torch = self._torch
        n = state["snapshots"]
        for w in self._writers:
            if w.committed < n:
                raise ValueError(f"{w.directory}: {w.committed} snapshots recorded, but the checkpoint "
                                 f"({CHECKPOINT}) needs {n}")
            w.truncate(n)
        if hasattr(self.model, "load_state_dict"):
            self.model.load_state_dict(state["model"])
        else:
            with torch.no_grad():
                for p, v in zip(self._params, state["model"]):
                    p.copy_(v)
        if self.optimizer is not None and state["optimizer"] is not None:
            self.optimizer.load_state_dict(state["optimizer"])
        for o, s in zip(self.stateful, state["stateful"]):
            o.load_state_dict(s)
        torch.set_rng_state(state["torch_rng"])
        name, keys, pos, has_gauss, cached = state["numpy_rng"]
        np.random.set_state((name, np.array(keys, dtype=np.uint32), pos, has_gauss, cached))
        random.setstate(state["python_rng"])
        if "cuda_rng" in state and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["cuda_rng"])
        self.step_count, self.epoch, self.steps_in_epoch = state["step"], state["epoch"], state["steps_in_epoch"]
        self.resumed = True

    def _work(self):
        """The worker: keeps the rows, applies the projection, writes chunks and checkpoints, in queue order."""
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                kind, payload, *rest = item
                if self._error is not None:  # after a failure: drain (the main thread raises it)
                    if kind == "cuda":
                        self._slots.put(payload[:2])
                    continue
                if kind == "row":
                    self._append(payload.numpy(), rest[0])
                elif kind == "cuda":
                    weights, scalars, event, tensors = payload
                    values = rest[0]
                    event.synchronize()
                    row = weights.numpy().copy()
                    for j, i in enumerate(tensors):
                        values[i] = float(scalars[j])
                    self._slots.put((weights, scalars))
                    self._append(row, values)
                elif kind == "commit":
                    for w in self._writers:
                        w.commit()
                    self._call_hook("committed")
                    if payload is not None:
                        self._write_checkpoint(payload, rest[0])
                        self._call_hook("checkpoint")
            except BaseException as e:  # noqa: B902 - handed to the training loop
                self._error = e
            finally:
                self._queue.task_done()

    def _append(self, row, values):
        for w, projected in zip(self._writers, self._projected):
            w.append(self._sketch.apply(row) if projected else row, values)
