"""data_gradients: find out what is really in your computer-vision training data."""
__version__ = "0.1.0"

from data_gradients.feature_extractors import FeatureExtractor, register_feature, registered_features  # noqa: E402
from data_gradients.managers import (
    DetectionAnalysisManager,  # noqa: E402
    SegmentationAnalysisManager,  # noqa: E402
)
from data_gradients.reports import AnalysisReport  # noqa: E402

__all__ = [
    "AnalysisReport",
    "DetectionAnalysisManager",
    "FeatureExtractor",
    "SegmentationAnalysisManager",
    "__version__",
    "register_feature",
    "registered_features",
]
from data_gradients.managers import ClassificationAnalysisManager  # noqa: E402

__all__ += ["ClassificationAnalysisManager"]
