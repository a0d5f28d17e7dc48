"""Hand-built detection batches for known-answer tests (built through the real builder)."""
from __future__ import annotations

from typing import Dict, Optional, Sequence

import numpy as np

from data_gradients.batch import DetectionBatch, DetectionBatchBuilder
from data_gradients.context import AnalysisContext


def context(num_classes: int = 3, names: Optional[Dict[int, str]] = None, samples: int = 4,
            ignore: Sequence[int] = (), seed: int = 0) -> AnalysisContext:
    ids = tuple(c for c in range(num_classes) if c not in set(ignore))
    return AnalysisContext(task="detection", num_classes=num_classes, class_ids=ids, class_names=dict(names or {}),
                           samples_to_visualize=samples, seed=seed)


def batch(per_image: Sequence[Sequence[Sequence[float]]], h: int = 100, w: int = 100, first_id: int = 0,
          num_classes: int = 3, ignore: Sequence[int] = (), images: Optional[np.ndarray] = None) -> DetectionBatch:
    """One canonical batch from per-image lists of ``[class, x1, y1, x2, y2]`` pixel rows."""
    ids = tuple(c for c in range(num_classes) if c not in set(ignore))
    builder = DetectionBatchBuilder(num_classes, ids, ignore, bbox_format="xyxy", normalized_boxes=False)
    if images is None:
        images = np.zeros((len(per_image), 3, h, w), dtype=np.uint8)
    labels = [np.asarray(rows, dtype=np.float64).reshape(-1, 5) for rows in per_image]
    (out,) = builder.build(images, labels, first_sample_id=first_id)
    return out
