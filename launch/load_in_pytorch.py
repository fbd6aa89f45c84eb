#!/usr/bin/env python3
"""Load a dtrain ResNet checkpoint (ckpt-<step>.h5) or final model (model.h5) into PyTorch and evaluate it.

Both files hold the tensors under their torchvision names in the groups parameters/ and buffers/
(datasets/README.md, "Checkpoint layout"), so PyTorch's load_state_dict takes them as they are; only
num_batches_tracked, stored as float32 of shape [1], becomes PyTorch's int64 scalar. The architecture is read off
the tensors themselves: ResNet-18/34/50/101/152 (torchvision's layout) or the CIFAR ResNets (ResNet-20/32/56, with
zero-padding or projection shortcuts), so no torchvision is needed.

The dataset is a dtrain HDF5 file (images uint8 [N, C, H, W], labels, attributes mean and std); images are
normalised as dtrain does, (pixel / 255 - mean[c]) / std[c], with the statistics of --stats (the training split,
as in training) or else of the evaluated file itself.

    python3 launch/load_in_pytorch.py runs/resnet20/ckpt-4000.h5 data/cifar10/test.h5 --stats data/cifar10/train.h5

Needs python3 with torch and h5py.
"""
import argparse
import re

import h5py
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, in_planes, planes, stride, shortcut):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = make_shortcut(in_planes, planes, stride, shortcut)

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(y)) + self.downsample(x))


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, in_planes, planes, stride, shortcut):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.downsample = make_shortcut(in_planes, planes * 4, stride, shortcut)

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = F.relu(self.bn2(self.conv2(y)))
        return F.relu(self.bn3(self.conv3(y)) + self.downsample(x))


class PadShortcut(nn.Module):
    """He et al.'s CIFAR option A: subsample, then pad channels with zeros on both sides."""

    def __init__(self, out_planes, stride):
        super().__init__()
        self.out_planes, self.stride = out_planes, stride

    def forward(self, x):
        x = x[:, :, ::self.stride, ::self.stride]
        pad = (self.out_planes - x.shape[1]) // 2
        return F.pad(x, (0, 0, 0, 0, pad, pad))


def make_shortcut(in_planes, out_planes, stride, kind):
    """The shortcut branch; only the projection has parameters, named downsample.0/1 as in torchvision."""
    if stride == 1 and in_planes == out_planes:
        return nn.Identity()
    if kind == "projection":
        return nn.Sequential(nn.Conv2d(in_planes, out_planes, 1, stride, bias=False), nn.BatchNorm2d(out_planes))
    return PadShortcut(out_planes, stride)


class ResNet(nn.Module):
    """torchvision's ResNet (7x7 stem, max pool, four stages) or the CIFAR ResNet (3x3 stem of 16, three stages)."""

    def __init__(self, block, blocks, classes, channels, cifar, shortcut):
        super().__init__()
        width = 16 if cifar else 64
        self.conv1 = nn.Conv2d(channels, width, 3, 1, 1, bias=False) if cifar \
            else nn.Conv2d(channels, width, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.maxpool = nn.Identity() if cifar else nn.MaxPool2d(3, 2, 1)
        in_planes = width
        for stage, count in enumerate(blocks):
            layers = []
            for index in range(count):
                stride = 2 if stage > 0 and index == 0 else 1
                layers.append(block(in_planes, width << stage, stride, shortcut))
                in_planes = (width << stage) * block.expansion
            setattr(self, f"layer{stage + 1}", nn.Sequential(*layers))
        self.stages = len(blocks)
        self.fc = nn.Linear(in_planes, classes)

    def forward(self, x):
        x = self.maxpool(F.relu(self.bn1(self.conv1(x))))
        for stage in range(self.stages):
            x = getattr(self, f"layer{stage + 1}")(x)
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def read_state(path):
    """The file's parameters and buffers as a PyTorch state_dict."""
    state = {}
    with h5py.File(path, "r") as f:
        for group in ("parameters", "buffers"):
            for name, dataset in f[group].items():
                value = torch.from_numpy(dataset[()])
                state[name] = value.reshape(()).long() if name.endswith("num_batches_tracked") else value
        if "step" in f.attrs:
            print(f"{path}: step {f.attrs['step']}, epoch {f.attrs['epoch']}, step in epoch {f.attrs['step_in_epoch']}")
    return state


def resnet_for(state):
    """The ResNet whose parameters have the names and shapes of `state`."""
    blocks = {}
    for name in state:
        match = re.match(r"layer(\d+)\.(\d+)\.", name)
        if match:
            stage, index = int(match[1]), int(match[2])
            blocks[stage] = max(blocks.get(stage, 0), index + 1)
    counts = [blocks[stage] for stage in sorted(blocks)]
    block = Bottleneck if "layer1.0.conv3.weight" in state else BasicBlock
    cifar = state["conv1.weight"].shape[-1] == 3
    shortcut = "projection" if any(".downsample." in name for name in state) else "padding"
    classes, channels = state["fc.weight"].shape[0], state["conv1.weight"].shape[1]
    return ResNet(block, counts, classes, channels, cifar, shortcut)


def evaluate(model, dataset, stats, batch):
    with h5py.File(stats or dataset, "r") as f:
        mean = torch.tensor(np.asarray(f.attrs["mean"]), dtype=torch.float32).view(1, -1, 1, 1)
        std = torch.tensor(np.asarray(f.attrs["std"]), dtype=torch.float32).view(1, -1, 1, 1)
    correct = total = 0
    with h5py.File(dataset, "r") as f, torch.no_grad():
        images, labels = f["images"], f["labels"]
        for start in range(0, len(labels), batch):
            x = torch.from_numpy(images[start:start + batch]).float() / 255
            y = torch.from_numpy(labels[start:start + batch].astype(np.int64))
            predicted = model((x - mean) / std).argmax(1)
            correct += (predicted == y).sum().item()
            total += len(y)
    return correct / total, total


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", help="ckpt-<step>.h5 or model.h5 written by dtrain")
    parser.add_argument("dataset", help="a dtrain HDF5 dataset to evaluate on")
    parser.add_argument("--stats", help="the file whose mean/std normalise the images (default: the dataset)")
    parser.add_argument("--batch", type=int, default=256)
    args = parser.parse_args()
    state = read_state(args.model)
    model = resnet_for(state)
    # strict: every tensor of the file has a place in the model and the reverse, with equal shapes.
    model.load_state_dict(state, strict=True)
    model.eval()
    accuracy, count = evaluate(model, args.dataset, args.stats, args.batch)
    print(f"top-1 accuracy {accuracy:.4f} on {count} images of {args.dataset}")


if __name__ == "__main__":
    main()
