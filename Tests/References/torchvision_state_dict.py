"""A torchvision model (resnet18, alexnet or vgg16) with random weights and, for ResNet-18, running statistics: its
state_dict, a batch of network inputs and PyTorch's logits for them, for FromPyTorchTests (which converts the
state_dict with launch/from_pytorch.py and compares dtrain's logits with these).

    python Tests/References/torchvision_state_dict.py OUT_DIR MODEL   # writes OUT_DIR/MODEL.pth and OUT_DIR/logits.h5

Needs torch, torchvision, numpy and h5py.
"""
import sys

import h5py
import numpy as np
import torch

# The model is pure Python; torchvision's compiled operators (detection kernels) may not match the CPU torch wheel,
# so their registration is skipped.
torch.library.register_fake = lambda *args, **kwargs: (lambda function: function)
import torchvision  # noqa: E402

out, name = sys.argv[1], sys.argv[2]
torch.manual_seed(18)
torch.set_num_threads(1)
model = getattr(torchvision.models, name)(num_classes=10)
# Batch norm with statistics and affine parameters far from their initial values, so evaluation mode is tested.
with torch.no_grad():
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.normal_(0, 0.2)
            module.running_var.uniform_(0.5, 2.0)
            module.weight.uniform_(0.5, 1.5)
            module.bias.normal_(0, 0.1)
            module.num_batches_tracked.fill_(1234)
model.eval()
torch.save(model.state_dict(), f"{out}/{name}.pth")

inputs = torch.randn(3, 3, 224, 224, generator=torch.Generator().manual_seed(7))
with torch.no_grad():
    logits = model(inputs)
with h5py.File(f"{out}/logits.h5", "w") as file:
    file.create_dataset("inputs", data=inputs.numpy().astype(np.float32))
    file.create_dataset("logits", data=logits.numpy().astype(np.float32))
print(f"logits {tuple(logits.shape)}, largest magnitude {logits.abs().max().item():.4f}")
