#!/usr/bin/python3
"""Writes the study's own file layouts for tests/test_study_files.cpp and tests/cli_own_models.sh, from one (T, D)
trajectory saved as traj.npy beside them:
  mat/model_E_sub_loss_w.mat  scipy's savemat of train_save's lists, as the study's main.py (2020) wrote them: the
                              cell array sub_weights (steps x parameter tensors), sub_loss, test_sub_loss, grads,
                              gradient_noise_norm; epoch 2 compressed (MATLAB v7), the others v5;
  h5/model_E_sub_loss_w.h5    h5py datasets as main.py (2021) wrote them: sub_weights one row per step, sub_loss,
                              grads, gradient_noise_norm;
  part.mat                    MATLAB v7.3 (HDF5 with MATLAB's 512-byte header) of the post-analysis's MSD_feed =
                              [weights, step, loss], double, stored transposed as MATLAB stores it;
  surface_ll.h5               a loss-landscape surface file (xcoordinates 9, ycoordinates 7, train_loss, train_acc
                              in loss-landscape's own (nx, ny) shape and meshgrid order) and surface_ll.npy, the loss
                              as (ny, nx);
  bad/...                     files each reader must refuse (exit 2, one line naming the file), huge_claim.mat a
                              header that claims 80 GB in a few hundred bytes, surface_huge_claim.h5 a dataset of
                              10^8 values with no storage, directions_huge_storage.h5 a direction file whose layout
                              message claims 2^64 - 2^40 bytes for 10^13 values, surface_no_type_size.h5 2^62
                              coordinates of a type whose size is 0.
Usage: study_files.py OUTDIR"""
import io
import os
import sys

import h5py
import numpy as np
import scipy.io as sio

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
os.chdir(out)
rng = np.random.default_rng(7)
shapes = [(4, 3, 3, 3), (4,), (4,), (3, 4, 2, 2), (3,), (5, 12), (5,)]
D = sum(int(np.prod(s)) for s in shapes)
E, S = 3, 5
traj = rng.standard_normal((E * S, D)).astype(np.float32)
loss = rng.random(E * S)
grads = rng.standard_normal((E * S, D)).astype(np.float32)
noise = rng.random(E * S)
np.save("traj.npy", traj)
np.save("loss.npy", loss)
np.save("grad_norm.npy", np.linalg.norm(grads.astype(np.float64), axis=1))
np.save("noise_norm.npy", noise)


def cells(rows):
    """train_save's sub_weights: per step the list of parameter arrays (an object array: savemat's cell array)."""
    c = np.empty((len(rows), len(shapes)), dtype=object)
    for i, row in enumerate(rows):
        offset = 0
        for j, shape in enumerate(shapes):
            n = int(np.prod(shape))
            c[i, j] = row[offset:offset + n].reshape(shape)
            offset += n
    return c


for d in ("mat", "h5", "bad", "bad/gap", "bad/mixed"):
    os.makedirs(d, exist_ok=True)
for e in range(E):
    sl = slice(e * S, (e + 1) * S)
    sio.savemat(f"mat/model_{e + 1}_sub_loss_w.mat",
                {"sub_weights": cells(traj[sl]), "sub_loss": list(loss[sl]), "test_sub_loss": [2.3, 2.2],
                 "grads": grads[sl], "estimated_full_batch_grad": grads[sl].mean(0),
                 "gradient_noise_norm": noise[sl]},
                do_compression=(e == 1))
    with h5py.File(f"h5/model_{e + 1}_sub_loss_w.h5", "w") as f:
        f["sub_weights"] = traj[sl]
        f["sub_loss"] = loss[sl]
        f["test_sub_loss"] = np.array([2.3, 2.2])
        f["grads"] = grads[sl]
        f["estimated_full_batch_grad"] = grads[sl].mean(0)
        f["gradient_noise_norm"] = noise[sl]

# MATLAB v7.3: an HDF5 file with a 512-byte user block holding MATLAB's header; a matrix R x C is stored as an
# HDF5 dataset C x R with the attribute MATLAB_class.
feed = np.concatenate([traj.astype(np.float64), np.arange(1, E * S + 1)[:, None], loss[:, None]], axis=1)
with h5py.File("part.mat", "w", userblock_size=512) as f:
    ds = f.create_dataset("MSD_feed", data=feed.T)
    string = h5py.h5t.C_S1.copy()  # as MATLAB writes it: 6 characters, H5T_STR_NULLTERM
    string.set_size(6)
    string.set_strpad(h5py.h5t.STR_NULLTERM)
    attr = h5py.h5a.create(ds.id, b"MATLAB_class", string, h5py.h5s.create(h5py.h5s.SCALAR))
    attr.write(np.array(b"double", dtype="S6"), mtype=string)
header = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Jan  1 00:00:00 2024 HDF5 schema 1.00 .".ljust(116)
header += b"\x00" * 8 + b"\x00\x02" + b"IM"
with open("part.mat", "r+b") as f:
    f.write(header.ljust(512, b"\x00"))

