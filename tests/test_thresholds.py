import dataclasses
import re

import pytest
from conftest import TASK_DATA, canonical_batches

from data_gradients.context import AnalysisContext
from data_gradients.errors import ConfigurationError
from data_gradients.thresholds import declare, declared, resolve_thresholds, threshold


def test_declared_defaults_are_in_force_without_user_values():
    name = declare("test_only_limit", 0.25, "a limit used by this test")
    values = dict(resolve_thresholds(None))
    assert values[name] == 0.25
    assert set(values) == set(declared())


def test_user_value_overrides_the_default_and_reaches_the_context():
    declare("test_only_limit", 0.25, "a limit used by this test")
    pairs = resolve_thresholds({"test_only_limit": 0.5})
    ctx = AnalysisContext(task="segmentation", num_classes=2, class_ids=(0, 1), thresholds=pairs)
    assert threshold(ctx, "test_only_limit") == 0.5
    assert threshold(AnalysisContext(task="segmentation", num_classes=2, class_ids=(0, 1)), "test_only_limit") == 0.25


def test_unknown_name_is_an_error_listing_the_valid_names():
    declare("test_only_limit", 0.25, "a limit used by this test")
    with pytest.raises(ConfigurationError, match="valid names: .*test_only_limit"):
        resolve_thresholds({"no_such_limit": 1})


@pytest.mark.parametrize("value", ["0.1", None, True, float("nan")])
def test_non_numbers_are_rejected(value):
    declare("test_only_limit", 0.25, "a limit used by this test")
    with pytest.raises(ConfigurationError, match="test_only_limit"):
        resolve_thresholds({"test_only_limit": value})


def test_range_is_checked():
    declare("test_only_share", 0.5, "a share used by this test", minimum=0, maximum=1)
    with pytest.raises(ConfigurationError, match=r"\[0, 1\]"):
        resolve_thresholds({"test_only_share": 1.5})


def test_conflicting_declarations_are_refused():
    declare("test_only_limit", 0.25, "a limit used by this test")
    with pytest.raises(ValueError):
        declare("test_only_limit", 0.3, "a limit used by this test")


def test_manager_rejects_unknown_threshold():
    from data_gradients import SegmentationAnalysisManager

    with pytest.raises(ConfigurationError, match="unknown threshold"):
        SegmentationAnalysisManager(train_data=[], num_classes=2, thresholds={"nope": 1}, verbose=False)


# ---------------------------------------------------------------- every family's limit is settable
def _with(ctx, **values):
    """``ctx`` with the thresholds in force set from defaults overridden by ``values``."""
    return dataclasses.replace(ctx, thresholds=resolve_thresholds(values))


def _run(extractor_cls, ctx, batches, split="train"):
    ex = extractor_cls(ctx)
    for b in batches:
        ex.update(b, split)
    return ex.compute()


def _task(task):
    ctx, builder, raw = TASK_DATA[task](0)
    return ctx, canonical_batches(builder, raw)


def test_every_declared_threshold_is_documented_and_in_range():
    table = declared()
    names = {"drift_warning", "drift_error", "drift_noise_p", "thin_class_share", "thin_class_min_objects",
             "short_split_share", "duplicate_box_iou", "class_shortcut_brightness", "class_shortcut_size"}
    assert names <= set(table)
    for name, t in table.items():
        if name.startswith("test_only"):
            continue
        assert re.fullmatch(r"[a-z][a-z0-9_]*", name) and t.doc.strip()
        assert (t.minimum is None or t.default >= t.minimum) and (t.maximum is None or t.default <= t.maximum)


def test_unknown_name_error_lists_every_declared_name():
    with pytest.raises(ConfigurationError) as info:
        resolve_thresholds({"thin_share": 0.1})
    for name in declared():
        assert name in str(info.value)


