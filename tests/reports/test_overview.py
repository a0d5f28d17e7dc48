from pathlib import Path

from data_gradients.reports.overview import summary_lines, threshold_rows, verdicts
from data_gradients.reports.report import AnalysisReport, SplitSummary
from data_gradients.results import FeatureResult, Finding


def finding(key, severity, area=None):
    return Finding(key=key, title=f"title {key}", message="m", why="w", counts={"train": 2}, severity=severity, area=area)


def report(results, partial=False, thresholds=None):
    return AnalysisReport(title="t", task="segmentation", run_dir=Path("."), splits={"train": SplitSummary("train", 2)},
                          results={r.name: r for r in results}, config={"thresholds": thresholds or {}},
                          class_names={}, started_at="now", partial=partial, partial_reason="stopped" if partial else None)


def result(name, group, *findings):
    return FeatureResult(name=name, title=name, description="", group=group, findings=list(findings))


def test_verdict_per_area_counts_errors_and_warnings_by_group_or_the_findings_own_area():
    r = report([
        result("image_quality", "quality", finding("dark", "warning")),
        result("data_quality", "quality", finding("nonfinite", "error"), finding("out_of_range", "error", area="labels")),
        result("class_frequency", "labels", finding("missing", "warning")),
        result("duplicates", "quality", finding("train_leakage", "error", area="splits")),
    ])
    got = {v.area: (v.errors, v.warnings, v.word) for v in verdicts(r)}
    assert got == {"images": (1, 1, "problems"), "labels": (1, 1, "problems"), "splits": (1, 0, "problems")}
    lines = summary_lines(r)
    assert lines[:3] == ["images: problems (1 error, 1 warning)", "labels: problems (1 error, 1 warning)",
                         "splits: problems (1 error)"]
    errors = [line for line in lines if line.startswith("[error]")]
    assert errors == ["[error] images: title nonfinite (train 2)", "[error] labels: title out_of_range (train 2)",
                      "[error] splits: title train_leakage (train 2)"]  # errors first, in feature order


def test_summary_stays_short_and_says_how_many_more():
    many = [finding(f"k{i}", "warning") for i in range(9)]
    lines = summary_lines(report([result("image_quality", "quality", *many)], partial=True))
    assert lines[0] == "PARTIAL REPORT: stopped"
    assert lines[-1] == "... and 3 more finding(s) below"
    assert len(lines) <= 12
    assert summary_lines(report([]))[:3] == ["images: ok", "labels: ok", "splits: ok"]


def test_threshold_rows_list_the_values_in_force_with_their_doc():
    rows = threshold_rows(report([], thresholds={"drift_warning": 0.25}))
    assert rows[0][:2] == ["drift_warning", "0.25"]
    assert rows[0][2]  # the declared doc
