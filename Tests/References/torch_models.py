"""Reference values for Tests/NNTests/TorchReferenceTests.swift: the zoo models' training step in PyTorch.

Run from the package root with PyTorch 2.13 and numpy installed:

    /work/pyenv/bin/python Tests/References/torch_models.py > Tests/NNTests/TorchModelReferences.swift

It writes Swift source to standard output: for each model, the names and shapes of its parameters and buffers in
`named_parameters()` / `named_buffers()` order, the logits and mean cross-entropy of one training-mode forward, the
gradient of every parameter (its L2 norm and the elements at a few indices), a few channels of every batch norm's
running statistics after that step, and the logits of an evaluation-mode forward that follows it.

Parameters and inputs are formulas of their flat index, repeated in the Swift test, so neither side needs the
other's random numbers. Each parameter's index is its position in the concatenation of `named_parameters()`,
which is dtrain's flat parameter buffer:

    v(i)                = 2 * frac(43758.5453 * sin(12.9898 * i + 0.1)) - 1      (uniform-looking in [-1, 1))
    weight (rank >= 2)  = sqrt(3 / fan_in) * v(i)                               (variance 1 / fan_in)
    batch-norm weight   = 1 + 0.1 * v(i)
    any other bias      = 0.1 * v(i)
    input x[i]          = cos(0.11 * i)                                         (i over the flat NCHW batch)

A hash of the index rather than a plain sinusoid: with p[i] = sin(a * i + b) every row of a weight matrix is a
combination of the same two sinusoids, so each layer would have rank two and hide mistakes in the layout. Values
are computed in float64 with the C library's sin and cos (Python's math module, Foundation on the Swift side) and
rounded to float32, so both sides start from the same bits.

ResNet-18 and ResNet-50 are written here in plain PyTorch with torchvision's module structure (the same module
names, registration order, strides on the 3x3 convolutions and 1x1 downsample projections as
torchvision.models.resnet in torchvision 0.28.0), because no CPU build of torchvision matching PyTorch 2.13 is
importable in the reference environment; the embedded names and shapes are what torchvision's models report.
AlexNet and VGG-16 are torchvision's own (torchvision.models.alexnet and vgg16), with dropout 0 because PyTorch's
random masks cannot be repeated in dtrain. Their inputs are small (64x64 and 32x32), so the features end in 1x1
maps that the adaptive pool repeats to 6x6 and 7x7: the step stays fast and the pool's repetition is checked too.
"""
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# torchvision's compiled operators (detection kernels) may not match the CPU torch wheel: skip their registration.
torch.library.register_fake = lambda *args, **kwargs: (lambda function: function)
import torchvision  # noqa: E402

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)


def v(i):
    s = 43758.5453 * math.sin(12.9898 * i + 0.1)
    return 2.0 * (s - math.floor(s)) - 1.0


def fill_parameters(model):
    """Sets every parameter from its flat index, as TorchReferenceTests.fillParameters does."""
    normalization = {id(p) for m in model.modules() if isinstance(m, nn.BatchNorm2d) for p in m.parameters()}
    offset = 0
    with torch.no_grad():
        for name, p in model.named_parameters():
            count = p.numel()
            values = np.fromiter(map(v, range(offset, offset + count)), dtype=np.float64, count=count)
            if p.dim() >= 2:
                values *= math.sqrt(3.0 / (count // p.shape[0]))
            elif id(p) in normalization and name.endswith("weight"):
                values = 1.0 + 0.1 * values
            else:
                values *= 0.1
            p.copy_(torch.from_numpy(values.astype(np.float32)).reshape(p.shape))
            offset += count


def make_input(shape):
    count = math.prod(shape)
    values = np.array([math.cos(0.11 * i) for i in range(count)], dtype=np.float64)
    return torch.from_numpy(values.astype(np.float32)).reshape(shape)


class LeNet5(nn.Module):
    """dtrain's ModelZoo.lenet5: C1 6@5x5, pool, C3 16@5x5, pool, C5 120@5x5, F6 84, output."""

    def __init__(self, input_size, activation, pooling):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2 if input_size == 28 else 0)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.conv3 = nn.Conv2d(16, 120, 5)
        self.fc1 = nn.Linear(120, 84)
        self.fc2 = nn.Linear(84, 10)
        self.act = activation
        self.pool = pooling

    def forward(self, x):
        x = self.pool(self.act(self.conv1(x)))
        x = self.pool(self.act(self.conv2(x)))
        x = self.act(self.conv3(x)).flatten(1)
        return self.fc2(self.act(self.fc1(x)))


def conv3x3(inplanes, planes, stride=1):
    return nn.Conv2d(inplanes, planes, 3, stride=stride, padding=1, bias=False)


def conv1x1(inplanes, planes, stride=1):
    return nn.Conv2d(inplanes, planes, 1, stride=stride, bias=False)


class ZeroPadShortcut(nn.Module):
    """He et al.'s option A: x[:, :, ::2, ::2] with the new channels as zeros split equally on both sides."""

    def __init__(self, planes):
        super().__init__()
        self.pad = planes // 4

    def forward(self, x):
        return F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.pad, self.pad))


