"""data_gradients: find out what is really in your computer-vision training data."""
__version__ = "0.1.0"

from data_gradients.export import diff_runs  # noqa: E402
from data_gradients.feature_extractors import FeatureExtractor, register_feature, registered_features  # noqa: E402
from data_gradients.managers import (  # noqa: E402
    ClassificationAnalysisManager,
    DetectionAnalysisManager,
    SegmentationAnalysisManager,
)
from data_gradients.reports import AnalysisReport  # noqa: E402

__all__ = [
    "AnalysisReport",
    "ClassificationAnalysisManager",
    "DetectionAnalysisManager",
    "FeatureExtractor",
    "SegmentationAnalysisManager",
    "__version__",
    "diff_runs",
    "register_feature",
    "registered_features",
]
