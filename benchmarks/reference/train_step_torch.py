#!/usr/bin/python3
"""Reference timing: the study's training step in Python (its CIFAR ResNet definitions, plain SGD), on Debian's
python3-torch. Usage: train_step_torch.py MODEL BATCH [steps=8] [threads=2]
Prints: python_train_step images_per_second=N seconds_per_step=S"""
import sys, time
import torch
import torch.nn as nn
import torch.nn.functional as F


class BasicBlock(nn.Module):
    def __init__(self, in_planes, planes, stride=1, shortcut=True):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.use_shortcut = shortcut
        self.shortcut = nn.Sequential()
        if shortcut and (stride != 1 or in_planes != planes):
            self.shortcut = nn.Sequential(nn.Conv2d(in_planes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.use_shortcut:
            out += self.shortcut(x)
        return F.relu(out)


class ResNetCifar(nn.Module):
    def __init__(self, depth, shortcut=True, classes=10):
        super().__init__()
        n = (depth - 2) // 6
        self.in_planes = 16
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        layers = []
        for planes, stride in ((16, 1), (32, 2), (64, 2)):
            blocks = []
            for s in [stride] + [1] * (n - 1):
                blocks.append(BasicBlock(self.in_planes, planes, s, shortcut))
                self.in_planes = planes
            layers.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3 = layers
        self.linear = nn.Linear(64, classes)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer3(self.layer2(self.layer1(out)))
        out = F.avg_pool2d(out, 8).view(out.size(0), -1)
        return self.linear(out)


model_name, batch = sys.argv[1], int(sys.argv[2])
steps = int(sys.argv[3]) if len(sys.argv) > 3 else 8
torch.set_num_threads(int(sys.argv[4]) if len(sys.argv) > 4 else 2)
depth = int(model_name.replace("resnet", "").replace("_noshort", ""))
torch.manual_seed(0)
net = ResNetCifar(depth, shortcut="noshort" not in model_name)
opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0, weight_decay=0)
crit = nn.CrossEntropyLoss()
x = torch.randn(batch, 3, 32, 32)
y = torch.randint(0, 10, (batch,))
net.train()
times = []
for i in range(steps + 2):
    t = time.perf_counter()
    opt.zero_grad()
    loss = crit(net(x), y)
    loss.backward()
    opt.step()
    w = torch.cat([p.detach().reshape(-1) for p in net.parameters()]).numpy().copy()  # the study's recording
    times.append(time.perf_counter() - t)
sec = sorted(times[2:])[len(times[2:]) // 2]
print(f"python_train_step images_per_second={batch / sec:.1f} seconds_per_step={sec:.4f}")