class BasicBlock(nn.Module):
    """torchvision.models.resnet.BasicBlock."""

    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    """torchvision.models.resnet.Bottleneck (stride on the 3x3 convolution, "ResNet v1.5")."""

    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = conv1x1(inplanes, planes)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = conv3x3(planes, planes, stride)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = conv1x1(planes, planes * 4)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class ResNet(nn.Module):
    """torchvision.models.resnet.ResNet: 7x7/2 stem, 3x3/2 max pool, four stages, global pool, classifier."""

    def __init__(self, block, layers, num_classes=1000):
        super().__init__()
        self.inplanes = 64
        self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2)
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2)
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)

    def _make_layer(self, block, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(conv1x1(self.inplanes, planes * block.expansion, stride),
                                       nn.BatchNorm2d(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


class ResNet20(nn.Module):
    """dtrain's ModelZoo.resnet20: He et al.'s CIFAR ResNet with 16-32-64 channels and three blocks per stage."""

    def __init__(self, shortcut):
        super().__init__()
        self.conv1 = conv3x3(3, 16)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        inplanes = 16
        for stage, planes in enumerate([16, 32, 64]):
            blocks = []
            for index in range(3):
                stride = 2 if stage > 0 and index == 0 else 1
                downsample = None
                if stride != 1 or inplanes != planes:
                    downsample = (ZeroPadShortcut(planes) if shortcut == "zero_padding" else
                                  nn.Sequential(conv1x1(inplanes, planes, stride), nn.BatchNorm2d(planes)))
                blocks.append(BasicBlock(inplanes, planes, stride, downsample))
                inplanes = planes
            setattr(self, f"layer{stage + 1}", nn.Sequential(*blocks))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(torch.flatten(self.avgpool(x), 1))


# Swift name: (model, input shape [N, C, H, W], number of classes)
MODELS = [
    ("lenet5ReLUMax28", lambda: LeNet5(28, nn.ReLU(), nn.MaxPool2d(2)), (4, 1, 28, 28), 10),
    ("lenet5TanhAverage32", lambda: LeNet5(32, nn.Tanh(), nn.AvgPool2d(2)), (4, 1, 32, 32), 10),
    ("resnet20ZeroPadding", lambda: ResNet20("zero_padding"), (4, 3, 32, 32), 10),
    ("resnet20Projection", lambda: ResNet20("projection"), (4, 3, 32, 32), 10),
    ("resnet18", lambda: ResNet(BasicBlock, [2, 2, 2, 2]), (2, 3, 64, 64), 1000),
    ("resnet50", lambda: ResNet(Bottleneck, [3, 4, 6, 3]), (2, 3, 64, 64), 1000),
    ("alexnet", lambda: torchvision.models.alexnet(dropout=0.0), (2, 3, 64, 64), 1000),
    ("vgg16", lambda: torchvision.models.vgg16(dropout=0.0), (2, 3, 32, 32), 1000),
]


def labels_for(batch, classes):
    return [(7 * b + 3) % classes for b in range(batch)]


def sample_indices(count):
    """First, middle and last elements: spread through the tensor, reaching every end of its layout."""
    return sorted({0, count // 2, count - 1})


def floats(values):
    return "[" + ", ".join(str(x) for x in np.asarray(values, dtype=np.float32).ravel()) + "]"


def ints(values):
    return "[" + ", ".join(str(int(x)) for x in values) + "]"


def shape_list(named):
    return "[\n" + "".join(f'            TensorShape("{name}", {ints(t.shape)}),\n' for name, t in named) + "        ]"


def reference(swift_name, make, input_shape, classes):
    torch.manual_seed(0)
    model = make()
    fill_parameters(model)
    model.train()
    x = make_input(input_shape)
    labels = labels_for(input_shape[0], classes)
    logits = model(x)
    loss = F.cross_entropy(logits, torch.tensor(labels))
    loss.backward()

    gradients = []
    for name, p in model.named_parameters():
        g = p.grad.detach().ravel()
        indices = sample_indices(g.numel())
        largest = int(g.abs().argmax())
        if largest not in indices:
            indices.append(largest)
        norm = float(torch.linalg.vector_norm(g.double()))
        gradients.append(f'            GradientReference("{name}", norm: {norm!r}, indices: {ints(indices)}, '
                         f'values: {floats(g[indices])}),\n')
    statistics = []
    for name, b in model.named_buffers():
        if name.endswith("running_mean") or name.endswith("running_var"):
            indices = sample_indices(b.numel())
            statistics.append(f'            BufferReference("{name}", indices: {ints(indices)}, values: {floats(b[indices])}),\n')

    model.eval()
    with torch.no_grad():
        evaluation = model(x)

    return f"""    static let {swift_name} = TorchModelReference(
        inputShape: {ints(input_shape)},
        labels: {ints(labels)},
        parameters: {shape_list(model.named_parameters())},
        buffers: {shape_list(model.named_buffers())},
        trainingLogits: {floats(logits.detach())},
        loss: {float(loss.detach())!r},
        gradients: [
{"".join(gradients)}        ],
        statistics: [
{"".join(statistics)}        ],
        evaluationLogits: {floats(evaluation)}
    )
"""


def main():
    print(f"""// Generated by Tests/References/torch_models.py with PyTorch {torch.__version__.split("+")[0]}; do not edit.
// Regenerate: /work/pyenv/bin/python Tests/References/torch_models.py > Tests/NNTests/TorchModelReferences.swift

/// One training-mode step and one evaluation-mode forward of each zoo model in PyTorch, with parameters and inputs
/// set by the formulas in Tests/References/torch_models.py.
enum TorchModelReferences {{""")
    print("\n".join(reference(*entry) for entry in MODELS), end="")
    print("}")


if __name__ == "__main__":
    main()
