#!/usr/bin/python3
"""What a PyTorch user hands to orch: a TorchScript model and NumPy arrays.

    /usr/bin/python3 examples/pytorch/export.py [OUT_DIR]

writes OUT_DIR/net.pt (a small CNN with BatchNorm and Dropout, scripted), and
OUT_DIR/train.npz and OUT_DIR/val.npz: 28x28 images of a bright square in one of four
corners, with noise; the class is the corner. examples/pytorch/experiment.toml trains it.
"""
import os
import sys

import numpy as np
import torch
import torch.nn as nn


class CornerNet(nn.Module):
    def __init__(self, classes: int = 4):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(0.2), nn.Linear(16 * 7 * 7, classes))

    def forward(self, x):
        return self.head(self.features(x))


def corners(samples: int, rng: np.random.Generator):
    images = rng.normal(0, 1.0, size=(samples, 1, 28, 28)).astype(np.float32)
    labels = rng.integers(0, 4, size=samples)
    for i, corner in enumerate(labels):
        row, col = (corner // 2) * 14 + 3, (corner % 2) * 14 + 3
        images[i, 0, row:row + 8, col:col + 8] += 0.3
    return images, labels.astype(np.int64)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "."
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    # The three lines that export a model for orch:
    model = CornerNet()
    scripted = torch.jit.script(model)
    scripted.save(os.path.join(out, "net.pt"))
    # Saving the data: one .npz per split, arrays named inputs and targets.
    rng = np.random.default_rng(0)
    x, y = corners(4096, rng)
    np.savez(os.path.join(out, "train.npz"), inputs=x, targets=y)
    x, y = corners(1024, rng)
    np.savez(os.path.join(out, "val.npz"), inputs=x, targets=y)

if __name__ == "__main__":
    main()
