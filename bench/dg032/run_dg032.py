"""data-gradients 0.3.2 on its own benchmark, on the same data as our bench/bench_analysis.py (legacy suite).

Run with the 0.3.2 virtualenv (``bash bench/dg032/make_venv.sh`` builds one in /tmp/dg032venv);
``bench_analysis.py --suites legacy --dg032 /tmp/dg032venv/bin/python`` runs it beside ours:

    /tmp/dg032venv/bin/python bench/dg032/run_dg032.py --task segmentation|detection|classification --n 2000

0.3.2's benchmark: 256x256 RGB images, N train + N/5 val, 10 classes, batch 8, a torch DataLoader
(num_workers=0) over tensors in memory; every default feature of 0.3.2 and its default outputs
(Report.pdf + summary.json [+ errors.json]) into a temporary log_dir; nothing asked on stdin (every
question 0.3.2 could ask is answered by constructor arguments, and stdin is /dev/null so that a question
not foreseen fails instead of hanging).

The samples: those of bench_analysis.py's ``sample()`` / ``PoolDataset`` (N samples going round a pool of
16 decoded samples per split). ``sample()`` imports our own package's generators
(``data_gradients.demo.*``), which this venv cannot import (here ``data_gradients`` is 0.3.2), so the three
generator modules are loaded from their source files in this checkout (``--ours``) and registered under
their own names (0.3.2 has no ``data_gradients.demo``), with their two imports of our package (an
exception class and a tuple of box formats, used only by code paths the generators do not take) replaced
by local definitions: the very same code, not a copy that could drift.
Detection labels: our ``(n, 5)`` float32 rows ``class, x1, y1, x2, y2`` in pixels, zero-padded per batch
to a ``(B, P, 5)`` tensor (0.3.2's detection format; all-zero rows are dropped by 0.3.2 as padding).
One change to the data: our generator's deliberately corrupt NaN boxes (pool samples 7 of train and of val,
one box each) are removed, since 0.3.2 casts coordinates to int (NaN -> -2**63) and then tries to allocate
>20 GB. The other corruptions (an empty sample, a zero-width box, a box outside the image) are kept.

Prints one JSON line: task, n, run_s (manager.run()), total_s (construction + run()), images, and also the
features 0.3.2 reported as failed (its summary.json "errors") and the report files written.
Threads: one torch and one OpenCV thread (as bench_analysis.py's children); --threads 0 leaves the defaults.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
import types
from pathlib import Path

SIZE = (256, 256)
NUM_CLASSES = 10
BATCH = 8

# imports of our package inside the generator modules -> local stand-ins (used only off the generators' paths)
_REPLACE = {
    "from data_gradients.errors import ConfigurationError": "class ConfigurationError(ValueError):\n    pass",
    "from data_gradients.batch.boxes import BBOX_FORMATS": 'BBOX_FORMATS = ("xyxy", "xywh", "cxcywh")',
}


def load_generator(ours: Path, name: str) -> types.ModuleType:
    """Our data_gradients/demo/<name>.py, loaded from source without importing our package."""
    path = ours / "data_gradients" / "demo" / f"{name}.py"
    src = path.read_text()
    for old, new in _REPLACE.items():
        src = src.replace(old, new)
    left = re.findall(r"^\s*(?:from|import) data_gradients\b.*$", src, flags=re.M)
    if left:
        raise SystemExit(f"{path} imports more of our package than this script replaces: {left}")
    mod = types.ModuleType(f"data_gradients.demo.{name}")  # 0.3.2 has no data_gradients.demo: no clash
    mod.__file__ = str(path)
    sys.modules[mod.__name__] = mod  # where bench_analysis.sample()'s imports (and dataclasses) look it up
    exec(compile(src, str(path), "exec"), mod.__dict__)
    return mod


def use_our_generators(ours: Path) -> None:
    """Our three generator modules, loaded from source and registered as ``data_gradients.demo.*``, so that
    ``bench_analysis.sample()`` imports them here although ``data_gradients`` itself is 0.3.2."""
    for name in ("datasets", "detection_data", "classification_data"):
        load_generator(ours, name)


def without_nan_boxes(sample, dropped: list):
    """``sample`` with the detection boxes that have a NaN coordinate taken out (counted in ``dropped``):
    0.3.2 casts boxes to int, a NaN becomes -2**63, and one of its features then allocates >20 GB."""
    import numpy as np

    def filtered(task: str, i: int, split: str, size, num_classes: int):
        img, label = sample(task, i, split, size, num_classes)
        if task == "detection":
            finite = np.isfinite(label).all(axis=1)
            dropped.append(int((~finite).sum()))
            label = label[finite]
        return img, label

    return filtered


def padded_detection_collate(batch):
    """(B, 3, H, W) uint8 images and (B, P, 5) float32 boxes ``class, x1, y1, x2, y2``, zero-padded to the
    batch's largest box count (0.3.2's grouped detection format)."""
    import torch

    images = torch.stack([b[0] for b in batch])
    p = max(int(b[1].shape[0]) for b in batch)
    labels = torch.zeros((len(batch), p, 5), dtype=torch.float32)
    for k, (_, rows) in enumerate(batch):
        labels[k, : rows.shape[0]] = rows
    return images, labels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", required=True, choices=["segmentation", "detection", "classification"])
    parser.add_argument("--n", type=int, default=2000, help="train images (val: n // 5)")
    parser.add_argument("--ours", default=str(Path(__file__).resolve().parents[2]),
                        help="checkout of our project (its demo generators); default: the one holding this script")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch and OpenCV threads (bench_analysis.py's children: 1); 0: library defaults")
    parser.add_argument("--keep", default="", help="write 0.3.2's outputs here (kept) instead of a temp dir")
    parser.add_argument("--quiet", action="store_true", help="send 0.3.2's own prints (stdout) to stderr")
    parser.add_argument("--max-gb", type=float, default=16.0,
                        help="address-space limit of this process (a runaway allocation fails instead of OOM-killing)")
    args = parser.parse_args()
    if args.max_gb:
        import resource

        limit = int(args.max_gb * 2 ** 30)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    os.environ.setdefault("MPLBACKEND", "Agg")
    sys.stdin = open(os.devnull)  # an unforeseen question of 0.3.2 then fails instead of waiting

    import torch
    from torch.utils.data import DataLoader

    if args.threads:
        import cv2

        torch.set_num_threads(args.threads)
        cv2.setNumThreads(args.threads)

    from data_gradients.utils.data_classes.image_channels import ImageChannels

    import data_gradients

    assert data_gradients.__version__ == "0.3.2", (data_gradients.__version__, data_gradients.__file__)

    task, n = args.task, args.n
    sys.path.insert(0, str(Path(args.ours) / "bench"))
    from bench_analysis import PoolDataset, sample  # the module imports nothing of our package at import time

    use_our_generators(Path(args.ours))
    dropped: list = []
    sample = without_nan_boxes(sample, dropped)
    datasets = [PoolDataset(task, m, s, SIZE, NUM_CLASSES, sample_fn=sample) for m, s in ((n, "train"), (n // 5, "val"))]
    collate = padded_detection_collate if task == "detection" else None
    loaders = [DataLoader(ds, batch_size=BATCH, shuffle=False, num_workers=0, collate_fn=collate) for ds in datasets]
    images = sum(len(ds) for ds in datasets)

    # every answer 0.3.2 could ask for on stdin, given up front
    common = dict(
        report_title=f"dg032 {task} benchmark",
        train_data=loaders[0],
        val_data=loaders[1],
        n_classes=NUM_CLASSES,
        images_extractor="[0]",
        labels_extractor="[1]",
        is_batch=True,
        image_channels=ImageChannels.from_str("RGB"),
    )
    if task == "segmentation":
        from data_gradients.managers.segmentation_manager import SegmentationAnalysisManager as Manager
    elif task == "detection":
        from data_gradients.managers.detection_manager import DetectionAnalysisManager as Manager

        common.update(is_label_first=True, bbox_format="xyxy")
    else:
        from data_gradients.managers.classification_manager import ClassificationAnalysisManager as Manager

    real_stdout = sys.stdout
    with tempfile.TemporaryDirectory() as tmp:
        log_dir = args.keep or tmp
        if args.quiet:
            sys.stdout = sys.stderr
        try:
            t0 = time.perf_counter()
            manager = Manager(log_dir=log_dir, **common)
            t1 = time.perf_counter()
            manager.run()
            t2 = time.perf_counter()
        finally:
            sys.stdout = real_stdout
        summary = json.loads(Path(manager.summary_writer.summary_archive_path).read_text())
        report = Path(manager.summary_writer.report_archive_path)
        out = {
            "task": task, "n": n, "run_s": round(t2 - t1, 3), "total_s": round(t2 - t0, 3), "images": images,
            "failed": [e["title"] for e in summary.get("errors", [])],
            "dropped_nan_boxes_in_pool": sum(dropped),
            "features": len(summary.get("features", [])),
            "report_pdf_bytes": report.stat().st_size if report.exists() else 0,
            "outputs": sorted(p.name for p in Path(log_dir).rglob("*") if p.is_file()),
        }
    print(json.dumps(out), file=real_stdout, flush=True)


if __name__ == "__main__":
    main()
