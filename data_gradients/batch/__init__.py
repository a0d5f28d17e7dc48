"""Batch extraction and the canonical, validated batch types."""
from data_gradients.batch.images import ImageBatch
from data_gradients.batch.segmentation import SegmentationBatch, SegmentationBatchBuilder

__all__ = ["ImageBatch", "SegmentationBatch", "SegmentationBatchBuilder"]
