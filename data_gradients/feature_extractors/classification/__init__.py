"""Feature extractors of the classification task; they read a
:class:`~data_gradients.batch.classification.ClassificationBatch`.

Importing this package registers them (explicit imports, no directory scanning).
"""
from data_gradients.feature_extractors.classification import class_frequency, per_class_images, samples  # noqa: F401
