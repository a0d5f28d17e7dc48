"""Batch extraction and the canonical, validated batch types (one per task)."""
from data_gradients.batch.classification import ClassificationBatch, ClassificationBatchBuilder
from data_gradients.batch.detection import DetectionBatch, DetectionBatchBuilder
from data_gradients.batch.images import ImageBatch
from data_gradients.batch.segmentation import SegmentationBatch, SegmentationBatchBuilder

__all__ = [
    "ClassificationBatch",
    "ClassificationBatchBuilder",
    "DetectionBatch",
    "DetectionBatchBuilder",
    "ImageBatch",
    "SegmentationBatch",
    "SegmentationBatchBuilder",
]
