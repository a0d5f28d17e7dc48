"""Batch extraction and the canonical, validated batch types."""
from data_gradients.batch.images import ImageBatch
from data_gradients.batch.segmentation import SegmentationBatch, SegmentationBatchBuilder

__all__ = ["ImageBatch", "SegmentationBatch", "SegmentationBatchBuilder"]
from data_gradients.batch.detection import DetectionBatch, DetectionBatchBuilder  # noqa: E402

__all__ += ["DetectionBatch", "DetectionBatchBuilder"]
from data_gradients.batch.classification import ClassificationBatch, ClassificationBatchBuilder  # noqa: E402

__all__ += ["ClassificationBatch", "ClassificationBatchBuilder"]
