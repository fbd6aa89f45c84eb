#!/usr/bin/env python3
"""Writes Fashion-MNIST as an ImageFolder of greyscale JPEG files, one folder per class, for `dtrain pack
imagefolder` (the encoded-image path a photograph collection takes, on data whose IDX-packed results are known).

    python3 datasets/fashion-mnist/imagefolder.py OUT_DIR [--quality 95]

writes OUT_DIR/train/<class>/<index>.jpg and OUT_DIR/test/... from Debian's dataset-fashion-mnist files
(/usr/share/datasets/fashion-mnist, installed by datasets/fashion-mnist/prepare.sh). Class folders are named
"<label>-<name>" so that their sorted order, which ImageFolder numbers, is the label order. The JPEGs are
single-channel, so the packed file holds grey images and its samples are [1, 28, 28] as the IDX-packed ones are.
Needs numpy and Pillow.
"""
import argparse
import gzip
import os

import numpy as np
from PIL import Image

SOURCE = "/usr/share/datasets/fashion-mnist"
CLASSES = ["t-shirt-top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle-boot"]


def read_idx(path, offset):
    with gzip.open(path, "rb") as file:
        return np.frombuffer(file.read(), dtype=np.uint8, offset=offset)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("output", help="the folder to write train/ and test/ into")
    parser.add_argument("--quality", type=int, default=95, help="JPEG quality (default 95)")
    args = parser.parse_args()
    for split, prefix in [("train", "train"), ("test", "t10k")]:
        images = read_idx(f"{SOURCE}/{prefix}-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28)
        labels = read_idx(f"{SOURCE}/{prefix}-labels-idx1-ubyte.gz", 8)
        for label, name in enumerate(CLASSES):
            os.makedirs(os.path.join(args.output, split, f"{label}-{name}"), exist_ok=True)
        for index, (image, label) in enumerate(zip(images, labels)):
            path = os.path.join(args.output, split, f"{label}-{CLASSES[label]}", f"{index:05d}.jpg")
            Image.fromarray(image, "L").save(path, quality=args.quality)
        print(f"imagefolder: {len(images)} {split} images in {os.path.join(args.output, split)}")


if __name__ == "__main__":
    main()
