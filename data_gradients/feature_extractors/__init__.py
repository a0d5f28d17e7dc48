"""Feature extractors: the base class, the registry and the built-ins.

Built-ins are imported explicitly here (no directory scanning); importing this
package registers them.
"""
from data_gradients.feature_extractors import detection  # noqa: F401  (registers the detection features)
from data_gradients.feature_extractors.base import FeatureExtractor
from data_gradients.feature_extractors.common import brightness, channel_stats, data_quality, resolution  # noqa: F401
from data_gradients.feature_extractors.registry import (
    get_feature,
    register_feature,
    registered_features,
    select_features,
    unregister_feature,
)
from data_gradients.feature_extractors.segmentation import class_frequency, components, heatmap, samples  # noqa: F401

__all__ = [
    "FeatureExtractor",
    "get_feature",
    "register_feature",
    "registered_features",
    "select_features",
    "unregister_feature",
]
from data_gradients.feature_extractors import classification  # noqa: E402,F401  (registers the classification features)
from data_gradients.feature_extractors.common import color_histogram, duplicates  # noqa: E402,F401
from data_gradients.feature_extractors.segmentation import convexity, cooccurrence, erosion  # noqa: E402,F401
