"""Known answers for classification class frequency, label cardinality and bad-label findings."""
import numpy as np
import pytest

from data_gradients.batch import ClassificationBatchBuilder
from data_gradients.context import AnalysisContext
from data_gradients.feature_extractors.classification.class_frequency import (
    MAX_CARDINALITY_BIN,
    ClassificationClassFrequency,
)

C = 4


def make(labels, num_classes=C, ignore=(), multi_label=False, first_id=0):
    ids = tuple(i for i in range(num_classes) if i not in ignore)
    ctx = AnalysisContext(task="classification", num_classes=num_classes, class_ids=ids,
                          class_names={i: f"c{i}" for i in range(num_classes)})
    labels = np.asarray(labels)
    images = np.zeros((len(labels), 3, 4, 4), dtype=np.uint8)
    (batch,) = ClassificationBatchBuilder(num_classes, ids, ignore, multi_label).build(images, labels, first_id)
    return ctx, batch


def test_single_label_counts_shares_and_findings():
    ctx, train = make([0, 0, 0, 1, 2, 2, 9])  # 9 is out of range
    _, val = make([0, 1], first_id=0)
    ex = ClassificationClassFrequency(ctx)
    ex.update(train, "train")
    ex.update(val, "val")
    res = ex.compute()
    hist = res.histograms[0]
    assert hist.categories == ["c0", "c1", "c2", "c3"]
    assert hist.counts["train"].tolist() == [3, 1, 2, 0]
    assert hist.shares("train").tolist() == pytest.approx([0.5, 1 / 6, 1 / 3, 0])
    assert len(res.histograms) == 1  # no cardinality for single-label data
    assert res.scalars["images"] == {"train": 7, "val": 2}
    assert res.scalars["classes_present"] == {"train": 3, "val": 2}
    assert res.scalars["imbalance_ratio"] == {"train": 3.0, "val": 1.0}
    assert res.scalars["images_without_label"] == {"train": 1, "val": 0}
    table = res.tables[0]
    assert table.rows[0] == [0, "c0", 3, 0.5, 3 / 7, 1, 0.5, 0.5]
    keys = {f.key: f for f in res.findings}
    assert keys["empty_classes"].message.endswith(": c3")
    assert "c2" in keys["classes_missing_val"].message and keys["classes_missing_val"].counts == {"val": 1}
    oor = keys["out_of_range"]
    assert oor.severity == "error" and oor.counts == {"train": 1, "val": 0}
    assert oor.sample_ids["train"] == [6]


def test_multi_label_cardinality():
    rows = [[1, 1, 0, 0], [0, 0, 0, 0], [1, 1, 1, 1], [0, 1, 0, 0]]
    ctx, batch = make(rows, multi_label=True)
    ex = ClassificationClassFrequency(ctx)
    ex.update(batch, "train")
    res = ex.compute()
    card = next(h for h in res.histograms if h.key == "label_cardinality")
    assert card.counts["train"][:5].tolist() == [1, 1, 1, 0, 1]
    assert card.bin_edges.tolist() == list(range(MAX_CARDINALITY_BIN + 2)) and "10 or more" in card.x_label
    # along the stream: one image per window here (ids 0-3)
    assert card.stream_steps["train"].tolist() == [1, 2, 3, 4]
    assert card.stream_counts["train"].argmax(axis=1).tolist() == [2, 0, 4, 1]
    assert res.scalars["mean_labels_per_image"] == {"train": 7 / 4}
    assert res.histograms[0].counts["train"].tolist() == [2, 3, 1, 1]
    assert res.scalars["images_without_label"] == {"train": 1}


def test_bad_multi_label_entries_are_a_finding():
    ctx, batch = make([[1, 0, 2, 0], [0, -1, 0, 5]], multi_label=True, first_id=40)
    ex = ClassificationClassFrequency(ctx)
    ex.update(batch, "train")
    (finding,) = [f for f in ex.compute().findings if f.key == "out_of_range"]
    assert finding.counts == {"train": 2}
    assert finding.sample_ids == {"train": [40, 41]}
    assert "3 label values" in finding.message
