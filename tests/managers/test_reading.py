"""Reading splits: a split's last batches may still be in analysis while the next split is read; its
progress bar closes once they are done."""
import pytest
from conftest import classification_raw_batches

import data_gradients
from data_gradients.errors import DataLoaderError
from data_gradients.managers import reading
from data_gradients.managers.reading import SplitReader
from data_gradients.reports.report import SplitSummary


class Bar:
    def __init__(self, total, desc, enabled):
        self.total, self.desc, self.n, self.closed = total, desc, 0, False

    def update(self, n):
        assert not self.closed, f"{self.desc}: updated after it was closed"
        self.n += n

    def refresh(self):
        pass

    def close(self):
        self.closed = True


class HeldPipeline:
    """Analyses nothing until drained: every batch is still in analysis when the reader moves on."""

    batches_in_flight = 1

    def __init__(self):
        self.held, self.drains = [], 0

    def submit(self, batch, split, on_done):
        self.held.append((split, len(batch), on_done))

    def drain(self):
        self.drains += 1
        for _, n, on_done in self.held:
            on_done(n)
        self.held = []


@pytest.fixture
def setup(monkeypatch, tmp_path):
    """(the progress bars opened, a reader of classification batches, a pipeline that holds every batch)."""
    bars = []
    monkeypatch.setattr(reading, "open_progress_bar", lambda **kw: bars.append(Bar(**kw)) or bars[-1])
    manager = data_gradients.ClassificationAnalysisManager(
        classification_raw_batches(0), None, num_classes=4, log_dir=str(tmp_path), verbose=False)
    return bars, SplitReader(manager.splitter, manager.builder, max_batches=None, progress=True), HeldPipeline()


def test_the_next_split_is_read_while_the_last_ones_batches_are_analysed(setup):
    bars, reader, pipeline = setup
    summaries = {s: SplitSummary(s) for s in ("train", "val")}
    reader.read("train", classification_raw_batches(0), pipeline, summaries["train"], set(), drain=False)
    reader.read("val", classification_raw_batches(1), pipeline, summaries["val"], set(), drain=False)
    assert pipeline.drains == 0 and {s for s, _, _ in pipeline.held} == {"train", "val"}
    assert [b.closed for b in bars] == [False, False] and [b.n for b in bars] == [0, 0]  # open, nothing analysed yet
    reader.drain(pipeline)
    assert pipeline.drains == 1 and [b.closed for b in bars] == [True, True]
    assert [b.n for b in bars] == [summaries["train"].samples, summaries["val"].samples] == [24, 24]


def test_by_default_a_split_is_analysed_whole_before_read_returns(setup):
    bars, reader, pipeline = setup
    reader.read("train", classification_raw_batches(0), pipeline, SplitSummary("train"), set())
    assert pipeline.drains == 1 and bars[0].closed and bars[0].n == 24


def test_a_run_drains_once_after_its_last_split(monkeypatch, tmp_path):
    drains = []
    drain = SplitReader.drain
    monkeypatch.setattr(SplitReader, "drain", lambda self, pipeline: drains.append(1) or drain(self, pipeline))
    report = data_gradients.ClassificationAnalysisManager(
        classification_raw_batches(0), classification_raw_batches(1), num_classes=4, log_dir=str(tmp_path),
        verbose=False, workers=2, writers=[]).run()
    assert drains == [1] and report.splits["train"].samples == report.splits["val"].samples == 24
    assert report.splits["train"].complete and report.splits["val"].complete


def test_an_error_in_the_next_split_closes_every_bar(setup):
    bars, reader, pipeline = setup

    def failing():
        yield classification_raw_batches(1)[0]
        raise OSError("disk gone")

    reader.read("train", classification_raw_batches(0), pipeline, SplitSummary("train"), set(), drain=False)
    with pytest.raises(DataLoaderError, match="disk gone"):
        reader.read("val", failing(), pipeline, SplitSummary("val"), set(), drain=False)
    assert [b.closed for b in bars] == [True, True]
