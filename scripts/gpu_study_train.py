#!/usr/bin/python3
"""The study's ResNet-14 run in PyTorch, every step recorded with anodiff.Recorder (scripts/gpu_study.sh runs it).

The study's regime (its Fig. 2): plain SGD, lr 0.1, batch 1024, random crop (zero padding 4) and horizontal flip,
cross-entropy, here on Fashion-MNIST padded to 32 x 32 (CIFAR-10 cannot be fetched on the build machines). The model
is the study's CIFAR ResNet definition (benchmarks/reference/study_models.py) with one input channel, initialised as
anodiff-train initialises it, so that the run compares with anodiff-train's CPU rows in docs/reproducing.md. The data
and the augmentation live on the device; the shuffling order and the crop offsets are drawn from torch's CPU
generator, which the Recorder's checkpoint saves, so a resumed run draws what an uninterrupted one would.

Training stops at an epoch boundary when the next epoch would pass the wall-clock budget, or when --steps are done;
a second call with the same --run resumes from the last complete epoch. Writes RUN/trajectory (the Recorder's) and
appends one line per call to RUN/train_summary.csv.

Usage: gpu_study_train.py --data DIR --run DIR [--model resnet14] [--steps 24500] [--budget-seconds 480]
       [--batch 1024] [--lr 0.1] [--limit-train N] [--device cuda|cpu] [--threads N]
"""
import argparse
import gzip
import importlib.util
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "benchmarks", "reference"))
from study_models import ResNetCifar, anodiff_initialise  # noqa: E402

MEAN, STD = 0.2860, 0.3530  # Fashion-MNIST's, as anodiff's datasets.cpp


def fail(message):
    """One line on stderr and exit code 2 (bad input), as anodiff's programs."""
    print(f"gpu_study_train: {message}", file=sys.stderr)
    sys.exit(2)


def recorder_class():
    """anodiff.Recorder: from the built module if it imports, else recorder.py alone (pure Python: the compiled module
    is only needed for a projection, which this run does not record)."""
    try:
        import anodiff
        return anodiff.Recorder, "anodiff " + os.path.dirname(anodiff.__file__)
    except ImportError:
        path = os.path.join(ROOT, "python", "anodiff", "recorder.py")
        spec = importlib.util.spec_from_file_location("anodiff_recorder", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module.Recorder, path


def read_idx(path, magic):
    """An IDX file (gzip or plain) as a numpy array; exits with 2 and one line naming the file on a bad one."""
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except OSError as e:
        fail(f"{path}: cannot read: {e}")
    dims = data[3] if len(data) >= 4 else 0
    if len(data) < 4 + 4 * dims or int.from_bytes(data[:4], "big") != magic:
        fail(f"{path}: expected an IDX file with magic {magic:#x}, found another header")
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims)
    if body.size != math.prod(shape):
        fail(f"{path}: expected {math.prod(shape)} bytes of data for shape {shape}, found {body.size}")
    return body.reshape(shape)


def load_train(data_dir, limit):
    """Fashion-MNIST's training images centred in 32 x 32 (uint8, N x 1 x 32 x 32) and labels, the first `limit`."""
    def find(stem):
        for name in (stem + ".gz", stem):
            if os.path.exists(os.path.join(data_dir, name)):
                return os.path.join(data_dir, name)
        fail(f"{os.path.join(data_dir, stem)}: no such file (nor .gz): expected Fashion-MNIST's "
                 f"IDX files there (scripts/gpu_study_prepare.sh copies them into .deps/fashion-mnist)")
    images = read_idx(find("train-images-idx3-ubyte"), 0x803)
    labels = read_idx(find("train-labels-idx1-ubyte"), 0x801)
    if limit > 0:
        images, labels = images[:limit], labels[:limit]
    padded = np.zeros((images.shape[0], 1, 32, 32), dtype=np.uint8)
    top, left = (32 - images.shape[1]) // 2, (32 - images.shape[2]) // 2
    padded[:, 0, top:top + images.shape[1], left:left + images.shape[2]] = images
    return torch.from_numpy(padded), torch.from_numpy(labels.astype(np.int64))


