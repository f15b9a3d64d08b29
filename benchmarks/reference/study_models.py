"""The study's CIFAR ResNets in PyTorch (the definitions of Li et al.'s loss-landscape code that the study used:
the same module and parameter names), for the reference timings and the state_dict interchange test."""
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
    def __init__(self, depth, shortcut=True, classes=10, channels=3):
        super().__init__()
        n = (depth - 2) // 6
        self.in_planes = 16
        self.conv1 = nn.Conv2d(channels, 16, 3, 1, 1, bias=False)
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


def anodiff_initialise(model, seed=0):
    """anodiff's initialisation (src/torch/models.cpp): convolutions Kaiming-normal (fan in, ReLU), BatchNorm scale 1 and
    shift 0, linear layers N(0, 1e-3^2) with zero bias."""
    torch.manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, a=0, mode="fan_in", nonlinearity="relu")
                if m.bias is not None:
                    m.bias.zero_()
            elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                m.weight.fill_(1)
                m.bias.zero_()
            elif isinstance(m, nn.Linear):
                m.weight.normal_(0, 1e-3)
                if m.bias is not None:
                    m.bias.zero_()
    return model


def model_by_name(name, device):
    """The study's ResNet named as anodiff names it (resnet20, resnet56_noshort, ...), seeded (torch.manual_seed(0)),
    on `device`."""
    depth = int(name.replace("resnet", "").replace("_noshort", ""))
    torch.manual_seed(0)
    return ResNetCifar(depth, shortcut="noshort" not in name).to(device)
