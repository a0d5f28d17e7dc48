"""The segmentation manager end to end on tiny data: arguments, bad data, partial runs."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from conftest import segmentation_raw_batches

from data_gradients import FeatureExtractor, SegmentationAnalysisManager, register_feature
from data_gradients.errors import BatchFormatError, ConfigurationError, FeatureRegistryError, UnresolvedBatchError
from data_gradients.feature_extractors import unregister_feature

LIGHT = ["segmentation_class_frequency", "data_quality", "image_brightness"]


def run(tmp_path, train=None, val=None, **kw):
    kw.setdefault("num_classes", 4)
    kw.setdefault("features", LIGHT)
    kw.setdefault("ignore_labels", [255])
    train = segmentation_raw_batches(0) if train is None else train
    return SegmentationAnalysisManager(train, val, log_dir=tmp_path, verbose=False, **kw).run()


def read_outputs(report):
    return report.outputs["txt"].read_text(), json.loads(report.outputs["json"].read_text())


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"num_classes": -3}, "`num_classes` must be a positive int, got -3"),
        ({"num_classes": 2.5}, "`num_classes` must be a positive int, got 2.5"),
        ({"num_classes": 3, "class_names": ["a", "b"]}, "`class_names` must have num_classes=3 names, got 2"),
        ({"num_classes": 3, "class_names": {7: "x"}}, "`class_names` has ids [7] outside"),
        ({"num_classes": 3, "samples_to_visualize": -1}, "`samples_to_visualize` must be an int >= 0, got -1"),
        ({"num_classes": 3, "max_batches": 0}, "`max_batches` must be a positive int, got 0"),
        ({"num_classes": 3, "ignore_labels": "255"}, "`ignore_labels` must be a list of ints"),
        ({"num_classes": 3, "images_extractor": "image", "images_key": "image"}, "not both"),
        ({"num_classes": 3, "features": "image_brightness"}, "lists of names"),
    ],
)
def test_bad_arguments_name_the_argument(tmp_path, kwargs, message):
    with pytest.raises(ConfigurationError) as e:
        SegmentationAnalysisManager([], log_dir=tmp_path, verbose=False, **kwargs)
    assert message in str(e.value)


def test_train_data_must_be_iterable(tmp_path):
    with pytest.raises(ConfigurationError, match="`train_data` must be an iterable of batches.*got NoneType"):
        SegmentationAnalysisManager(None, num_classes=2, log_dir=tmp_path)


def test_unknown_feature_is_an_error(tmp_path):
    with pytest.raises(FeatureRegistryError, match="unknown feature 'nope'"):
        SegmentationAnalysisManager([], num_classes=2, features=["nope"], log_dir=tmp_path)


def test_dict_batch_without_extractor_lists_key_paths(tmp_path):
    batch = {"image": torch.zeros(2, 3, 4, 4), "target": {"mask": torch.zeros(2, 4, 4, dtype=torch.long)}}
    with pytest.raises(UnresolvedBatchError) as e:
        run(tmp_path, train=[batch])
    assert "image" in str(e.value) and "target.mask" in str(e.value)


def test_key_paths_and_callables_extract_dict_batches(tmp_path):
    batches = [{"image": im, "target": {"mask": m}} for im, m in segmentation_raw_batches(0)]
    by_key = run(tmp_path, train=batches, images_key="image", labels_key="target.mask")
    by_fn = run(tmp_path, train=batches, images_extractor=lambda b: b["image"], labels_extractor=lambda b: b["target"]["mask"])
    plain = run(tmp_path)
    for r in (by_key, by_fn):
        rows = r.results["segmentation_class_frequency"].tables[0].rows
        assert rows == plain.results["segmentation_class_frequency"].tables[0].rows


def test_unusable_batch_raises(tmp_path):
    bad = [(torch.zeros(2, 3, 4, 4), torch.zeros(2, 5, 5, dtype=torch.long))]
    with pytest.raises(BatchFormatError, match="sizes disagree"):
        run(tmp_path, train=bad)


def test_bad_data_is_counted_not_fatal(tmp_path):
    report = run(tmp_path)  # conftest data: 1 NaN image, 1 out-of-range mask, 1 empty mask in train
    assert report.splits["train"].samples == 18 and report.splits["train"].complete
    q = report.results["data_quality"]
    assert q.scalars["images_with_nonfinite_pixels"]["train"] == 1
    assert q.scalars["masks_with_out_of_range_ids"]["train"] == 1
    assert q.scalars["empty_masks"]["train"] == 1
    ids = {f.key: f.sample_ids["train"] for f in q.findings}
    assert sorted(ids.values()) == [[3], [4], [8]]
    txt, js = read_outputs(report)
    assert "first sample ids (train): 3" in txt
    assert len(js["findings"]) == 3


def test_ignored_classes_never_appear(tmp_path):
    names = ["zz_ignored", "road", "car", "person"]
    report = run(tmp_path, class_names=names, ignore_labels=[0, 255])
    txt, js = read_outputs(report)
    assert "zz_ignored" not in txt and "zz_ignored" not in json.dumps(js)
    assert [r[1] for r in report.results["segmentation_class_frequency"].tables[0].rows] == names[1:]


def test_hide_class_names(tmp_path):
    report = run(tmp_path, class_names=["secret_a", "secret_b", "secret_c", "secret_d"], hide_class_names=True)
    txt, js = read_outputs(report)
    assert "secret" not in txt and "secret" not in json.dumps(js)


def test_max_batches_makes_a_partial_report(tmp_path):
    report = run(tmp_path, max_batches=2)
    assert report.partial and "max_batches=2" in report.partial_reason
    assert report.splits["train"].batches == 2 and not report.splits["train"].complete
    txt, js = read_outputs(report)
    assert "PARTIAL REPORT" in txt and js["partial"] is True


def test_ctrl_c_writes_a_partial_report(tmp_path):
    def interrupted():
        batches = segmentation_raw_batches(0)
        yield batches[0]
        yield batches[1]
        raise KeyboardInterrupt

    report = run(tmp_path, train=interrupted(), val=segmentation_raw_batches(1))
    assert report.partial and "interrupted" in report.partial_reason
    assert report.splits["train"].samples == 6 and report.splits["val"].samples == 0
    txt, _ = read_outputs(report)
    assert "PARTIAL REPORT: interrupted" in txt


def test_a_failing_extractor_is_reported_and_the_rest_still_come_out(tmp_path):
    @register_feature
    class Exploding(FeatureExtractor):
        name, title, tasks = "test_exploding", "Exploding", ("segmentation",)

        def update(self, batch, split):
            raise RuntimeError("boom")

    try:
        report = run(tmp_path, features=LIGHT + ["test_exploding"])
    finally:
        unregister_feature("test_exploding")
    assert "RuntimeError in update()" in report.failed_features["test_exploding"]
    assert "boom" in report.failed_features["test_exploding"]
    assert report.results["image_brightness"].scalars["mean_brightness"]["train"] > 0
    txt, js = read_outputs(report)
    assert "FEATURE FAILED: test_exploding" in txt and "test_exploding" in js["failed_features"]


def test_duplicate_feature_name_is_an_error():
    with pytest.raises(FeatureRegistryError, match="already registered"):
        @register_feature
        class Again(FeatureExtractor):
            name, title, tasks = "image_brightness", "again", ("segmentation",)


def test_runs_never_overwrite_each_other(tmp_path):
    a, b = run(tmp_path, report_title="Same title"), run(tmp_path, report_title="Same title")
    assert a.run_dir != b.run_dir and a.run_dir.parent == b.run_dir.parent == tmp_path / "Same_title"
    assert a.outputs["txt"].exists() and b.outputs["txt"].exists()


def test_train_and_val_side_by_side(tmp_path):
    report = run(tmp_path, val=segmentation_raw_batches(5, n_batches=2))
    table = report.results["segmentation_class_frequency"].tables[0]
    assert any("(val)" in c for c in table.columns) and any("(train)" in c for c in table.columns)
    assert report.splits["val"].samples == 6


def test_generators_and_lists_of_single_samples(tmp_path):
    rng = np.random.default_rng(0)
    samples = [(rng.random((3, 8, 8)), rng.integers(0, 4, (8, 8))) for _ in range(5)]
    report = run(tmp_path, train=(s for s in samples))
    assert report.splits["train"].samples == 5 and report.splits["train"].batches == 5


def test_progress_total_for_a_list_of_batches():
    from data_gradients.managers.progress import estimated_total, total_samples

    batches = segmentation_raw_batches(0)
    assert total_samples(batches, None) is None
    assert estimated_total(batches, 3, None) == 18
    assert estimated_total(batches, 3, 2) == 6
    assert estimated_total((b for b in batches), 3, None) is None
