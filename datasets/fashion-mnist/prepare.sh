#!/usr/bin/env bash
# Packs Fashion-MNIST into data/fashion-mnist/{train,test}.h5 (layout: datasets/README.md), from Debian's
# dataset-fashion-mnist package (installed if missing).
#
# Environment: DTRAIN (the dtrain binary, default .build/release/dtrain), OUTPUT (default data/fashion-mnist).
# Idempotent: outputs that exist and open as valid datasets are kept.
set -euo pipefail

dtrain=${DTRAIN:-.build/release/dtrain}
output=${OUTPUT:-data/fashion-mnist}
source_folder=/usr/share/datasets/fashion-mnist
[[ -x $dtrain ]] || { echo "fashion-mnist: $dtrain not found; build it (swift build -c release) or set DTRAIN" >&2; exit 2; }

# Packers rename a file into place only when it is complete, so an existing output is whole; `dtrain inspect`,
# where present, also validates it.
valid() { [[ -s $1 ]] && { ! "$dtrain" inspect --help >/dev/null 2>&1 || "$dtrain" inspect "$1" >/dev/null 2>&1; }; }
if valid "$output/train.h5" && valid "$output/test.h5"; then
    echo "fashion-mnist: $output/train.h5 and $output/test.h5 exist and are valid"
    exit 0
fi

if [[ ! -f $source_folder/train-images-idx3-ubyte.gz ]]; then
    echo "fashion-mnist: installing dataset-fashion-mnist"
    sudo=""
    [[ $(id -u) -eq 0 ]] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq dataset-fashion-mnist >/dev/null
fi

mkdir -p "$output"
classes="T-shirt/top,Trouser,Pullover,Dress,Coat,Sandal,Shirt,Sneaker,Bag,Ankle boot"
for split in train:train test:t10k; do
    name=${split%%:*} prefix=${split##*:}
    echo "fashion-mnist: packing $output/$name.h5"
    "$dtrain" pack idx --images "$source_folder/$prefix-images-idx3-ubyte.gz" \
        --labels "$source_folder/$prefix-labels-idx1-ubyte.gz" --output "$output/$name.h5" --classes "$classes" \
        --source "Fashion-MNIST $name split (Zalando Research), Debian package dataset-fashion-mnist"
done
echo "fashion-mnist: done"
