"""Analysis managers, one per task."""
from data_gradients.managers.base import AnalysisManager
from data_gradients.managers.segmentation import SegmentationAnalysisManager

__all__ = ["AnalysisManager", "SegmentationAnalysisManager"]
