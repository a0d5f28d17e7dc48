import torch
from torch.utils.data import DataLoader, Dataset, Subset

from data_gradients import ClassificationAnalysisManager
from data_gradients.datasets import collate_classification
from data_gradients.managers.sample_paths import sample_path_lookup


class Files(Dataset):
    """A user's dataset that knows its files: sample 2 and 5 have no pixel (unreadable)."""

    def __len__(self):
        return 8

    def __getitem__(self, i):
        g = torch.Generator().manual_seed(i)
        image = torch.zeros((0, 0, 3), dtype=torch.uint8) if i in (2, 5) else torch.randint(0, 256, (6, 7, 3), generator=g,
                                                                                            dtype=torch.uint8)
        return image, i % 2

    def sample_path(self, i):
        return f"/data/img_{i}.png"


def _run(tmp_path, data):
    return ClassificationAnalysisManager(data, num_classes=2, writers=[], log_dir=tmp_path, verbose=False,
                                         samples_to_visualize=3).run()


def _unreadable(report):
    return next(f for f in report.results["data_quality"].findings if f.key == "unreadable")


def test_paths_of_a_user_dataset_beside_the_ids(tmp_path):
    report = _run(tmp_path, DataLoader(Files(), batch_size=3, collate_fn=collate_classification))
    finding = _unreadable(report)
    assert finding.sample_ids == {"train": [2, 5]}
    assert finding.sample_paths == {"train": ["/data/img_2.png", "/data/img_5.png"]}
    assert "dataset_files" not in report.results  # not one of our readers: no bad files to list


class Boxes(Files):
    def __getitem__(self, i):
        image = torch.full((3, 12, 16), 10 * i, dtype=torch.uint8)
        return image, torch.tensor([[i % 2, 1.0, 1.0, 8.0, 9.0]])


def test_sample_pictures_name_their_files(tmp_path):
    from data_gradients import DetectionAnalysisManager
    from data_gradients.datasets import collate_list

    report = DetectionAnalysisManager(DataLoader(Boxes(), batch_size=3, collate_fn=collate_list), num_classes=2,
                                      bbox_format="xyxy", normalized_boxes=False, writers=[], log_dir=tmp_path,
                                      verbose=False, samples_to_visualize=3).run()
    captions = report.results["detection_samples"].images[0].captions["train"]
    assert len(captions) == 3
    for caption in captions:
        number = int(caption.split()[1])
        assert caption == f"sample {number} img_{number}.png"


def test_subsets_are_followed_to_the_files(tmp_path):
    subset = Subset(Files(), [7, 5, 3, 2])
    report = _run(tmp_path, DataLoader(subset, batch_size=2, collate_fn=collate_classification))
    finding = _unreadable(report)
    assert finding.sample_ids == {"train": [1, 3]}  # ids are indices of the loader's dataset (the Subset)
    assert finding.sample_paths == {"train": ["/data/img_5.png", "/data/img_2.png"]}
    assert sample_path_lookup(DataLoader(Subset(subset, [1])))(0) == "/data/img_5.png"


def test_no_paths_when_ids_are_stream_positions(tmp_path):
    batches = list(DataLoader(Files(), batch_size=3, collate_fn=collate_classification))
    finding = _unreadable(_run(tmp_path, batches))
    assert finding.sample_ids == {"train": [2, 5]} and finding.sample_paths == {}
    assert sample_path_lookup(batches) is None
