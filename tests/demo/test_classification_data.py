"""The classification demo data shows every designed finding: exact and near duplicates, exact and near
leaks into val, blurred, dark, washed-out and grayscale images; the copies are what they claim to be."""
import numpy as np

from data_gradients import ClassificationAnalysisManager
from data_gradients.demo.classification_data import (
    CLASSIFICATION_CLASS_NAMES,
    classification_demo_loaders,
    near_copy_of,
    quality_problem,
    render_classification_sample,
)


def test_designed_copies_and_quality_changes():
    assert [i for i in range(300) if near_copy_of("train", i) is not None] == [60, 157, 254]
    assert near_copy_of("train", 157) == 99 and near_copy_of("val", 30) == 5 and near_copy_of("val", 7) is None
    copy, source = render_classification_sample(0, "train", 157)[0], render_classification_sample(0, "train", 99)[0]
    assert not np.array_equal(copy, source) and np.abs(copy.astype(int) - source).mean() < 10  # JPEG q75
    assert [quality_problem("train", i) for i in (104, 109, 111)] == ["dark", "blurry", "grayscale"]
    assert quality_problem("train", 20) is None  # a source of val copies keeps its pixels
    assert quality_problem("train", 133) == "overexposed" and quality_problem("val", 50) == "overexposed"
    washed = render_classification_sample(0, "train", 133)[0]
    assert washed.min() >= 243
    grey = render_classification_sample(0, "val", 40)[0]
    assert np.array_equal(grey[:, :, 0], grey[:, :, 1]) and np.array_equal(grey[:, :, 1], grey[:, :, 2])


def test_report_shows_every_designed_finding(tmp_path):
    train, val = classification_demo_loaders(n_train=160, n_val=70, batch_size=32)
    report = ClassificationAnalysisManager(train, val, num_classes=10, class_names=CLASSIFICATION_CLASS_NAMES,
                                           log_dir=tmp_path, verbose=False, samples_to_visualize=0,
                                           features=["duplicates", "near_duplicates", "image_quality"]).run()
    found = {f.key: f for f in report.findings}
    groups = [r[3] for r in next(t for t in report["near_duplicates"].tables if t.key == "near_duplicate_groups").rows]
    assert {"2, 60", "99, 157", "0, 50", "101, 151"} <= set(groups)
    leaks = {r[1]: r[2] for r in next(t for t in report["near_duplicates"].tables if t.key == "near_leakage").rows}
    assert leaks[30] == 5 and leaks[7] == 0 and leaks[60] == 1  # the near leak, and the exact ones
    assert found["train_leakage"].sample_ids["val"] == [7, 60]  # exact leaks stay reported on their own
    assert 104 in found["dark_images"].sample_ids["train"] and found["dark_images"].sample_ids["val"] == [25]
    assert found["blurry_images"].sample_ids == {"train": [109], "val": [20]}
    assert found["grayscale_images"].sample_ids == {"train": [111], "val": [40]}
    assert found["overexposed_images"].sample_ids == {"train": [133], "val": [50]}
