"""Cost of the fingerprint and manifest per image, and of exporting samples with overlays.

1. Fingerprint + manifest, one thread, 640x480 images (batches of 8, JPEG round trip):
   - detection with ~10 boxes per image (the issue's case);
   - segmentation with 19-class masks (the label bytes are 4 bytes a pixel: they cost more).
   Timed: ``duplicates.update`` alone and ``duplicates.update`` + ``fingerprint.update`` on the same
   batches (the image digest is computed once per batch and shared), per image; then the
   fingerprint's ``compute()`` and the manifest writer per image of the split. With
   ``--baseline PATH`` (a checkout before the fingerprint, e.g. ``git worktree add /tmp/base <commit>``)
   that version's ``duplicates.update`` is timed too, in alternating repetitions in this process, so
   the added cost is ``this (duplicates + fingerprint) - baseline (duplicates)``, side by side.
   Printed: the median over repetitions of ms per image in CPU time of the one working thread.
2. Export of 100 samples with overlays (image.png, overlay.png, meta.json each; COCO JSON for
   detection): detection 640x480 with ~10 boxes, segmentation 640x480; wall time (PNGs are encoded
   by two threads) and CPU time of all threads, median of 3.

Usage: python bench/bench_export.py [--baseline /tmp/base] [--reps 9] [--images 64]
"""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_image_features import Version, _jpeg, detection_pool  # noqa: E402

BATCH = 8
CACHE_KEYS = ("_image_digests",)


def segmentation_pool(n: int):
    """(uint8 (n, 3, 480, 640) images, uint8 (n, 480, 640) masks of 19 classes drawn as rectangles)."""
    from data_gradients.demo.detection_data import render_detection_sample

    images, masks = [], []
    for i in range(n):
        img, rows = render_detection_sample(0, "train", i, size=(480, 640), corrupt=False)
        mask = np.full((480, 640), i % 19, dtype=np.uint8)  # as decoded from a PNG
        for k, (c, x1, y1, x2, y2) in enumerate(rows.tolist()):
            cv2.rectangle(mask, (int(x1), int(y1)), (int(x2), int(y2)), (int(c) + 2 * k) % 19, -1)
        images.append(_jpeg(img))
        masks.append(mask)
    return torch.from_numpy(np.stack(images)), torch.from_numpy(np.stack(masks))


def canonical(task: str, raw, version: Version):
    """Canonical batches of ``raw`` built by ``version``'s builder, with consecutive ids."""
    version.activate()
    from data_gradients.batch import DetectionBatchBuilder, SegmentationBatchBuilder

    if task == "detection":
        builder = DetectionBatchBuilder(10, tuple(range(10)), (), bbox_format="xyxy", normalized_boxes=False)
    else:
        builder = SegmentationBatchBuilder(19, tuple(range(19)), (255,))
    images, labels = raw
    out = []
    for s in range(0, len(images), BATCH):
        out += builder.build(images[s:s + BATCH], labels[s:s + BATCH], first_sample_id=s)
    return out


def context(task: str, version: Version):
    version.activate()
    from data_gradients.context import AnalysisContext

    n = 10 if task == "detection" else 19
    return AnalysisContext(task=task, num_classes=n, class_ids=tuple(range(n)), class_names={}, samples_to_visualize=0)


def time_updates(extractors, batches, clock) -> float:
    for b in batches:  # a fresh batch for every repetition: nothing cached from the last one
        for key in CACHE_KEYS:
            b.__dict__.pop(key, None)
    t0 = clock()
    for b in batches:
        for ext in extractors:
            ext.update(b, "train")
    return clock() - t0


