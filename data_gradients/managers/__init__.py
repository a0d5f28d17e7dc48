"""Analysis managers, one per task."""
from data_gradients.managers.base import AnalysisManager
from data_gradients.managers.classification import ClassificationAnalysisManager
from data_gradients.managers.detection import DetectionAnalysisManager
from data_gradients.managers.segmentation import SegmentationAnalysisManager

__all__ = ["AnalysisManager", "ClassificationAnalysisManager", "DetectionAnalysisManager", "SegmentationAnalysisManager"]
