#!/usr/bin/env bash
# The main job on a fresh machine: installs what is missing, builds, prepares real MNIST, and trains LeNet-5
# with two MPI ranks to >= 99% test accuracy. Extra arguments go to dtrain (e.g. --set run.epochs=2).
set -euo pipefail
cd "$(dirname "$0")/.."

launch/setup.sh
swift build -c release --product dtrain
datasets/mnist/prepare.sh
launch/dtrain-node.sh 2 datasets/mnist/lenet5.toml "$@"
