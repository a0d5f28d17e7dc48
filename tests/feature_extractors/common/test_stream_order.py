"""Stream windows: exact re-binning under merge, known answers of the shuffle finding, the p-value."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from conftest import TASK_DATA, canonical_batches

from data_gradients.batch import ClassificationBatchBuilder, ImageBatch
from data_gradients.context import AnalysisContext
from data_gradients.feature_extractors.common.brightness import ImageBrightness
from data_gradients.feature_extractors.common.stream_order import StreamOrder, chi2_sf
from data_gradients.feature_extractors.stream_windows import WINDOWS

C = 4


def context(splits=("train", "val")):
    return AnalysisContext(task="classification", num_classes=C, class_ids=tuple(range(C)),
                           class_names={i: f"c{i}" for i in range(C)}, splits=splits, reference=splits[0])


def batches(labels, batch_size=16, first=0):
    builder = ClassificationBatchBuilder(C, range(C), ())
    rng = np.random.default_rng(len(labels))
    out = []
    for start in range(0, len(labels), batch_size):
        chunk = torch.as_tensor(labels[start:start + batch_size])
        images = torch.from_numpy(rng.integers(0, 256, (len(chunk), 3, 4, 4), dtype=np.uint8))
        (b,) = builder.build(images, chunk, first + start)
        b.stream_positions = np.arange(len(chunk)) + first + start
        out.append(b)
    return out


def run(labels, split="train", ctx=None):
    ext = StreamOrder(ctx or context())
    for b in batches(labels):
        ext.update(b, split)
    return ext


def sorted_labels(per_class=100):
    return np.repeat(np.arange(C), per_class)


def test_sorted_loader_is_flagged_with_its_blocks():
    result = run(sorted_labels()).compute()
    (finding,) = result.findings
    assert finding.key == "unshuffled_order" and finding.severity == "warning"
    assert finding.counts == {"train": C}
    # 400 images in windows of 8: each class's block is named, give or take the window it ends in
    assert "class c0 only in images 0\u2013103" in finding.message
    assert "class c1 only in images 96\u2013199" in finding.message
    assert "class c2 only in images 200\u2013303" in finding.message
    assert "class c3 only in images 296\u2013399" in finding.message
    assert "chi-square" in finding.message and "unshuffled_order_p" in finding.message
    (table,) = result.tables
    ((split, images, width, windows, tested, far, smallest),) = table.rows
    assert (split, images, width, windows, tested, far) == ("train", 400, 8, 50, C, C) and smallest < 1e-40


def test_sorted_non_reference_split_is_only_a_note():
    ext = run(sorted_labels(), split="val")
    (finding,) = ext.compute().findings
    assert finding.severity == "info"


@pytest.mark.parametrize("seed", range(8))
def test_shuffled_loader_is_not_flagged(seed):
    labels = np.random.default_rng(seed).permutation(np.repeat(np.arange(C), 150 + 37 * seed))
    result = run(labels).compute()
    assert result.findings == []
    (row,) = result.tables[0].rows
    assert row[4] == C and row[5] == 0 and row[6] > 0.001 / C


def test_windows_double_and_series_follow_the_stream():
    labels = sorted_labels(50)  # 200 images: width 4, 50 windows
    result = run(labels).compute()
    shares = next(s for s in result.series if s.key == "class_share")
    assert result.data["train"] == {"window_width": 4, "images_read": 200}
    assert shares.steps["train"].tolist() == list(range(4, 201, 4))
    assert shares.values["train"]["c0"].tolist() == [1.0] * 12 + [0.5] + [0.0] * 37
    per_image = next(s for s in result.series if s.key == "objects_per_image" and not s.headline)
    assert per_image.values["train"]["objects_per_image"].tolist() == [1.0] * 50


def test_headline_series_cover_the_images_read_so_far_and_end_at_the_split_numbers():
    labels = np.random.default_rng(3).permutation(sorted_labels(50))[:150]
    labels[:60] = 0  # class 0 alone at first: the classes seen grow later
    ext, brightness = StreamOrder(context()), ImageBrightness(context())
    for b in batches(labels):
        ext.update(b, "train")
        brightness.update(b, "train")
    headline = {s.key: s for s in ext.compute().series if s.headline}
    assert set(headline) == {"classes_seen", "mean_brightness", "objects_per_image"}
    steps = headline["classes_seen"].steps["train"].tolist()
    assert steps == list(range(4, 151, 4)) + [150]  # 150 images: width 4, the last window holds 2
    assert headline["classes_seen"].values["train"]["classes_seen"].tolist() == [len(set(labels[:s])) for s in steps]
    assert headline["objects_per_image"].values["train"]["objects_per_image"].tolist() == [1.0] * len(steps)
    means = headline["mean_brightness"].values["train"]["mean_brightness"]
    assert means[-1] == brightness.compute().scalars["mean_brightness"]["train"]  # the same number, exactly
    first = ImageBrightness(context())  # the first window: the first 4 images
    images = batches(labels)[0].images[:4]
    first.update(ImageBatch(images=images, sample_ids=np.arange(4), nonfinite_pixels=np.zeros(4, np.int64),
                            source_channels=3), "train")
    assert means[0] == first.compute().scalars["mean_brightness"]["train"]


@pytest.mark.parametrize("cut", [1, 63, 64, 65, 130, 257])
def test_merge_of_producers_with_other_widths_equals_one(cut):
    rng = np.random.default_rng(cut)
    labels = rng.integers(0, C, 600)
    all_batches = batches(labels, batch_size=1)
    single = StreamOrder(context())
    for b in all_batches:
        single.update(b, "train")
    a, b_ = StreamOrder(context()), StreamOrder(context())
    for b in all_batches[:cut]:
        a.update(b, "train")
    for b in all_batches[cut:]:
        b_.update(b, "train")
    assert a.state("train").stream_width != b_.state("train").stream_width or cut == 600
    for merged in (a.merge(b_), ):
        for key in ("stream_width", "stream_end"):
            assert getattr(merged.state("train"), key) == getattr(single.state("train"), key)
        for key in ("stream_images", "class_images", "luma", "objects"):
            np.testing.assert_array_equal(getattr(merged.state("train"), key), getattr(single.state("train"), key))
    assert single.state("train").stream_images.shape == (WINDOWS,)


def test_merge_leaves_the_other_producer_unchanged():
    a, b = run(sorted_labels(10)), StreamOrder(context())
    for batch in batches(sorted_labels(100), first=1000)[:5]:
        b.update(batch, "train")
    before = b.state("train").class_images.copy()
    a.merge(b)
    np.testing.assert_array_equal(b.state("train").class_images, before)


@pytest.mark.parametrize("task", ["segmentation", "detection"])
def test_other_tasks_count_classes_and_objects(task):
    ctx, builder, raw = TASK_DATA[task]()
    ext = StreamOrder(ctx)
    data = canonical_batches(builder, raw)
    for b in data:
        ext.update(b, "train")
    st = ext.state("train")
    assert st.stream_images.sum() == sum(len(b) for b in data)
    assert st.class_images.shape == (WINDOWS, len(ctx.class_ids))
    assert st.objects.sum() > 0


@pytest.mark.parametrize("df", [1, 2, 3, 5, 40, 63])
def test_p_value_is_the_chi_square_tail(df):
    from scipy.stats import chi2

    for q in (0.9, 0.5, 0.1, 1e-3, 1e-6, 1e-12):
        x = chi2.isf(q, df)
        assert math.isclose(chi2_sf(x, df), q, rel_tol=1e-9)
    assert chi2_sf(0.0, df) == 1.0 and chi2_sf(1e5, df) == 0.0


def test_a_run_over_a_sorted_loader_reports_it_with_the_blocks(tmp_path):
    from data_gradients import ClassificationAnalysisManager

    rng = np.random.default_rng(0)

    def loader(labels, batch_size=32):
        return [(torch.from_numpy(rng.integers(0, 256, (len(chunk), 3, 8, 8), dtype=np.uint8)), torch.as_tensor(chunk))
                for chunk in (labels[i:i + batch_size] for i in range(0, len(labels), batch_size))]

    report = ClassificationAnalysisManager(
        loader(sorted_labels()), loader(rng.permutation(sorted_labels(50))), num_classes=C,
        class_names=[f"c{i}" for i in range(C)], log_dir=tmp_path, verbose=False, writers=[],
        features=["stream_order"], samples_to_visualize=0,
    ).run()
    (finding,) = report["stream_order"].findings
    assert finding.counts == {"train": C} and finding.severity == "warning"
    assert "class c2 only in images 200\u2013303" in finding.message
