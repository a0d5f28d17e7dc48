"""Synthetic example data the package makes itself (README demo and benchmark input)."""
from data_gradients.demo.datasets import (
    CORRUPTIONS,
    DEMO_CLASS_NAMES,
    IMAGE_FORMATS,
    SyntheticFileSegmentationDataset,
    SyntheticSegmentationDataset,
    corrupted_indices,
    list_collate,
    render_sample,
    sample_sizes,
    segmentation_demo_loaders,
    write_segmentation_files,
)

__all__ = [
    "CORRUPTIONS",
    "DEMO_CLASS_NAMES",
    "IMAGE_FORMATS",
    "SyntheticFileSegmentationDataset",
    "SyntheticSegmentationDataset",
    "corrupted_indices",
    "list_collate",
    "render_sample",
    "sample_sizes",
    "segmentation_demo_loaders",
    "write_segmentation_files",
]
