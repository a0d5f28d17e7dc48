"""Small datasets for the export, fingerprint and diff tests."""
from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset


class FileLikeSegmentation(Dataset):
    """A map-style dataset of (image, mask) samples that tells a file path per index, like datasets from disk."""

    def __init__(self, n: int = 10, h: int = 24, w: int = 32, seed: int = 0, num_classes: int = 3):
        rng = np.random.default_rng(seed)
        self.images = rng.integers(0, 256, (n, 3, h, w), dtype=np.uint8)
        self.masks = rng.integers(0, num_classes, (n, h, w)).astype(np.int64)
        self.paths = [f"/data/images/{i:04d}.png" for i in range(n)]
        self.reads = []

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i):
        self.reads.append(int(i))
        return torch.from_numpy(self.images[i]), torch.from_numpy(self.masks[i])

    def sample_path(self, i: int) -> str:
        return self.paths[i]


def seg_batches(images: np.ndarray, masks: np.ndarray, size: int = 4):
    return [(torch.from_numpy(images[i:i + size]), torch.from_numpy(masks[i:i + size])) for i in range(0, len(images), size)]
