"""Feature extractors: the base class, the registry and the built-ins.

Built-ins are imported explicitly here (no directory scanning); importing a module
registers its extractors, and the import order below is the order of the report's
sections: image statistics, data quality, then each task's label statistics.
"""
from data_gradients.feature_extractors.base import FeatureExtractor
from data_gradients.feature_extractors.registry import (
    get_feature,
    register_feature,
    registered_features,
    select_features,
    unregister_feature,
)

# isort: off
from data_gradients.feature_extractors.common import resolution, brightness, channel_stats, color_histogram  # noqa: F401
from data_gradients.feature_extractors.common import data_quality, duplicates, split_sizes  # noqa: F401
from data_gradients.feature_extractors.common import near_duplicates, image_quality  # noqa: F401
from data_gradients.feature_extractors.segmentation import class_frequency, components, heatmap  # noqa: F401
from data_gradients.feature_extractors.segmentation import convexity, erosion, cooccurrence, samples  # noqa: F401
from data_gradients.feature_extractors import detection, classification  # noqa: F401
from data_gradients.feature_extractors.common import stream_order  # noqa: F401
from data_gradients.feature_extractors.common import fingerprint  # noqa: F401
# isort: on

__all__ = [
    "FeatureExtractor",
    "get_feature",
    "register_feature",
    "registered_features",
    "select_features",
    "unregister_feature",
]
