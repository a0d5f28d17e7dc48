"""What each process of the torch.distributed tests runs (importable by spawned children).

``rank_main`` joins a gloo group on 127.0.0.1, runs the scenarios one after the other in
that group, and pickles each outcome (the report's numbers, or the error) to
``out_dir/rank{r}.pkl`` for the test to compare.
"""
from __future__ import annotations

import os
import pickle
from datetime import timedelta
from pathlib import Path

import numpy as np
import torch

N_SAMPLES = 21  # odd: a DistributedSampler over two ranks pads rank 1 with a repeat
FAIL_AT = 9  # dataset index whose loading raises in the "loader_fails" scenario


def datasets(task: str):
    """(train dataset, val dataset, collate_fn, manager name, manager kwargs) for ``task``."""
    from data_gradients.demo.classification_data import SyntheticClassificationDataset
    from data_gradients.demo.datasets import SyntheticSegmentationDataset
    from data_gradients.demo.detection_data import SyntheticDetectionDataset, detection_collate

    if task == "segmentation":
        make = lambda n, split: SyntheticSegmentationDataset(n, split=split, size=(32, 48), corrupt=True)  # noqa: E731
        return make(N_SAMPLES, "train"), make(9, "val"), None, "SegmentationAnalysisManager", dict(num_classes=6)
    if task == "detection":
        make = lambda n, split: SyntheticDetectionDataset(n, split=split, size=(48, 64), corrupt=True)  # noqa: E731
        kw = dict(num_classes=10, bbox_format="xyxy", normalized_boxes=False)
        return make(N_SAMPLES, "train"), make(9, "val"), detection_collate, "DetectionAnalysisManager", kw
    make = lambda n, split: SyntheticClassificationDataset(n, split=split, size=(24, 24))  # noqa: E731
    return make(N_SAMPLES, "train"), make(9, "val"), None, "ClassificationAnalysisManager", dict(num_classes=10)


class FailingAt(torch.utils.data.Dataset):
    def __init__(self, dataset, index: int):
        self.dataset, self.index = dataset, index

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, i):
        if i == self.index:
            raise OSError(f"cannot read sample {i}")
        return self.dataset[i]


class InterruptedAt(FailingAt):
    def __getitem__(self, i):
        if i == self.index:
            raise KeyboardInterrupt
        return self.dataset[i]


class AsDicts(torch.utils.data.Dataset):
    def __init__(self, dataset):
        self.dataset = dataset

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, i):
        image, label = self.dataset[i]
        return {"pixels": image, "target": {"cls": label}}


def loaders(task: str, distributed: bool, wrap=None):
    from torch.utils.data import DataLoader
    from torch.utils.data.distributed import DistributedSampler

    train, val, collate, _, _ = datasets(task)
    if wrap is not None:
        train, val = wrap(train), wrap(val)
    out = []
    for ds in (train, val):
        sampler = DistributedSampler(ds, shuffle=True, seed=3) if distributed else None
        out.append(DataLoader(ds, batch_size=4, sampler=sampler, collate_fn=collate))
    return out


def report_tree(report) -> dict:
    """Every number, finding (with sample ids) and sample picture of a report, plus its counts."""
    from data_gradients.reports.json_writer import to_jsonable

    out = {}
    for name, result in report.results.items():
        t = to_jsonable(result)
        t["images"] = [{s: [np.asarray(i).tolist() for i in imgs] for s, imgs in g.images.items()}
                       for g in result.images]
        out[name] = t
    out["splits"] = {s: (v.samples, v.batches, v.complete) for s, v in report.splits.items()}
    out["partial_reason"] = report.partial_reason
    return out


def run_task(task: str, log_dir: Path, distributed, wrap=None, **kw):
    import data_gradients

    train, val = loaders(task, distributed=bool(distributed), wrap=wrap)
    _, _, _, manager, task_kw = datasets(task)
    manager = getattr(data_gradients, manager)
    return manager(train, val, log_dir=log_dir, verbose=False, workers=1, samples_to_visualize=3,
                   distributed=distributed, timeout=60, **task_kw, **kw).run()


def scenario(name: str, log_dir: Path):
    if name in ("segmentation", "detection", "classification"):
        report = run_task(name, log_dir / name, distributed=True)
        return report_tree(report), sorted(str(p) for p in report.outputs.values())
    if name == "loader_fails":
        rank = torch.distributed.get_rank()
        wrap = (lambda ds: FailingAt(ds, FAIL_AT)) if rank == 1 else None
        return run_task("classification", log_dir / name, distributed=True, wrap=wrap)
    if name == "interrupted":
        rank = torch.distributed.get_rank()
        wrap = (lambda ds: InterruptedAt(ds, FAIL_AT)) if rank == 1 else None
        return report_tree(run_task("classification", log_dir / name, distributed=True, wrap=wrap))
    if name == "dict_answer_from_rank_0":  # only rank 0 has an answer stored: rank 1 must use it
        if torch.distributed.get_rank() == 0:
            from data_gradients.batch.resolver_cache import ResolverCache, structure_signature

            batch = next(iter(loaders("classification", distributed=True, wrap=AsDicts)[0]))
            key, structure = structure_signature(batch, "classification")
            ResolverCache().put(key, images="pixels", labels="target.cls", task="classification", structure=structure)
        return report_tree(run_task("classification", log_dir / name, distributed=True, wrap=AsDicts))
    if name == "dict_without_terminal":
        return run_task("classification", log_dir / name, distributed=True, wrap=AsDicts)
    raise ValueError(name)


def rank_main(rank: int, world: int, port: int, out_dir: str, scenarios) -> None:
    os.environ["DATA_GRADIENTS_CACHE_DIR"] = str(Path(out_dir) / f"cache{rank}")
    torch.distributed.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank,
                                         world_size=world, timeout=timedelta(seconds=60))
    outcomes = {}
    try:
        for name in scenarios:
            try:
                outcomes[name] = ("ok", scenario(name, Path(out_dir) / "logs"))
            except Exception as e:  # the test reads the error
                outcomes[name] = ("error", type(e).__name__, str(e), repr(e.__cause__))
    finally:
        with open(Path(out_dir) / f"rank{rank}.pkl", "wb") as f:
            pickle.dump(outcomes, f)
        torch.distributed.destroy_process_group()
