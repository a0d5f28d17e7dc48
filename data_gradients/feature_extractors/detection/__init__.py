"""Feature extractors of the detection task; they read a :class:`~data_gradients.batch.DetectionBatch`.

Importing this package registers them (explicit imports, no directory scanning).
"""
from data_gradients.feature_extractors.detection import (  # noqa: F401
    box_counts,
    box_quality,
    box_sizes,
    class_frequency,
    cooccurrence,
    heatmap,
    overlap,
    resize_impact,
    samples,
)
