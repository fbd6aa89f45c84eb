#!/usr/bin/env bash
# Packs ILSVRC-2012 (ImageNet-1k) into data/imagenet/{train,val}.h5 as encoded images (layout version 2 in
# datasets/README.md), shorter sides above 256 pixels resized to 256 (what the ResNet recipes crop 224 from).
#
#   datasets/imagenet/prepare.sh --train DIR --val DIR [--devkit DIR]
#
# --train: the training images, a folder per synset (n01440764/...JPEG), as ILSVRC2012_img_train.tar unpacks
#          (after its 1,000 inner tars are unpacked too).
# --val:   either a folder per synset as well, or the flat folder ILSVRC2012_img_val.tar unpacks
#          (ILSVRC2012_val_00000001.JPEG ...); a flat folder needs --devkit, the unpacked
#          ILSVRC2012_devkit_t12 (data/meta.mat and data/ILSVRC2012_validation_ground_truth.txt), whose labels are
#          mapped to synsets as torchvision's ImageNet dataset maps them. The flat folder is not changed: the class
#          folders are made of symbolic links in a scratch folder.
#
# Environment: DTRAIN (the dtrain binary, default .build/release/dtrain), OUTPUT (default data/imagenet),
# RESIZE (default 256; 0 keeps every file as it is). Outputs that exist are kept.
set -euo pipefail

dtrain=${DTRAIN:-.build/release/dtrain}
output=${OUTPUT:-data/imagenet}
resize=${RESIZE:-256}
train="" val="" devkit=""
while [[ $# -gt 0 ]]; do
    case $1 in
        --train) train=${2:?"--train needs a folder"}; shift 2 ;;
        --val) val=${2:?"--val needs a folder"}; shift 2 ;;
        --devkit) devkit=${2:?"--devkit needs a folder"}; shift 2 ;;
        *) echo "usage: $0 --train DIR --val DIR [--devkit DIR]" >&2; exit 2 ;;
    esac
done
[[ -n $train && -n $val ]] || { echo "usage: $0 --train DIR --val DIR [--devkit DIR]" >&2; exit 2; }
[[ -x $dtrain ]] || { echo "imagenet: $dtrain not found; build it (swift build -c release) or set DTRAIN" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

resize_flag=()
((resize > 0)) && resize_flag=(--resize-shorter "$resize")

pack() {  # pack ROOT OUTPUT
    if [[ -s $2 ]]; then
        echo "imagenet: $2 exists, kept"
        return
    fi
    "$dtrain" pack imagefolder --root "$1" --output "$2" "${resize_flag[@]}"
}

# A folder holding class subfolders is already an ImageFolder; otherwise it is the flat validation folder.
has_subfolders() { find "$1" -mindepth 1 -maxdepth 1 -type d | grep -q .; }

if ! has_subfolders "$val"; then
    [[ -n $devkit ]] || { echo "imagenet: $val holds no class folders: give the devkit with --devkit DIR" >&2; exit 2; }
    meta=$devkit/data/meta.mat truth=$devkit/data/ILSVRC2012_validation_ground_truth.txt
    for file in "$meta" "$truth"; do
        [[ -s $file ]] || { echo "imagenet: $file not found (expected the unpacked ILSVRC2012_devkit_t12)" >&2; exit 2; }
    done
    # meta.mat is a MATLAB file: SciPy reads it (installed into a virtual environment if the system has none).
    python=python3
    if ! python3 -c "import scipy.io" 2>/dev/null; then
        python3 -m venv "$work/venv" && "$work/venv/bin/pip" install -q scipy
        python=$work/venv/bin/python
    fi
    "$python" - "$meta" "$truth" "$val" "$work/val" <<'PYTHON'
import os
import sys

import scipy.io

meta, truth, flat, tree = sys.argv[1:]
# As torchvision's ImageNet: the leaf synsets (no children) are the 1,000 classes, numbered by ILSVRC2012_ID.
synsets = scipy.io.loadmat(meta, squeeze_me=True)["synsets"]
wnid = {int(s[0]): str(s[1]) for s in synsets if int(s[4]) == 0}
labels = [int(line) for line in open(truth) if line.strip()]
names = sorted(n for n in os.listdir(flat) if n.lower().endswith((".jpeg", ".jpg", ".png")))
if len(names) != len(labels):
    sys.exit(f"imagenet: {flat} holds {len(names)} images but {truth} has {len(labels)} labels")
for name, label in zip(names, labels):
    if label not in wnid:
        sys.exit(f"imagenet: {truth}: label {label} is not a class of {meta}")
    folder = os.path.join(tree, wnid[label])
    os.makedirs(folder, exist_ok=True)
    os.symlink(os.path.abspath(os.path.join(flat, name)), os.path.join(folder, name))
print(f"imagenet: {len(names)} validation images sorted into {len(set(labels))} class folders")
PYTHON
    val=$work/val
fi

mkdir -p "$output"
pack "$train" "$output/train.h5"
pack "$val" "$output/val.h5"
echo "imagenet: done"
