"""Reports: the report object and the writers that render it."""
from data_gradients.reports.report import AnalysisReport, SplitSummary

__all__ = ["AnalysisReport", "SplitSummary"]