# A loss-landscape surface: np.meshgrid(x, y) order in a (nx, ny) array, as plot_surface.py's crunch fills it.
x = np.linspace(-1, 1, 9)
y = np.linspace(-0.5, 0.5, 7)
X, Y = np.meshgrid(x, y)  # (ny, nx)
Z = 1 + X ** 2 + 2 * Y ** 2 + 0.1 * np.sin(7 * X * Y)
losses = -np.ones((len(x), len(y)))
accs = -np.ones((len(x), len(y)))
losses.ravel()[:] = Z.ravel()
accs.ravel()[:] = (50 + 10 * X).ravel()
with h5py.File("surface_ll.h5", "w") as f:
    f["dir_file"] = "directions.h5"
    f["xcoordinates"] = x
    f["ycoordinates"] = y
    f["train_loss"] = losses
    f["train_acc"] = accs
np.save("surface_ll.npy", Z)

# Files to refuse.
sio.savemat("bad/no_weights.mat", {"sub_loss": [1.0, 2.0], "other": [3.0]})
with open("mat/model_1_sub_loss_w.mat", "rb") as f:
    data = f.read()
with open("bad/truncated.mat", "wb") as f:
    f.write(data[:len(data) // 2])
with open("h5/model_1_sub_loss_w.h5", "rb") as f:
    data = f.read()
with open("bad/truncated.h5", "wb") as f:
    f.write(data[:len(data) // 2])
with h5py.File("bad/one_d.h5", "w") as f:
    f["sub_weights"] = traj[0]
with h5py.File("bad/no_weights.h5", "w") as f:
    f["weights"] = traj[:2]
with h5py.File("bad/surface_no_loss.h5", "w") as f:
    f["xcoordinates"] = x
    f["ycoordinates"] = y
with open("bad/text.mat", "w") as f:
    f.write("not a MATLAB file\n")
# A v5 header that claims 100000 x 100000 doubles in a few hundred bytes (as fuzz_study_mat found: libmatio would
# allocate what the header claims before reading): sub_weights' dims, after the 128-byte file header, the matrix
# tag (8 bytes) and its array flags (16), are the two int32 behind the dims tag (8).
buf = io.BytesIO()
sio.savemat(buf, {"sub_weights": np.zeros((2, 3))})
data = bytearray(buf.getvalue())
assert np.frombuffer(bytes(data[160:168]), "<i4").tolist() == [2, 3]
data[160:168] = np.array([100000, 100000], "<i4").tobytes()
with open("bad/huge_claim.mat", "wb") as f:
    f.write(bytes(data))
# An HDF5 dataset of 10^8 values that stores none (its fill value): a surface file of a few kB that claims 800 MB.
with h5py.File("bad/surface_huge_claim.h5", "w") as f:
    f.create_dataset("xcoordinates", shape=(10**8,), dtype="f8")
    f["train_loss"] = np.zeros(3)
# A direction file whose xdirection/0 claims (2^40, 3, 3, 3) values and a contiguous storage of 2^64 - 2^40 bytes
# (its dataspace and layout messages patched, as fuzz_landscape_h5 found): 10^13 values claimed in 2 kB.
with h5py.File("bad/directions_huge_storage.h5", "w") as f:
    for g in ("xdirection", "ydirection"):
        f[f"{g}/0"] = np.ones((4, 3, 3, 3), np.float32)
        f[f"{g}/1"] = np.ones(4, np.float32)
    offset = f["xdirection/0"].id.get_offset()
data = bytearray(open("bad/directions_huge_storage.h5", "rb").read())
at = data.index(np.array([4, 3, 3, 3], "<u8").tobytes())  # xdirection/0's dataspace: its first dimension
data[at:at + 8] = np.array([2**40], "<u8").tobytes()
at = data.index(np.array([offset, 432], "<u8").tobytes())  # its contiguous layout: address, size
data[at + 8:at + 16] = np.array([2**64 - 2**40], "<u8").tobytes()
with open("bad/directions_huge_storage.h5", "wb") as f:
    f.write(bytes(data))
# A surface whose xcoordinates claims 2^62 values of a float type whose size field is 0 (fuzz_landscape_h5: the size
# check passed it, and the reader asked std::vector for 2^62 doubles).
with h5py.File("bad/surface_no_type_size.h5", "w") as f:
    f["xcoordinates"] = np.linspace(-1, 1, 9)
    f["ycoordinates"] = np.linspace(-1, 1, 7)
    f["train_loss"] = np.ones((9, 7))
data = bytearray(open("bad/surface_no_type_size.h5", "rb").read())
at = data.index(bytes([1, 1, 1, 0, 0, 0, 0, 0]) + np.array([9, 9], "<u8").tobytes())  # dataspace v1: dims, max dims
data[at + 8:at + 24] = np.array([2**62, 2**62], "<u8").tobytes()
at = data.index(bytes([0x11, 0x20, 0x3f, 0x00]) + np.array([8], "<u4").tobytes())  # float64 datatype: its size
data[at + 4:at + 8] = np.array([0], "<u4").tobytes()
with open("bad/surface_no_type_size.h5", "wb") as f:
    f.write(bytes(data))
for e in (1, 3):  # epoch 2 missing
    sio.savemat(f"bad/gap/model_{e}_sub_loss_w.mat", {"sub_weights": cells(traj[:S]), "sub_loss": list(loss[:S])})
sio.savemat("bad/mixed/model_1_sub_loss_w.mat", {"sub_weights": cells(traj[:S]), "sub_loss": list(loss[:S])})
with h5py.File("bad/mixed/model_2_sub_loss_w.h5", "w") as f:  # another network: D - 5 parameters
    f["sub_weights"] = traj[:S, 5:]
print(f"wrote {E} epochs of {S} steps, D = {D}, in {out}")
