"""The heap trimmer hands memory back every N batches, and is harmless without glibc; the reader lets go
of each batch before the loader makes the next."""
import weakref

import pytest
import torch
from conftest import classification_raw_batches, detection_raw_batches, segmentation_raw_batches
from torch.utils.data import DataLoader, Dataset
from torch.utils.data._utils.collate import default_collate

import data_gradients
from data_gradients.managers.memory import MIN_MARGIN_BYTES, HeapTrimmer, _load_trim, resident_bytes


def test_trims_once_the_resident_size_grew_by_two_of_the_largest_batches():
    mb = 1 << 20
    sizes = iter([100, 90, 120, 139, 141, 95, 96, 150, 135, 140, 146, 160])  # MB, as read one after the other
    calls = []
    trimmer = HeapTrimmer(rss=lambda: next(sizes) * mb)
    trimmer._trim = lambda pad: calls.append(pad) or 1
    for batch_mb in (20, 20, 20, 20, 10, 10, 10, 10, 10):
        trimmer.tick(batch_mb * mb)
    # margin 40 MB (two batches of 20); floor 100, then 90 (the lowest); 120 is within 40 of it, 139 is not:
    # trim, and the size read again (141) is the floor until 95 is read; 96 stays; 150 > 95 + 40: trim (read
    # again: 135); 140 and 146 are within 40 (the margin stays that of the largest batch)
    assert calls == [0, 0] and trimmer.trims == 2 and trimmer.margin == 40 * mb
    small = HeapTrimmer(rss=lambda: 100 * mb)
    small.tick(1 * mb)
    assert small.margin == MIN_MARGIN_BYTES  # small batches: the floor of the margin


def test_the_margin_grows_with_the_batches_alive_at_once():
    from data_gradients.managers.pipeline import Pipeline

    mb = 1 << 20
    trimmer = HeapTrimmer(rss=lambda: 100 * mb, in_flight=3)
    trimmer.tick(20 * mb)
    assert trimmer.margin == 2 * 3 * 20 * mb
    assert Pipeline([object()]).batches_in_flight == 1  # in the calling thread: the batch read
    threads = Pipeline([object(), object()])
    try:
        assert threads.batches_in_flight == 1 + 2 + 2  # read, queued (2) and in two worker threads
    finally:
        threads.close()


def test_without_the_resident_size_trims_every_n_batches():
    calls = []
    trimmer = HeapTrimmer(every=3, rss=lambda: None)
    trimmer._trim = lambda pad: calls.append(pad) or 1
    for _ in range(10):
        trimmer.tick()
    assert calls == [0, 0, 0]


def test_without_a_trim_function_tick_does_nothing():
    trimmer = HeapTrimmer(every=1)
    trimmer._trim = None
    trimmer.tick()  # no error
    assert trimmer._count == 1 and trimmer.trims == 0


def test_the_resident_size_is_read_on_linux():
    import platform

    size = resident_bytes()
    if platform.system() == "Linux":
        assert size is not None and 10 << 20 < size < 100 << 30


def test_glibc_trim_is_found_on_linux():
    import platform

    trim = _load_trim()
    if platform.system() == "Linux" and platform.libc_ver()[0] == "glibc":
        assert trim is not None and trim(0) in (0, 1)


# ---------------------------------------------------------------- the reader lets go of each batch

RAW = {"segmentation": segmentation_raw_batches, "detection": detection_raw_batches,
       "classification": classification_raw_batches}
KW = {"segmentation": dict(ignore_labels=[255]), "detection": dict(bbox_format="xyxy", normalized_boxes=False),
      "classification": {}}


class LetGo:
    """Checks, whenever a new batch is made, that the previous one is no longer referenced: a batch
    held while the loader makes the next one keeps its memory from being reused for it."""

    def __init__(self):
        self.previous, self.made, self.alive_at = None, 0, []

    def made_one(self, images) -> None:
        if self.previous is not None and self.previous() is not None:
            self.alive_at.append(self.made)
        self.previous, self.made = weakref.ref(images), self.made + 1


def fresh_batches(raw, check: LetGo):
    for images, labels in raw:
        images = (images * 255).to(torch.uint8)  # uint8: read in place, no converted copy
        check.made_one(images)
        item = (images, labels.clone())
        del images, labels
        yield item
        del item


@pytest.mark.parametrize("task", ["segmentation", "detection", "classification"])
def test_every_default_feature_lets_go_of_a_batch_before_the_next_is_made(task, tmp_path):
    train, val = LetGo(), LetGo()
    manager = getattr(data_gradients, f"{task.capitalize()}AnalysisManager")
    report = manager(fresh_batches(RAW[task](), train), fresh_batches(RAW[task](seed=1), val), num_classes=4,
                     log_dir=tmp_path, verbose=False, writers=[], workers=1, **KW[task]).run()
    assert not report.failed_features
    assert train.made == 6 and val.made == 6
    assert train.alive_at == [] and val.alive_at == []


class Images(Dataset):
    def __len__(self):
        return 24

    def __getitem__(self, i):
        return torch.full((3, 8, 8), i, dtype=torch.uint8), i % 4


def test_a_dataloaders_batch_is_let_go_before_the_next_is_collated(tmp_path):
    check = LetGo()

    def collate(samples):
        batch = default_collate(samples)
        check.made_one(batch[0])
        return batch

    loader = DataLoader(Images(), batch_size=4, collate_fn=collate)
    data_gradients.ClassificationAnalysisManager(loader, num_classes=4, log_dir=tmp_path, verbose=False, writers=[],
                                                 workers=1).run()
    assert check.made == 6 and check.alive_at == []


def test_a_batch_held_over_is_seen(tmp_path):
    """The check itself: a loader whose batches are all kept (a list) shows every one alive."""
    check, kept = LetGo(), []

    def keep(batches):
        for b in batches:
            kept.append(b)
            yield b

    data_gradients.ClassificationAnalysisManager(keep(fresh_batches(RAW["classification"](), check)), num_classes=4,
                                                 log_dir=tmp_path, verbose=False, writers=[], workers=1).run()
    assert check.alive_at == [1, 2, 3, 4, 5]


def test_release_free_heap_trims_everything_now(monkeypatch):
    import data_gradients.managers.memory as memory

    calls = []
    monkeypatch.setattr(memory, "_load_trim", lambda: calls.append)
    assert memory.release_free_heap() is True and calls == [0]
    monkeypatch.setattr(memory, "_load_trim", lambda: None)  # not glibc
    assert memory.release_free_heap() is False


def test_a_run_hands_back_free_memory_after_reading_and_before_writing(monkeypatch, tmp_path):
    """Once the batches are read, their free heap pages go back; and again before the writers add theirs."""
    import data_gradients.managers.base as base
    from data_gradients.managers.reading import SplitReader
    from data_gradients.reports.json_writer import JsonWriter

    events = []
    read, write_all = SplitReader.read, base.write_all
    monkeypatch.setattr(SplitReader, "read",
                        lambda self, split, *a, **k: events.append(f"read {split}") or read(self, split, *a, **k))
    monkeypatch.setattr(base, "release_free_heap", lambda: events.append("trim") or True)
    monkeypatch.setattr(base, "write_all", lambda *a, **k: events.append("write") or write_all(*a, **k))
    data_gradients.ClassificationAnalysisManager(
        classification_raw_batches(0), classification_raw_batches(1), num_classes=4, log_dir=str(tmp_path),
        verbose=False, workers=1, writers=[JsonWriter()]).run()
    assert events == ["read train", "read val", "trim", "trim", "write"]
