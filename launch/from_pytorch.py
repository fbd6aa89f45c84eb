#!/usr/bin/env python3
"""Convert a torchvision ResNet-18, ResNet-50, AlexNet or VGG-16 state_dict into a dtrain model file.

dtrain names and lays out its tensors as torchvision does (conv weights [out, in, kh, kw], dense weights [out, in],
batch-norm weight/bias/running_mean/running_var/num_batches_tracked), so the conversion copies each tensor into
parameters/<name> or buffers/<name> as float32 and writes the attributes that make the file describe itself:
format "dtrain-model", version, model, config, classes, input_shape, mean and std (datasets/README.md). The
architecture is read off the tensors. The result is what a run's model.h5 is: `dtrain eval CONFIG --checkpoint
FILE`, `dtrain predict FILE IMAGE...`, and `model.init = "FILE"` in a config starts a run from it (a classifier of
another size is initialised afresh).

    python3 launch/from_pytorch.py resnet18.pth --output resnet18.h5 [--classes names.txt]

The state_dict is a file written by torch.save(model.state_dict(), path) (a whole pickled model is not read).
Needs python3 with torch, numpy and h5py.
"""
import argparse
import os
import sys

import h5py
import numpy as np
import torch

BUFFER_SUFFIXES = ("running_mean", "running_var", "num_batches_tracked")
# Blocks per stage of the ResNets dtrain's zoo has, by block kind.
ARCHITECTURES = {("basic", (2, 2, 2, 2)): "resnet18", ("bottleneck", (3, 4, 6, 3)): "resnet50"}
# The features.N indices of the convolutions of the sequential models, and their classifier.
SEQUENTIAL = {(0, 3, 6, 8, 10): "alexnet", (0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28): "vgg16"}
CLASSIFIER = {"resnet18": "fc.weight", "resnet50": "fc.weight", "alexnet": "classifier.6.weight",
              "vgg16": "classifier.6.weight"}
IMAGENET_MEAN, IMAGENET_STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]


def fail(message):
    print(f"from_pytorch: {message}", file=sys.stderr)
    sys.exit(2)


def architecture(state, path):
    """resnet18 or resnet50 from the block kind and the number of blocks per stage; alexnet or vgg16 from where
    the convolutions sit in `features`."""
    if "features.0.weight" in state:
        convolutions = tuple(sorted(int(key.split(".")[1]) for key in state
                                    if key.startswith("features.") and key.endswith(".weight")))
        name = SEQUENTIAL.get(convolutions)
        if name is None or "classifier.6.weight" not in state:
            fail(f"{path}: not a torchvision AlexNet or VGG-16 state_dict (convolutions at features "
                 f"{list(convolutions)}, classifier.6 {'present' if 'classifier.6.weight' in state else 'missing'})")
        return name
    blocks = tuple(len({key.split(".")[1] for key in state if key.startswith(f"layer{stage}.")}) for stage in range(1, 5))
    kind = "bottleneck" if "layer1.0.conv3.weight" in state else "basic"
    name = ARCHITECTURES.get((kind, blocks))
    if name is None or "fc.weight" not in state or "conv1.weight" not in state:
        fail(f"{path}: not a torchvision ResNet-18 or ResNet-50 state_dict ({kind} blocks {list(blocks)} per stage; "
             "expected basic [2, 2, 2, 2] or bottleneck [3, 4, 6, 3], with conv1 and fc)")
    return name


def config_text(model, image_size, resize):
    """A config that loads: the model, and the evaluation resize and crop the converted weights expect."""
    return f"""# Converted from a PyTorch state_dict by launch/from_pytorch.py; no dtrain run trained this model.
[run]
name = "{model}-from-pytorch"

[data]
train = "converted-from-pytorch"
global_batch = 256
image_size = {image_size}
resize = {resize}

[model]
name = "{model}"

[optimizer]
name = "momentum"
lr = 0.1
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("state_dict", help="a file written by torch.save(model.state_dict(), path)")
    parser.add_argument("--output", required=True, help="the dtrain model file to write (.h5)")
    parser.add_argument("--classes", help="a text file with one class name per line, in label order (default 0..N-1)")
    parser.add_argument("--image-size", type=int, default=224, help="the side of the network input (default 224)")
    parser.add_argument("--resize", type=int, default=256, help="evaluation resize of the shorter side (default 256)")
    parser.add_argument("--mean", type=float, nargs=3, default=IMAGENET_MEAN, help="normalisation mean per channel")
    parser.add_argument("--std", type=float, nargs=3, default=IMAGENET_STD, help="normalisation std per channel")
    args = parser.parse_args()

    try:
        state = torch.load(args.state_dict, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many kinds for a file that is not a state_dict
        fail(f"{args.state_dict}: cannot be read as a state_dict ({error})")
    if not isinstance(state, dict) or not all(torch.is_tensor(value) for value in state.values()):
        fail(f"{args.state_dict}: not a state_dict (a dict of tensors from model.state_dict())")
    model = architecture(state, args.state_dict)
    classes = state[CLASSIFIER[model]].shape[0]
    if args.classes:
        with open(args.classes, encoding="utf-8") as file:
            names = [line.rstrip("\n") for line in file if line.strip()]
        if len(names) != classes:
            fail(f"{args.classes}: {len(names)} class names, but {CLASSIFIER[model]} has {classes} rows")
    else:
        names = [str(index) for index in range(classes)]

    temporary = args.output + ".tmp"
    with h5py.File(temporary, "w") as file:
        parameters, buffers = file.create_group("parameters"), file.create_group("buffers")
        for name, tensor in state.items():
            group = buffers if name.endswith(BUFFER_SUFFIXES) else parameters
            values = tensor.detach().to(torch.float32).numpy()
            # dtrain stores the scalar num_batches_tracked with one element.
            group.create_dataset(name, data=values.reshape(1) if values.ndim == 0 else values)
        file.attrs["format"] = "dtrain-model"
        file.attrs["version"] = np.int64(1)
        file.attrs["model"] = model
        file.attrs["config"] = config_text(model, args.image_size, args.resize)
        file.attrs["classes"] = np.array(names, dtype=h5py.string_dtype())
        file.attrs["input_shape"] = np.array([3, args.image_size, args.image_size], dtype=np.int64)
        file.attrs["mean"] = np.array(args.mean, dtype=np.float64)
        file.attrs["std"] = np.array(args.std, dtype=np.float64)
    os.replace(temporary, args.output)
    print(f"from_pytorch: {model} with {classes} classes, {len(state)} tensors, in {args.output}")


if __name__ == "__main__":
    main()
