"""Analysing a dataset whose batches are dicts.

Many datasets return dicts such as ``{"image": ..., "target": {"masks": ...}}``.
Tell data_gradients where the images and the labels are with dotted key paths:

    images_key="image", labels_key="target.masks"

(list/tuple indices are numbers: ``labels_key="1"``; for a batch that is a list of
per-sample dicts, ``"*.image"`` takes ``"image"`` from every sample). Callables work
too: ``images_extractor=lambda batch: batch["image"]``.

Leave the keys out and run this script in a terminal to be asked instead: the batch
is printed as a numbered tree, you type the numbers once, and the answer is
remembered for this batch structure (``reset_resolver=True`` forgets it). Without a
terminal (CI) the run stops with the list of candidate paths instead of waiting.

    python examples/dict_batches.py [--ask]
"""
from __future__ import annotations

import sys

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from data_gradients import SegmentationAnalysisManager

CLASSES = ["background", "road", "car"]


class DictDataset(Dataset):
    """Synthetic street scenes: a sample is a dict, as many real datasets return."""

    def __init__(self, n: int = 48, size: int = 64, seed: int = 0):
        self.n, self.size, self.seed = n, size, seed

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> dict:
        rng = np.random.default_rng(self.seed + i)
        mask = np.zeros((self.size, self.size), dtype=np.int64)
        mask[self.size // 2:] = 1  # road on the lower half
        x, y = rng.integers(0, self.size - 12, size=2)
        mask[y:y + 8, x:x + 12] = 2  # a car
        image = torch.rand(3, self.size, self.size)
        return {"image": image, "target": {"masks": torch.from_numpy(mask)}, "file_name": f"scene_{i:04d}.png"}


def main(ask: bool) -> None:
    # the default collate turns dict samples into a dict of batched tensors (and a list of file names)
    train = DataLoader(DictDataset(48, seed=0), batch_size=8)
    val = DataLoader(DictDataset(16, seed=1000), batch_size=8)
    keys = {} if ask else {"images_key": "image", "labels_key": "target.masks"}
    report = SegmentationAnalysisManager(
        train_data=train,
        val_data=val,
        num_classes=len(CLASSES),
        class_names=CLASSES,
        log_dir="logs",
        report_title="Dict batches example",
        **keys,
    ).run()
    shares = report.results["segmentation_class_frequency"].tables[0]
    print("\n".join(f"  {row[1]:<10s} {row[3]:.1%} of train pixels" for row in shares.rows))


if __name__ == "__main__":
    main(ask="--ask" in sys.argv[1:])