def test_thin_class_limits():
    from data_gradients.feature_extractors.segmentation.erosion import SegmentationErosion

    ctx, batches = _task("segmentation")
    default = _run(SegmentationErosion, ctx, batches)
    lenient = _run(SegmentationErosion, _with(ctx, thin_class_share=0.0, thin_class_min_objects=1), batches)
    strict = _run(SegmentationErosion, _with(ctx, thin_class_min_objects=10 ** 6), batches)
    assert not strict.findings
    assert [f.key for f in lenient.findings] == ["thin_classes"]
    flagged = lenient.findings[0].counts["train"]
    assert flagged == sum(1 for c in ctx.class_ids if default.tables[0].rows[list(ctx.class_ids).index(c)][2] >= 1)
    assert "at least 0% of the objects" in lenient.findings[0].message
    assert flagged > (default.findings[0].counts["train"] if default.findings else 0)


def test_short_split_share():
    from data_gradients.feature_extractors.common.split_sizes import SplitSizes

    ctx, batches = _task("classification")
    read = sum(len(b) for b in batches)
    ctx = dataclasses.replace(ctx, splits=("train",), promised_samples=(("train", read + 1),))
    assert not _run(SplitSizes, ctx, batches).findings  # 1 sample short of the promise: within 90%
    found = _run(SplitSizes, _with(ctx, short_split_share=0.99), batches).findings
    assert [f.key for f in found] == ["short_split"] and "below 99% of the promised length" in found[0].why


def test_duplicate_box_iou():
    from data_gradients.feature_extractors.detection.overlap import DetectionOverlap

    ctx, batches = _task("detection")
    default = _run(DetectionOverlap, ctx, batches)
    lower = _run(DetectionOverlap, _with(ctx, duplicate_box_iou=0.05), batches)
    n_default = default.scalars["possible_duplicate_boxes"]["train"]
    assert n_default >= 1  # the planted duplicate box
    assert lower.scalars["possible_duplicate_boxes"]["train"] > n_default
    assert "IoU >= 0.05" in lower.findings[0].message and "IoU >= 0.9" in default.findings[0].message
    assert not _run(DetectionOverlap, _with(ctx, duplicate_box_iou=1.0), batches[:3]).findings


def test_class_shortcut_limits():
    from data_gradients.feature_extractors.classification.per_class_images import ClassificationPerClassImages

    ctx, batches = _task("classification")
    assert not _run(ClassificationPerClassImages, ctx, batches).findings  # random pixels: no class stands out
    bright = _run(ClassificationPerClassImages, _with(ctx, class_shortcut_brightness=0.0, class_shortcut_size=1e9),
                  batches).findings
    size = _run(ClassificationPerClassImages, _with(ctx, class_shortcut_brightness=1.0, class_shortcut_size=0.0),
                batches).findings
    assert bright and "brightness" in bright[0].message and "mean size" not in bright[0].message
    assert size and "mean size" in size[0].message and "brightness " not in size[0].message


def test_values_in_force_reach_the_report_configuration(tmp_path):
    from data_gradients import ClassificationAnalysisManager

    _, _, raw = TASK_DATA["classification"](0)
    report = ClassificationAnalysisManager(train_data=raw, val_data=raw, num_classes=4, log_dir=tmp_path, verbose=False,
                                           writers=[], multi_label=True, thresholds={"drift_warning": 0.05},
                                           features=["image_brightness"]).run()
    values = report.config["thresholds"]
    assert values["drift_warning"] == 0.05 and values["drift_error"] == declared()["drift_error"].default
    assert set(values) == set(declared())


def test_readme_table_matches_the_declared_thresholds():
    import importlib.util
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    spec = importlib.util.spec_from_file_location("thresholds_table", root / "tools" / "thresholds_table.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    table = tool.markdown_table()
    assert "`drift_warning`" in table and "`thin_class_share`" in table
    assert table in (root / "README.md").read_text(), "README's Thresholds table is stale: run tools/thresholds_table.py"
