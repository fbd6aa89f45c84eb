"""PyTorch's side of launch/bench-vs-pytorch.sh: the training step of dtrain's benchmark models in PyTorch.

    python launch/bench_pytorch.py --model resnet50 --threads 1 [--channels-last] [--steps N]

Prints one JSON object per run with the same keys as `dtrain-benchmark --json` (model, batch, threads,
images_per_second, peak_rss_mb). The models are dtrain's zoo models layer for layer (same layers, same parameter
counts; the script checks the counts): LeNet-5 with ReLU and max pooling on 28x28 images, the CIFAR ResNet-20 with
zero-padding shortcuts, and torchvision's ResNet-50 (written out here, as in Tests/References/torch_models.py, so
that torchvision is not needed). The step is dtrain's: forward, mean cross-entropy, backward, SGD with momentum 0.9
and weight decay 1e-4, on random inputs.
"""
import argparse
import json
import resource
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class LeNet5(nn.Module):
    """ModelZoo.lenet5(inputSize: 28, activation: .relu): C1 6@5x5 pad 2, pool, C3 16@5x5, pool, C5 120@5x5, F6 84."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.conv3 = nn.Conv2d(16, 120, 5)
        self.fc1 = nn.Linear(120, 84)
        self.fc2 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = F.relu(self.conv3(x)).flatten(1)
        return self.fc2(F.relu(self.fc1(x)))


def conv3x3(inplanes, planes, stride=1):
    return nn.Conv2d(inplanes, planes, 3, stride=stride, padding=1, bias=False)


def conv1x1(inplanes, planes, stride=1):
    return nn.Conv2d(inplanes, planes, 1, stride=stride, bias=False)


class ZeroPadShortcut(nn.Module):
    """He et al.'s option A: x[:, :, ::2, ::2] with the new channels as zeros on both sides."""

    def __init__(self, planes):
        super().__init__()
        self.pad = planes // 4

    def forward(self, x):
        return F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.pad, self.pad))


class BasicBlock(nn.Module):
    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)), inplace=True)
        out = self.bn2(self.conv2(out))
        identity = x if self.downsample is None else self.downsample(x)
        return F.relu(out + identity, inplace=True)


class ResNet20(nn.Module):
    """ModelZoo.resnet20(): 16-32-64 channels, three blocks per stage, zero-padding shortcuts."""

    def __init__(self):
        super().__init__()
        self.conv1 = conv3x3(3, 16)
        self.bn1 = nn.BatchNorm2d(16)
        inplanes, stages = 16, []
        for stage, planes in enumerate([16, 32, 64]):
            for index in range(3):
                stride = 2 if stage > 0 and index == 0 else 1
                downsample = ZeroPadShortcut(planes) if stride != 1 or inplanes != planes else None
                stages.append(BasicBlock(inplanes, planes, stride, downsample))
                inplanes = planes
        self.blocks = nn.Sequential(*stages)
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        x = self.blocks(F.relu(self.bn1(self.conv1(x)), inplace=True))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class Bottleneck(nn.Module):
    """torchvision's Bottleneck (stride on the 3x3 convolution)."""

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = conv1x1(inplanes, planes)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = conv3x3(planes, planes, stride)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = conv1x1(planes, planes * 4)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.downsample = downsample

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)), inplace=True)
        out = F.relu(self.bn2(self.conv2(out)), inplace=True)
        out = self.bn3(self.conv3(out))
        identity = x if self.downsample is None else self.downsample(x)
        return F.relu(out + identity, inplace=True)


class ResNet50(nn.Module):
    """torchvision.models.resnet50: 7x7/2 stem, 3x3/2 max pool, stages of 3, 4, 6, 3 bottlenecks, 1000 classes."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        inplanes, stages = 64, []
        for stage, (planes, blocks) in enumerate(zip([64, 128, 256, 512], [3, 4, 6, 3])):
            for index in range(blocks):
                stride = 2 if stage > 0 and index == 0 else 1
                downsample = None
                if stride != 1 or inplanes != planes * 4:
                    downsample = nn.Sequential(conv1x1(inplanes, planes * 4, stride), nn.BatchNorm2d(planes * 4))
                stages.append(Bottleneck(inplanes, planes, stride, downsample))
                inplanes = planes * 4
        self.blocks = nn.Sequential(*stages)
        self.fc = nn.Linear(2048, 1000)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x)), inplace=True), 3, 2, 1)
        x = self.blocks(x)
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


# name: (model, sample shape, batch, dtrain's parameter count)
MODELS = {
    "lenet5": (LeNet5, (1, 28, 28), 64, 61_706),
    "resnet20": (ResNet20, (3, 32, 32), 64, 269_722),
    "resnet50": (ResNet50, (3, 224, 224), 16, 25_557_032),
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True, choices=sorted(MODELS))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--steps", type=int, default=0, help="timed steps (0: 10, or 3 for resnet50)")
    parser.add_argument("--channels-last", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    make, shape, batch, parameters = MODELS[args.model]
    model = make()
    count = sum(p.numel() for p in model.parameters())
    assert count == parameters, f"{args.model}: {count} parameters, dtrain's has {parameters}"
    memory_format = torch.channels_last if args.channels_last else torch.contiguous_format
    model = model.to(memory_format=memory_format).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    x = torch.randn(batch, *shape).to(memory_format=memory_format)
    labels = torch.arange(batch) % 10 if args.model != "resnet50" else torch.arange(batch) % 1000

    def step():
        optimizer.zero_grad(set_to_none=False)
        loss = F.cross_entropy(model(x), labels)
        loss.backward()
        optimizer.step()

    steps = args.steps or (3 if args.model == "resnet50" else 10)
    step()  # warm-up: allocations, the oneDNN primitives
    step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    seconds = time.perf_counter() - start
    print(json.dumps({
        "model": args.model, "batch": batch, "threads": args.threads,
        "images_per_second": steps * batch / seconds,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


if __name__ == "__main__":
    main()
