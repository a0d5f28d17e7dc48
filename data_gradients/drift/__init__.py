"""Drift: how far each split's distributions are from the reference split's, ranked."""
from data_gradients.drift.distances import PSI_EPSILON, js_distance, psi, wasserstein_1
from data_gradients.drift.ranking import DriftRow, drift_result, drift_rows, with_drift

__all__ = ["PSI_EPSILON", "DriftRow", "drift_result", "drift_rows", "js_distance", "psi", "wasserstein_1", "with_drift"]
