"""PyTorch DDP's side of launch/scaling.sh: data-parallel training steps of dtrain's benchmark models over gloo.

    python launch/ddp_pytorch.py --model resnet20 --ranks 2 --batch 64 [--steps N] [--warmup N]

Starts `--ranks` processes on this machine (one thread each, bound to a core each when there are cores enough,
as launch/dtrain-node.sh binds dtrain's ranks), wraps the model of launch/bench_pytorch.py in
DistributedDataParallel over gloo (its default 25 MB buckets, overlapped with backward) and times the steps
(forward, mean cross-entropy, backward with the gradient allreduce, SGD with momentum 0.9 and weight decay 1e-4)
on random inputs of `--batch` images per rank. Prints one JSON object: model, ranks, batch per rank, images/s
of the whole job (the slowest rank's time).
"""
import argparse
import json
import os
import socket
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel

from bench_pytorch import MODELS


def worker(rank, args, port, results):
    cores = os.cpu_count() or 1
    if args.ranks <= cores:
        os.sched_setaffinity(0, {rank % cores})
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=args.ranks)
    make, shape, _, _ = MODELS[args.model]
    torch.manual_seed(1)
    model = DistributedDataParallel(make())
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    classes = 1000 if args.model == "resnet50" else 10
    images = torch.randn(args.batch, *shape)
    labels = torch.randint(0, classes, (args.batch,))

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()

    for _ in range(args.warmup):
        step()
    dist.barrier()
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    dist.barrier()
    seconds = torch.tensor([time.perf_counter() - start])
    dist.all_reduce(seconds, op=dist.ReduceOp.MAX)
    if rank == 0:
        results.put(args.steps * args.batch * args.ranks / seconds.item())
    dist.barrier()
    dist.destroy_process_group()
    # Past this point gloo's threads and tcmalloc can abort in static destructors at exit; the work is done.
    os._exit(0)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", choices=sorted(MODELS), required=True)
    parser.add_argument("--ranks", type=int, default=2)
    parser.add_argument("--batch", type=int, required=True, help="images per rank")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    args = parser.parse_args()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    context = mp.get_context("spawn")
    results = context.SimpleQueue()
    mp.start_processes(worker, args=(args, port, results), nprocs=args.ranks, start_method="spawn")
    print(json.dumps({"engine": "pytorch-ddp", "model": args.model, "ranks": args.ranks, "batch": args.batch,
                      "images_per_second": results.get()}))


if __name__ == "__main__":
    main()