def bench_hashing(task: str, raw, versions, reps: int) -> None:
    clock = time.thread_time
    n = len(raw[0])
    setups = []  # (label, extractors factory, batches, version)
    for v in versions:
        batches = canonical(task, raw, v)
        ctx = context(task, v)
        dup = v.get("data_gradients.feature_extractors.common.duplicates", "Duplicates")
        setups.append((f"{v.label}: duplicates", lambda dup=dup, ctx=ctx: [dup(ctx)], batches, v))
        if v.label == "this":
            fpc = v.get("data_gradients.feature_extractors.common.fingerprint", "Fingerprint")
            setups.append((f"{v.label}: duplicates + fingerprint", lambda dup=dup, fpc=fpc, ctx=ctx: [dup(ctx), fpc(ctx)],
                           batches, v))
            setups.append((f"{v.label}: fingerprint alone", lambda fpc=fpc, ctx=ctx: [fpc(ctx)], batches, v))
    times = {label: [] for label, _, _, _ in setups}
    for r in range(reps + 1):
        order = setups if r % 2 == 0 else setups[::-1]
        for label, make, batches, v in order:
            v.activate()
            exts = make()
            t = time_updates(exts, batches, clock)
            if r > 0:  # the first repetition is a warm-up
                times[label].append(t / n * 1e3)
    print(f"\n{task} 640x480, {n} images in batches of {BATCH}, one thread, median of {reps} (ms per image, CPU)")
    med = {label: statistics.median(ts) for label, ts in times.items()}
    for label, m in med.items():
        print(f"  {label:42s} {m:7.3f}")
    if "baseline: duplicates" in med:
        added = med["this: duplicates + fingerprint"] - med["baseline: duplicates"]
        print(f"  {'added: this (dup + fp) - baseline (dup)':42s} {added:7.3f}")
    # report time: compute() and the manifest file, per image of the split
    this = next(v for v in versions if v.label == "this")
    this.activate()
    from data_gradients.feature_extractors.common.fingerprint import Fingerprint
    from data_gradients.reports.manifest_writer import ManifestWriter
    from data_gradients.reports.report import AnalysisReport

    ext = Fingerprint(context(task, this))
    for b in canonical(task, raw, this):
        ext.update(b, "train")
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        result = ext.compute()
        report = AnalysisReport("b", task, Path(tmp), {}, {"fingerprint": result}, {}, {}, "")
        ManifestWriter().write(report)
        t = time.perf_counter() - t0
    print(f"  {'this: compute() + manifest.tsv (wall)':42s} {t / n * 1e3:7.3f}")


def bench_export(task: str, raw, n: int = 100, reps: int = 3) -> None:
    from data_gradients.export import selectors as sel
    from data_gradients.export.writer import SampleWriter

    this = Version("this", HERE.parent)
    batches = canonical(task, raw, this)
    names = {i: f"class {i}" for i in range(19)}
    walls, cpus = [], []
    for _ in range(reps):
        with tempfile.TemporaryDirectory() as tmp:
            writer = SampleWriter(Path(tmp), sel.first_n_samples(n), task, names)
            t0, c0 = time.perf_counter(), time.process_time()
            count = 0
            for k, b in enumerate(batches):
                count += writer.add("train", k, b)
            writer.finish()
            walls.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
            size = sum(p.stat().st_size for p in Path(tmp).rglob("*") if p.is_file())
    print(f"export {task} 640x480: {count} samples with overlays in {statistics.median(walls):.2f} s wall "
          f"({statistics.median(cpus):.2f} s CPU of all threads), median of {reps}; {size / 1e6:.1f} MB written")


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--baseline", type=Path, help="root of a checkout before the fingerprint, timed side by side")
    p.add_argument("--reps", type=int, default=9)
    p.add_argument("--images", type=int, default=64)
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    versions = [Version("this", HERE.parent)]
    if args.baseline is not None:
        versions.append(Version("baseline", args.baseline))
    versions[0].activate()
    det, seg = detection_pool(max(args.images, 100)), segmentation_pool(max(args.images, 100))
    for task, raw in (("detection", det), ("segmentation", seg)):
        bench_hashing(task, (raw[0][:args.images], raw[1][:args.images]), versions, args.reps)
    for task, raw in (("detection", det), ("segmentation", seg)):
        versions[0].activate()
        bench_export(task, raw, 100)


if __name__ == "__main__":
    main()
