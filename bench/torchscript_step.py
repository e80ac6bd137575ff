#!/usr/bin/python3
"""The mnist_cnn network as a Python user has it, for bench/torchscript_bench.sh.

    /usr/bin/python3 bench/torchscript_step.py export DIR
        writes DIR/mnist_cnn.pt: the network of bench/mnist_sweep.py (the same layers as
        plugins/models/mnist_cnn), scripted, for orch's torchscript model plugin.
    /usr/bin/python3 bench/torchscript_step.py loop --batch-size 16 --threads 2 --steps 60
        trains it the way a user's loop does (zero_grad, forward, cross-entropy, backward,
        Adam step) on random 1x28x28 images and prints the median step time:
        RESULT step_median_ms=<ms>
"""
import argparse
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mnist_sweep import MnistCnn  # noqa: E402  (the one definition of the network)


def export(directory):
    torch.manual_seed(0)
    torch.jit.script(MnistCnn()).save(os.path.join(directory, "mnist_cnn.pt"))


def loop(batch_size, threads, steps, warmup=5):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = MnistCnn()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    images = torch.randn(batch_size * 8, 1, 28, 28)
    labels = torch.randint(0, 10, (batch_size * 8,))
    times = []
    for step in range(warmup + steps):
        rows = torch.randint(0, images.shape[0], (batch_size,))
        x, y = images[rows], labels[rows]
        start = time.perf_counter()
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        loss.item()
        if step >= warmup:
            times.append(time.perf_counter() - start)
    print(f"RESULT step_median_ms={statistics.median(times) * 1000:.3f}")


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("export").add_argument("directory")
    timed = sub.add_parser("loop")
    timed.add_argument("--batch-size", type=int, default=16)
    timed.add_argument("--threads", type=int, default=2)
    timed.add_argument("--steps", type=int, default=60)
    args = parser.parse_args()
    if args.command == "export":
        export(args.directory)
    else:
        loop(args.batch_size, args.threads, args.steps)


if __name__ == "__main__":
    main()
