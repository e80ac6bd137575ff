#!/usr/bin/python3
"""One configuration of the MNIST CNN study, written the way a PyTorch user writes it.

bench/mnist_sweep_bench.sh runs this once per batch size (the "one process per
configuration" workflow people use today) and compares it with one `orch run` of
experiments/mnist_cnn.toml. It mirrors what orch does for that file:

- the same IDX files (data/mnist), the first --train-samples / --val-samples digits of the
  train / t10k files, pixels scaled to (x/255 - 0.1307) / 0.3081 (orch's mnist plugin);
- the same network as plugins/models/mnist_cnn (no conv bias: BatchNorm follows), Adam at
  lr 1e-4, cross-entropy, seed 0;
- per epoch: every training batch in a shuffled order (the last one may be short), the loss
  logged with .item() every step, then a validation pass at the same batch size.

    /usr/bin/python3 bench/mnist_sweep.py --batch-size 16 --threads 2 --data data/mnist

The last line is machine-readable:
    RESULT wall_s=<seconds since the script started, imports included> peak_rss_bytes=<N>
"""
import time

T0 = time.time()  # before importing torch: its import is part of what a user waits for

import argparse
import os
import resource
import struct

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

MEAN, STD = 0.1307, 0.3081  # MNIST's training pixels, as in orch's mnist plugin


def read_idx(path):
    """An IDX file (LeCun's MNIST format) of unsigned bytes, as a numpy array."""
    with open(path, "rb") as f:
        data = f.read()
    zero, dtype, rank = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08:
        raise SystemExit(f"{path}: not an IDX file of unsigned bytes; run scripts/fetch-mnist.sh")
    dims = struct.unpack(">" + "I" * rank, data[4:4 + 4 * rank])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)


def load_split(data_dir, prefix, limit):
    """The first `limit` digits (0 = all) of one split, normalised, as tensors."""
    images = read_idx(os.path.join(data_dir, f"{prefix}-images-idx3-ubyte"))
    labels = read_idx(os.path.join(data_dir, f"{prefix}-labels-idx1-ubyte"))
    if limit:
        images, labels = images[:limit], labels[:limit]
    x = torch.from_numpy(images.copy()).float().unsqueeze(1).div_(255).sub_(MEAN).div_(STD)
    y = torch.from_numpy(labels.astype(np.int64))
    return TensorDataset(x, y)


class MnistCnn(nn.Module):
    def __init__(self):
        super().__init__()
        # No conv bias: the BatchNorm right after it would cancel it.
        self.conv1 = nn.Conv2d(1, 128, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(128)
        self.conv2 = nn.Conv2d(128, 256, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(256)
        self.dropout = nn.Dropout2d(0.5)
        self.fc1 = nn.Linear(256 * 7 * 7, 256)
        self.fc2 = nn.Linear(256, 100)
        self.fc3 = nn.Linear(100, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)
        x = self.dropout(x).flatten(1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--train-samples", type=int, default=512, help="0 = all")
    parser.add_argument("--val-samples", type=int, default=256, help="0 = all")
    parser.add_argument("--data", default="data/mnist", help="directory of the four IDX files")
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    train_set = load_split(args.data, "train", args.train_samples)
    val_set = load_split(args.data, "t10k", args.val_samples)
    # num_workers=0: the whole split is already a tensor in memory, so a batch is one
    # indexing operation. Worker processes pay off when loading is slow (files, decoding,
    # augmentation); here they would only add process start-up and inter-process copies,
    # and on 2 cores take CPU from the training threads.
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True, num_workers=0)
    val_loader = DataLoader(val_set, batch_size=args.batch_size, shuffle=False, num_workers=0)

    model = MnistCnn()
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    train_steps = train_samples = val_seen = 0
    for epoch in range(1, args.epochs + 1):
        model.train()
        start = time.time()
        total_loss, correct, seen = 0.0, 0, 0
        for x, y in train_loader:
            optimizer.zero_grad()
            out = model(x)
            loss = F.cross_entropy(out, y)
            loss.backward()
            optimizer.step()
            total_loss += loss.item() * len(y)
            correct += (out.argmax(1) == y).sum().item()
            seen += len(y)
            train_steps += 1
        train_seconds = time.time() - start
        train_samples += seen

        model.eval()
        val_loss, val_correct, val_n = 0.0, 0, 0
        with torch.no_grad():
            for x, y in val_loader:
                out = model(x)
                val_loss += F.cross_entropy(out, y).item() * len(y)
                val_correct += (out.argmax(1) == y).sum().item()
                val_n += len(y)
        val_seen += val_n
        print(f"epoch {epoch}: train loss {total_loss / seen:.4f} acc {correct / seen:.3f}, "
              f"val loss {val_loss / val_n:.4f} acc {val_correct / val_n:.3f}, "
              f"{seen / train_seconds:.1f} samples/s, {time.time() - start:.2f} s", flush=True)

    print(f"STEPS train_steps={train_steps} train_samples={train_samples} val_samples={val_seen}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    print(f"RESULT wall_s={time.time() - T0:.3f} peak_rss_bytes={peak}", flush=True)


if __name__ == "__main__":
    main()
