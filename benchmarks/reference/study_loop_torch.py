#!/usr/bin/python3
"""Reference timing: the study's training loop with its per-step recording (train_save: after every step a copy of
all weights appended to a list, the list and the model saved at each epoch's end), its CIFAR ResNet definitions,
plain SGD, on Debian's python3-torch. Synthetic CIFAR-like data, normalised once; no augmentation (the study's
DataLoader does it in worker processes), so this loop does less per step than the Trainer.
Usage: study_loop_torch.py MODEL BATCH SAMPLES EPOCHS [threads=2] [device=cpu]
Prints: python_study_loop images_per_second=N run_images_per_second=M (the first over the epochs' steps, the second
over the whole loop with the saves)"""
import os, sys, tempfile, time
import numpy as np
import torch
import torch.nn as nn

from study_models import model_by_name

model_name, batch, n, epochs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
torch.set_num_threads(int(sys.argv[5]) if len(sys.argv) > 5 else 2)
device = torch.device(sys.argv[6] if len(sys.argv) > 6 else "cpu")
net = model_by_name(model_name, device)
opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0, weight_decay=0)
crit = nn.CrossEntropyLoss()
images = torch.randint(0, 256, (n, 3, 32, 32), dtype=torch.uint8)
mean = torch.tensor([125.3, 123.0, 113.9]).view(1, 3, 1, 1) / 255
std = torch.tensor([63.0, 62.1, 66.7]).view(1, 3, 1, 1) / 255
X = ((images.float() / 255 - mean) / std).to(device)
Y = torch.randint(0, 10, (n,)).to(device)
out = tempfile.mkdtemp(prefix="study_loop_")
steps_seconds = 0.0
start = time.perf_counter()
for epoch in range(1, epochs + 1):
    net.train()
    w = []
    order = torch.randperm(n)
    t = time.perf_counter()
    for s in range(0, n, batch):
        idx = order[s:s + batch].to(device)
        opt.zero_grad()
        loss = crit(net(X[idx]), Y[idx])
        loss.backward()
        opt.step()
        loss.item()
        w.append(torch.cat([p.detach().reshape(-1) for p in net.parameters()]).cpu().numpy().copy())  # train_save
    steps_seconds += time.perf_counter() - t
    np.save(os.path.join(out, f"model_{epoch}_sub_loss_w.npy"), np.stack(w))  # the epoch's trajectory
    torch.save(net.state_dict(), os.path.join(out, f"model_{epoch}.t7"))
wall = time.perf_counter() - start
for f in os.listdir(out):
    os.remove(os.path.join(out, f))
os.rmdir(out)
print(f"python_study_loop images_per_second={n * epochs / steps_seconds:.1f} run_images_per_second={n * epochs / wall:.1f}")
