"""Speed and memory of a full analysis, per task, on synthetic data.

For each task, N in (500, 2000) train plus N/5 val, and two data forms:
- memory: a Dataset serving tensors held in memory (a pool of pre-generated samples,
  so the data itself does not grow with N): measures the analysis alone;
- files: JPEG images and PNG masks on disk decoded by a torch Dataset (what users live with).
Each configuration runs in a fresh process so peak RSS is its own. Printed per row:
images/s of iterating the loader alone (a) and of the full run() (b), the analysis
overhead in ms per image ((b - a) / images, with b = iteration + compute, writing
excluded), the literal (b_total - a) / images including writing, the time spent writing
all outputs, and the process's peak RSS.

Usage: python bench/bench_analysis.py [--tasks segmentation] [--sizes 500 2000] [--forms memory files]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

POOL = 64


# ------------------------------------------------------------------ data per task
def segmentation_setup(n: int, split: str, form: str, root: Path):
    import torch

    from data_gradients.demo.datasets import SyntheticSegmentationDataset

    if form == "memory":
        # uint8 images and masks, as decoded files would be: the pool itself stays small (~17 MB)
        source = SyntheticSegmentationDataset(n, split=split, size=(256, 256), num_classes=10, seed=0,
                                              image_format="chw_uint8")
        pool = [(img, mask.to(torch.uint8)) for img, mask in (source[i] for i in range(min(POOL, n)))]
        dataset = PoolDataset(pool, n)
    else:
        source = SyntheticSegmentationDataset(n, split=split, size=(256, 256), num_classes=10, seed=0)
        dataset = FileSegmentationDataset(write_files(source, n, root / split))
    manager_kwargs = dict(num_classes=10, ignore_labels=[0])
    return dataset, manager_kwargs


def detection_setup(n: int, split: str, form: str, root: Path):
    import numpy as np
    import torch

    from data_gradients.demo.detection_data import SyntheticDetectionDataset

    source = SyntheticDetectionDataset(n, split=split, seed=0)
    pool = []  # uint8 images, as decoded files would be: the pool itself stays small
    for i in range(min(POOL, n)):
        img, rows = source.render(i)
        pool.append((torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1))), torch.from_numpy(rows)))
    if form == "memory":
        dataset = PoolDataset(pool, n)
    else:
        folder = root / split
        folder.mkdir(parents=True, exist_ok=True)
        import cv2

        for i in range(n):
            img, boxes = pool[i % len(pool)]
            rgb = img.numpy().transpose(1, 2, 0)
            cv2.imwrite(str(folder / f"{i:06d}.jpg"), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
            np.save(folder / f"{i:06d}.npy", np.asarray(boxes, dtype=np.float32))
        dataset = FileDetectionDataset(folder)
    return dataset, dict(num_classes=10, bbox_format="xyxy", normalized_boxes=False, collate_fn=list_collate)


def classification_setup(n: int, split: str, form: str, root: Path):
    import torch

    from data_gradients.demo.classification_data import SyntheticClassificationDataset

    source = SyntheticClassificationDataset(n, split=split, seed=0)
    pool = []
    for i in range(min(POOL, n)):
        img, label = source[i]
        pool.append(((img * 255).round().to(torch.uint8) if img.is_floating_point() else img, label))
    if form == "memory":
        dataset = PoolDataset(pool, n)
    else:
        import cv2

        folder = root / split
        folder.mkdir(parents=True, exist_ok=True)
        labels = []
        for i in range(n):
            img, label = pool[i % len(pool)]
            cv2.imwrite(str(folder / f"{i:06d}.png"), cv2.cvtColor(img.numpy().transpose(1, 2, 0), cv2.COLOR_RGB2BGR))
            labels.append(int(label))
        dataset = FileClassificationDataset(folder, labels)
    return dataset, dict(num_classes=10)


def list_collate(batch):
    """Images stacked, boxes kept as a list of per-image (n, 5) tensors."""
    import torch

    return torch.stack([b[0] for b in batch]), [b[1] for b in batch]


TASKS = {
    "segmentation": ("SegmentationAnalysisManager", segmentation_setup),
    "detection": ("DetectionAnalysisManager", detection_setup),
    "classification": ("ClassificationAnalysisManager", classification_setup),
}
BATCH_SIZE = {"segmentation": 8, "detection": 8, "classification": 64}


class PoolDataset:
    """n samples served from a fixed pool of tensors held in memory."""

    def __init__(self, pool, n):
        self.pool, self.n = pool, n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return self.pool[i % len(self.pool)]


def write_files(source, n: int, folder: Path) -> Path:
    import cv2
    import numpy as np

    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        img, mask = source[i]
        rgb = (np.nan_to_num(img.numpy().transpose(1, 2, 0)) * 255).round().astype(np.uint8)
        cv2.imwrite(str(folder / f"{i:06d}.jpg"), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
        cv2.imwrite(str(folder / f"{i:06d}.png"), mask.numpy().astype(np.uint8))
    return folder


class FileSegmentationDataset:
    """Decodes JPEG images and PNG masks from a folder."""

    def __init__(self, folder: Path):
        self.images = sorted(folder.glob("*.jpg"))

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        import cv2
        import torch

        path = self.images[i]
        rgb = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
        mask = cv2.imread(str(path.with_suffix(".png")), cv2.IMREAD_UNCHANGED)
        return torch.from_numpy(rgb).permute(2, 0, 1), torch.from_numpy(mask.astype("int64"))


class FileDetectionDataset:
    """Decodes JPEG images; boxes (class, x1, y1, x2, y2) from .npy files."""

    def __init__(self, folder: Path):
        self.images = sorted(folder.glob("*.jpg"))

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        import cv2
        import numpy as np
        import torch

        path = self.images[i]
        rgb = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
        return torch.from_numpy(rgb).permute(2, 0, 1), torch.from_numpy(np.load(path.with_suffix(".npy")))


class FileClassificationDataset:
    """Decodes PNG images; labels from a list."""

    def __init__(self, folder: Path, labels):
        self.images, self.labels = sorted(folder.glob("*.png")), labels

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        import cv2
        import torch

        rgb = cv2.cvtColor(cv2.imread(str(self.images[i])), cv2.COLOR_BGR2RGB)
        return torch.from_numpy(rgb).permute(2, 0, 1), self.labels[i]


# ------------------------------------------------------------------------ a child
def child(task: str, form: str, n: int) -> dict:
    import torch
    from torch.utils.data import DataLoader

    import data_gradients

    torch.set_num_threads(1)
    manager_name, setup = TASKS[task]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        train_ds, kwargs = setup(n, "train", form, root)
        val_ds, _ = setup(n // 5, "val", form, root)
        collate = kwargs.pop("collate_fn", None)
        loaders = [DataLoader(ds, batch_size=BATCH_SIZE[task], shuffle=False, num_workers=0, collate_fn=collate)
                   for ds in (train_ds, val_ds)]
        images = len(train_ds) + len(val_ds)
        t = time.perf_counter()
        for loader in loaders:
            for _ in loader:
                pass
        iterate_s = time.perf_counter() - t
        manager = getattr(data_gradients, manager_name)(
            loaders[0], loaders[1], log_dir=root / "logs", verbose=False, samples_to_visualize=10, **kwargs)
        t = time.perf_counter()
        report = manager.run()
        total_s = time.perf_counter() - t
    return {
        "task": task, "form": form, "n": n, "images": images, "iterate_s": iterate_s,
        "run_s": report.duration_s, "write_s": report.write_s, "total_s": total_s,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "failed": sorted(report.failed_features), "warnings": report.warnings,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS))
    parser.add_argument("--sizes", nargs="+", type=int, default=[500, 2000])
    parser.add_argument("--forms", nargs="+", default=["memory", "files"], choices=["memory", "files"])
    parser.add_argument("--child", nargs=3, metavar=("TASK", "FORM", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        task, form, n = args.child
        print(json.dumps(child(task, form, int(n))))
        return
    header = (f"{'task':13s} {'form':6s} {'N':>5s} {'images':>6s} {'loader img/s':>12s} {'run img/s':>9s} "
              f"{'overhead ms/img':>15s} {'incl. write':>11s} {'write s':>7s} {'peak RSS MB':>11s}")
    print(header)
    print("-" * len(header))
    rows = []
    for task in args.tasks:
        for form in args.forms:
            for n in args.sizes:
                out = subprocess.run([sys.executable, __file__, "--child", task, form, str(n)], capture_output=True,
                                     text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
                if out.returncode != 0:
                    print(f"{task} {form} {n}: FAILED\n{out.stderr[-2000:]}")
                    continue
                r = json.loads(out.stdout.strip().splitlines()[-1])
                rows.append(r)
                a, b = r["iterate_s"], r["run_s"]
                print(f"{task:13s} {form:6s} {n:5d} {r['images']:6d} {r['images'] / a:12.0f} {r['images'] / b:9.0f} "
                      f"{(b - a) / r['images'] * 1e3:15.2f} {(r['total_s'] - a) / r['images'] * 1e3:11.2f} "
                      f"{r['write_s']:7.2f} {r['peak_rss_mb']:11.0f}"
                      + (f"  failed: {r['failed']}" if r["failed"] else "") + (f"  {r['warnings']}" if r["warnings"] else ""))
    for task in args.tasks:
        for form in args.forms:
            rss = {r["n"]: r["peak_rss_mb"] for r in rows if r["task"] == task and r["form"] == form}
            if len(rss) >= 2:
                lo, hi = min(rss), max(rss)
                print(f"{task} {form}: peak RSS growth N={lo} -> N={hi}: {rss[hi] - rss[lo]:+.0f} MB")


if __name__ == "__main__":
    main()
