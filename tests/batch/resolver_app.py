"""A tiny program run by test_resolver_tty.py: a segmentation analysis of dict batches.

    python resolver_app.py SCENARIO LOG_DIR [--reset] [--verbose]

It prints ``RESULT {...}`` (JSON) with the run's statistics at the end. ``make_batches``
is imported by the tests to compute the expected numbers independently.
"""
from __future__ import annotations

import json
import sys
from typing import Any, List

import numpy as np
import torch

NUM_CLASSES = 4
H, W = 12, 16


def _sample(rng: np.random.Generator, n: int):
    images = torch.from_numpy(rng.random((n, 3, H, W), dtype=np.float32))
    masks = torch.from_numpy(rng.integers(0, NUM_CLASSES - 1, size=(n, H, W)))  # class 3 never appears
    return images, masks


def make_batches(scenario: str) -> List[Any]:
    """Three batches (sizes 4, 4, 2) in the structure named by ``scenario``."""
    rng = np.random.default_rng(7)
    batches = []
    for b, n in enumerate((4, 4, 2)):
        images, masks = _sample(rng, n)
        files = [f"img_{b}_{i}.png" for i in range(n)]
        if scenario == "many":  # 14 leaves; the masks are item 12
            batches.append({
                "image": images,
                "meta": {"file": files, "id": torch.arange(n), "orig_size": torch.full((n, 2), 64),
                         "flip": [bool(i % 2) for i in range(n)], "scale": 0.5, "source": "synthetic",
                         "depth": torch.rand(n, 1, H, W)},
                "aux": {"edges": torch.zeros(n, H, W, dtype=torch.uint8), "weight": torch.ones(n)},
                "target": {"boxes": [torch.rand(2, 4) for _ in range(n)], "masks": masks,
                           "iscrowd": [0] * n},
            })
        elif scenario == "changed":  # the same items, one key renamed
            batches.append({"image": images, "meta": {"file": files}, "target": {"segmentation": masks}})
        elif scenario == "tuple":  # a nested tuple (dict, tensor)
            batches.append(({"image": images, "meta": {"file": files, "id": torch.arange(n)}}, masks))
        elif scenario == "records":  # a list of per-image dicts, as collate_fn=list gives
            batches.append([{"image": images[i], "mask": masks[i], "file": files[i]} for i in range(n)])
        else:
            raise SystemExit(f"unknown scenario {scenario!r}")
    return batches


def all_masks(scenario: str) -> np.ndarray:
    rng = np.random.default_rng(7)
    return np.concatenate([_sample(rng, n)[1].numpy() for n in (4, 4, 2)])


def main(argv: List[str]) -> int:
    from data_gradients import SegmentationAnalysisManager

    scenario, log_dir = argv[0], argv[1]
    report = SegmentationAnalysisManager(
        train_data=make_batches(scenario), num_classes=NUM_CLASSES, log_dir=log_dir,
        verbose="--verbose" in argv, reset_resolver="--reset" in argv,
        features=["segmentation_class_frequency"],
    ).run()
    result = report.results["segmentation_class_frequency"]
    table = next(t for t in result.tables if t.key == "per_class")
    split = report.splits["train"]
    print("RESULT " + json.dumps({
        "samples": split.samples, "batches": split.batches,
        "classes_present": result.scalars["classes_present"]["train"],
        "pixels": [int(row[2]) for row in table.rows],
        "extraction": report.config["batch_extraction"],
    }), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
