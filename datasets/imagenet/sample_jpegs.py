#!/usr/bin/env python3
"""Writes an ImageFolder of ImageNet-sized JPEG files (500x375 and 375x500, as most ILSVRC-2012 photographs are)
for measuring the loader without ImageNet: `dtrain pack imagefolder` packs it and `dtrain bench-loader` times it.

    python3 datasets/imagenet/sample_jpegs.py OUT_DIR [--images 512] [--classes 8] [--quality 90] [--seed 2012]

The pictures are random fields with a photograph's 1/f amplitude spectrum (smooth regions, some edges and fine
texture), so a JPEG decoder does about the work a photograph of that size asks of it; flat or white-noise images
would flatter or punish it. Needs numpy and Pillow.
"""
import argparse
import os

import numpy as np
from PIL import Image


def picture(rng, width, height):
    """Three colour channels of 1/f noise, scaled to fill 0-255."""
    fy = np.fft.fftfreq(height)[:, None]
    fx = np.fft.rfftfreq(width)[None, :]
    amplitude = 1.0 / np.maximum(np.hypot(fx, fy), 1.0 / max(width, height))
    channels = []
    for _ in range(3):
        phase = rng.uniform(0, 2 * np.pi, amplitude.shape)
        field = np.fft.irfft2(amplitude * np.exp(1j * phase), s=(height, width))
        channels.append((field - field.min()) / (field.max() - field.min()) * 255)
    return Image.fromarray(np.stack(channels, axis=2).astype(np.uint8), "RGB")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("output", help="the folder to write (one subfolder per class)")
    parser.add_argument("--images", type=int, default=512)
    parser.add_argument("--classes", type=int, default=8)
    parser.add_argument("--quality", type=int, default=90)
    parser.add_argument("--seed", type=int, default=2012, help="another seed, other pictures (a validation split)")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    for index in range(args.images):
        folder = os.path.join(args.output, f"class{index % args.classes:03d}")
        os.makedirs(folder, exist_ok=True)
        # One in four portrait, as in ILSVRC-2012.
        width, height = (375, 500) if index % 4 == 3 else (500, 375)
        picture(rng, width, height).save(os.path.join(folder, f"{index:06d}.jpg"), quality=args.quality)
    print(f"sample_jpegs: {args.images} images of {args.classes} classes in {args.output}")


if __name__ == "__main__":
    main()