def augmented_batch(images, index, augment, device):
    """The batch `index` of the uint8 images on the device, as floats: zero padding 4, a random 32 x 32 crop and a random
    horizontal flip per image (offsets from torch's CPU generator), then normalised."""
    x = images[index.to(device)].float().div_(255)
    if augment:
        b = x.shape[0]
        dy, dx = torch.randint(0, 9, (b,)), torch.randint(0, 9, (b,))
        flip = torch.randint(0, 2, (b,)).bool()
        padded = nn.functional.pad(x, (4, 4, 4, 4))
        ar = torch.arange(32)
        rows = (dy[:, None] + ar[None, :]).to(device)              # b x 32
        cols = (dx[:, None] + ar[None, :])
        cols = torch.where(flip[:, None], cols.flip(1), cols).to(device)
        bi = torch.arange(b, device=device)[:, None, None]
        x = padded.permute(0, 2, 3, 1)[bi, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2)
    return (x - MEAN) / STD


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", required=True)
    p.add_argument("--run", required=True)
    p.add_argument("--model", default="resnet14")
    p.add_argument("--steps", type=int, default=24500)
    p.add_argument("--budget-seconds", type=float, default=480)
    p.add_argument("--batch", type=int, default=1024)
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--limit-train", type=int, default=0)
    p.add_argument("--noaug", action="store_true")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--threads", type=int, default=0)
    a = p.parse_args()
    start = time.perf_counter()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    device = torch.device(a.device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    name = a.model.replace("_noshort", "")
    if not name.startswith("resnet") or not name[6:].isdigit() or (int(name[6:]) - 2) % 6:
        fail(f"--model: expected a CIFAR ResNet (resnet14, resnet20, resnet14_noshort, ...), "
                 f"got '{a.model}'")
    images, labels = load_train(a.data, a.limit_train)
    n = images.shape[0]
    images, labels = images.to(device), labels.to(device)
    steps_per_epoch = (n + a.batch - 1) // a.batch
    epochs = (a.steps + steps_per_epoch - 1) // steps_per_epoch
    net = ResNetCifar(int(name[6:]), shortcut="noshort" not in a.model, channels=1)
    anodiff_initialise(net, seed=0)
    net = net.to(device)
    opt = torch.optim.SGD(net.parameters(), lr=a.lr, momentum=0, weight_decay=0)
    crit = nn.CrossEntropyLoss()
    Recorder, recorder_from = recorder_class()
    torch.manual_seed(1)  # the data order and augmentation (restored from the checkpoint on a resume)
    rec = Recorder(net, os.path.join(a.run, "trajectory"), optimizer=opt)
    first_epoch = rec.epoch + 1
    print(f"gpu_study_train: {a.model} on {device} ({torch.cuda.get_device_name(device) if device.type == 'cuda' else 'CPU'}), "
          f"{n} images, batch {a.batch}, lr {a.lr}, {steps_per_epoch} steps an epoch, {epochs} epochs = "
          f"{epochs * steps_per_epoch} steps; D = {rec.dimension}; recorder {recorder_from}; "
          f"{'resuming after epoch ' + str(rec.epoch) if rec.resumed else 'from initialisation'}", flush=True)
    train_seconds, trained_steps, trained_images, epoch_seconds = 0.0, 0, 0, 0.0
    stopped = "steps reached"
    budget_start = time.perf_counter()
    for epoch in range(first_epoch, epochs + 1):
        elapsed = time.perf_counter() - budget_start
        if epoch > first_epoch and elapsed + 1.1 * epoch_seconds > a.budget_seconds:
            stopped = f"wall-clock budget ({a.budget_seconds:.0f} s)"
            break
        t0 = time.perf_counter()
        net.train()
        order = torch.randperm(n)
        losses = []
        for s in range(0, n, a.batch):
            index = order[s:s + a.batch]
            x = augmented_batch(images, index, not a.noaug, device)
            opt.zero_grad(set_to_none=True)
            loss = crit(net(x), labels[index.to(device)])
            loss.backward()
            opt.step()
            rec.step(loss.detach())
            losses.append(loss.detach())
        rec.end_epoch()
        if device.type == "cuda":
            torch.cuda.synchronize()
        epoch_seconds = time.perf_counter() - t0
        train_seconds += epoch_seconds
        trained_steps += steps_per_epoch
        trained_images += n
        if epoch == first_epoch or epoch % 10 == 0 or epoch == epochs:
            mean_loss = torch.stack(losses).mean().item()
            left = (epochs - epoch) * epoch_seconds
            print(f"gpu_study_train: epoch {epoch}/{epochs}: train loss {mean_loss:.4f}, {epoch_seconds:.2f} s, "
                  f"{n / epoch_seconds:.0f} images/s, {rec.step_count} steps recorded, ETA {left / 60:.1f} min "
                  f"(budget left {(a.budget_seconds - (time.perf_counter() - budget_start)) / 60:.1f} min)", flush=True)
    rec.close()
    wall = time.perf_counter() - start
    rate = trained_images / train_seconds if train_seconds > 0 else float("nan")
    summary = os.path.join(a.run, "train_summary.csv")
    new = not os.path.exists(summary)
    with open(summary, "a") as f:
        if new:
            f.write("device,model,batch,lr,first_epoch,last_epoch,steps_recorded,target_steps,train_seconds,"
                    "wall_seconds,images_per_second,stopped\n")
        f.write(f"{device.type},{a.model},{a.batch},{a.lr},{first_epoch},{rec.epoch},{rec.step_count},"
                f"{epochs * steps_per_epoch},{train_seconds:.2f},{wall:.2f},{rate:.1f},{stopped}\n")
    print(f"gpu_study_train: {rec.step_count} of {epochs * steps_per_epoch} steps recorded ({stopped}); this call "
          f"trained {trained_steps} steps at {rate:.0f} images/s (with recording), {wall:.1f} s in all", flush=True)


if __name__ == "__main__":
    main()
