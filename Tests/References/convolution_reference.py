# Produces Tests/EngineTests/ConvolutionReference.swift's body: PyTorch conv2d output and gradients for ConvolutionTests.matchesPyTorch.
import math
import torch

def pattern(n, scale, phase):
    # The same float32 values as the Swift test's `pattern`: sin(i * scale + phase) rounded to float32.
    return torch.tensor([math.sin(i * scale + phase) for i in range(n)], dtype=torch.float32).double()

N, C, H, W, O, k, stride, pad = 2, 3, 5, 6, 4, 3, 2, 1
x = pattern(N * C * H * W, 0.37, 0.0).reshape(N, C, H, W).requires_grad_()
w = pattern(O * C * k * k, 0.23, 1.0).reshape(O, C, k, k).requires_grad_()
b = pattern(O, 0.91, 2.0).requires_grad_()
y = torch.nn.functional.conv2d(x, w, b, stride=stride, padding=pad)
dy = pattern(y.numel(), 0.53, 0.5).reshape(y.shape)
y.backward(dy)

def show(name, t):
    print(f"    static let {name}: [Double] = [")
    values = [f"{v:.9g}" for v in t.detach().flatten().tolist()]
    for i in range(0, len(values), 8):
        print("        " + ", ".join(values[i:i + 8]) + ",")
    print("    ]")

show("output", y)
show("inputGradient", x.grad)
show("weightGradient", w.grad)
show("biasGradient", b.grad)
