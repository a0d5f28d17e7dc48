"""Looking at the data behind a report: export of selected samples, and the manifest / diff of runs."""
from data_gradients.export.run_diff import RunDiff, SplitDiff, diff_runs

__all__ = ["RunDiff", "SplitDiff", "diff_runs"]
