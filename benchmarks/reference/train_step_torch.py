#!/usr/bin/python3
"""Reference timing: the study's training step in Python (its CIFAR ResNet definitions, plain SGD), on Debian's
python3-torch. Usage: train_step_torch.py MODEL BATCH [steps=8] [threads=2] [device=cpu]
Prints: python_train_step images_per_second=N seconds_per_step=S"""
import sys, time
import torch
import torch.nn as nn


from study_models import model_by_name


model_name, batch = sys.argv[1], int(sys.argv[2])
steps = int(sys.argv[3]) if len(sys.argv) > 3 else 8
torch.set_num_threads(int(sys.argv[4]) if len(sys.argv) > 4 else 2)
device = torch.device(sys.argv[5] if len(sys.argv) > 5 else "cpu")
net = model_by_name(model_name, device)
opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0, weight_decay=0)
crit = nn.CrossEntropyLoss()
x = torch.randn(batch, 3, 32, 32, device=device)
y = torch.randint(0, 10, (batch,), device=device)
net.train()
times = []
for i in range(steps + 2):
    t = time.perf_counter()
    opt.zero_grad()
    loss = crit(net(x), y)
    loss.backward()
    opt.step()
    loss.item()
    w = torch.cat([p.detach().reshape(-1) for p in net.parameters()]).cpu().numpy().copy()  # the study's recording
    times.append(time.perf_counter() - t)
sec = sorted(times[2:])[len(times[2:]) // 2]
print(f"python_train_step images_per_second={batch / sec:.1f} seconds_per_step={sec:.4f}")
