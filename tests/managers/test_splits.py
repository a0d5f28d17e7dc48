"""Any number of splits: `splits={...}`, the train/val shorthand, and the reference split."""
from __future__ import annotations

import pytest
from conftest import classification_raw_batches

from data_gradients import ClassificationAnalysisManager
from data_gradients.errors import ConfigurationError


def data(seed):
    return classification_raw_batches(seed, num_classes=3, multi_label=False, n_batches=2)


def manager(tmp_path, *args, **kw):
    return ClassificationAnalysisManager(*args, num_classes=3, log_dir=tmp_path, verbose=False, writers=[],
                                         features=["classification_class_frequency", "split_sizes"], **kw)


def test_three_splits_in_their_order(tmp_path):
    report = manager(tmp_path, splits={"train": data(0), "val": data(1), "test": data(2)}).run()
    assert list(report.splits) == ["train", "val", "test"]
    assert report.results["split_sizes"].scalars["samples"] == {"train": 8, "val": 8, "test": 8}
    assert report.config["splits"] == ["train", "val", "test"] and report.config["reference"] == "train"


def test_the_shorthand_names_train_and_val(tmp_path):
    report = manager(tmp_path, data(0), data(1)).run()
    assert list(report.splits) == ["train", "val"]


def test_reference_is_the_first_split_unless_named(tmp_path):
    m = manager(tmp_path, splits={"a": data(0), "b": data(1)})
    assert m.reference == "a" and m.context.reference == "a"
    assert manager(tmp_path, splits={"a": data(0), "b": data(1)}, reference="b").context.reference == "b"


@pytest.mark.parametrize("args, kw, message", [
    ((data(0),), {"splits": {"x": data(1)}}, "pass the data either as `splits={...}` or as `train_data`"),
    ((), {"splits": {}}, "`splits` must be a non-empty dict"),
    ((), {"splits": [data(0)]}, "`splits` must be a non-empty dict"),
    ((), {"splits": {"": data(0)}}, "`splits` names must be non-empty one-line strings"),
    ((), {"splits": {"a\nb": data(0)}}, "`splits` names must be non-empty one-line strings"),
    ((), {"splits": {"train": 3}}, "`splits['train']` must be an iterable of batches"),
    ((), {"splits": {"train": data(0)}, "reference": "val"}, "`reference` must be one of the splits ['train']"),
    ((), {}, "`train_data` must be an iterable of batches"),
])
def test_bad_splits(tmp_path, args, kw, message):
    with pytest.raises(ConfigurationError, match=message.replace("[", r"\[").replace("(", r"\(")):
        manager(tmp_path, *args, **kw)
