"""Milliseconds per image of each segmentation feature and of batch building, one thread.

Street scenes from :mod:`street_scenes` (19 classes, 255 ignored) are built into
canonical batches; then per feature, ``update`` is timed on fresh copies of those
batches (so each feature also pays for any per-batch view it builds), and the whole
label feature set is timed in registry order on shared copies (what a run pays: the view
is built once per batch and shared). One thread everywhere (OpenCV, BLAS, torch). The
sample reservoir is first fed ~1000 other images (untimed), as in a real run, where
few images still enter it.

With ``--baseline PATH`` (a checkout of the code before a change, e.g.
``git worktree add /tmp/base <commit>``) the same figures are measured for both trees
side by side: one worker process per tree, repetitions alternating between them, so
machine load hits both alike. Times are the CPU time of the worker's thread (``time.thread_time``:
other processes on a shared machine do not count, only what they do to the caches). Figures are
medians over ``--reps`` repetitions of the fastest of ``--inner`` passes.

Usage: python bench/bench_segmentation_features.py [--baseline /tmp/base] [--size 720 1280] [--images 32]
       [--batch 8] [--reps 5] [--inner 3] [--all] [--data street|demo]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
LABEL_FEATURES = ["segmentation_class_frequency", "segmentation_components", "segmentation_class_heatmap",
                  "segmentation_convexity", "segmentation_erosion", "segmentation_cooccurrence", "segmentation_samples"]
SINGLE_THREAD_ENV = {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}


# ------------------------------------------------------------------ worker (one per code tree)
def worker(root: str, size, n_images: int, batch_size: int, include_all: bool, data: str) -> None:
    sys.path.insert(0, root)
    sys.path.insert(1, str(HERE))
    import dataclasses

    import cv2
    import numpy as np
    import torch
    from street_scenes import IGNORE, STREET_CLASS_NAMES, street_scene

    import data_gradients
    from data_gradients.batch import SegmentationBatchBuilder
    from data_gradients.classes import counted_class_ids
    from data_gradients.context import AnalysisContext
    from data_gradients.feature_extractors import get_feature, registered_features

    if not Path(data_gradients.__file__).resolve().is_relative_to(Path(root).resolve()):
        raise SystemExit(f"data_gradients was imported from {data_gradients.__file__}, not from {root}")
    cv2.setNumThreads(1)
    torch.set_num_threads(1)
    if data == "demo":  # what `./dev bench` analyses: the package's demo scenes, 10 classes, 0 ignored
        from data_gradients.demo.datasets import SyntheticSegmentationDataset

        demo = SyntheticSegmentationDataset(n_images, size=tuple(size), num_classes=10, seed=0, image_format="hwc_uint8")
        num_classes, ignore, names = 10, (0,), {}

        def scene(i):
            image, mask = demo[i]
            return np.asarray(image), np.asarray(mask).astype(np.uint8)
    else:
        num_classes, ignore, names = len(STREET_CLASS_NAMES), (IGNORE,), dict(enumerate(STREET_CLASS_NAMES))

        def scene(i):
            return street_scene(i, size=tuple(size))
    ids = counted_class_ids(num_classes, ignore)
    ctx = AnalysisContext(task="segmentation", num_classes=num_classes, class_ids=ids, class_names=names,
                          samples_to_visualize=10)
    builder = SegmentationBatchBuilder(num_classes, ids, ignore)
    raw = []
    for start in range(0, n_images, batch_size):
        scenes = [scene(i) for i in range(start, min(start + batch_size, n_images))]
        images = torch.from_numpy(np.stack([im.transpose(2, 0, 1) for im, _ in scenes]))
        masks = torch.from_numpy(np.stack([m for _, m in scenes]))
        raw.append((images, masks, start))
    batches = [b for images, masks, start in raw for b in builder.build(images, masks, start)]
    # what a built batch leaves to count when read (out-of-range labels), taken before anything reads it
    lazy = {id(b): b.__dict__.get("_flagged") for b in batches}
    names = registered_features("segmentation") if include_all else LABEL_FEATURES

    def copy(b):  # a new batch object, nothing cached on it, reading the uint8 labels as a built batch does
        flagged = lazy.get(id(b))
        out = dataclasses.replace(b, masks=None, out_of_range_pixels=None if flagged else b.out_of_range_pixels)
        out.label_source = b.label_source  # the int32 masks not built, as in a built batch
        if flagged:
            out.__dict__["_flagged"] = flagged
        return out

    def fresh():
        return [copy(b) for b in batches]

    def timed_build():
        t = time.thread_time()
        for images, masks, start in raw:
            builder.build(images, masks, start)
        return time.thread_time() - t

    def steady(ex):  # a sample reservoir that has seen ~1000 images: few new samples still enter it
        if hasattr(ex, "reservoir_candidates"):
            for k in range(1, 1 + 1000 // max(n_images, 1)):
                for b in batches:
                    ex.update(dataclasses.replace(b, sample_ids=b.sample_ids + k * 10_000_000), "train")
        return ex

    def timed_features(feature_names, shared: bool):
        extractors = [steady(get_feature(n)(ctx)) for n in feature_names]
        copies = fresh()
        spent = np.zeros(len(extractors))
        for b in copies:
            for k, ex in enumerate(extractors):
                one = b if shared else copy(b)
                t = time.thread_time()
                ex.update(one, "train")
                spent[k] += time.thread_time() - t
        return spent

    print(json.dumps({"ready": names}), flush=True)
    for line in sys.stdin:
        cmd = json.loads(line)
        inner = range(cmd.get("inner", 1))  # the fastest of a few passes: other processes' load only adds time
        if cmd["what"] == "build":
            out = {"build": min(timed_build() for _ in inner)}
        elif cmd["what"] == "feature":
            out = {cmd["name"]: min(float(timed_features([cmd["name"]], shared=False)[0]) for _ in inner)}
        else:  # the label set (or every feature) in order on shared batches
            out = {"set": min(float(timed_features(names, shared=True).sum()) for _ in inner)}
        out = {k: 1000.0 * v / n_images for k, v in out.items()}
        print(json.dumps(out), flush=True)


# ------------------------------------------------------------------ parent
class Worker:
    def __init__(self, root: Path, args):
        cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", str(root), "--size", *map(str, args.size),
               "--images", str(args.images), "--batch", str(args.batch), "--data", args.data] + (["--all"] if args.all else [])
        env = dict(os.environ, **SINGLE_THREAD_ENV)
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
        self.names = json.loads(self.proc.stdout.readline())["ready"]

    def ask(self, **cmd) -> dict:
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--baseline", type=Path, help="checkout of the code to compare with (old)")
    p.add_argument("--size", type=int, nargs=2, default=[720, 1280], metavar=("H", "W"))
    p.add_argument("--images", type=int, default=32)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--inner", type=int, default=3, help="passes per figure and repetition, the fastest kept")
    p.add_argument("--all", action="store_true", help="every segmentation feature, image features included")
    p.add_argument("--data", choices=["street", "demo"], default="street",
                   help="street scenes (19 classes, 255 ignored) or the demo data of ./dev bench (10 classes, 0 ignored)")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        return worker(args.worker, args.size, args.images, args.batch, args.all, args.data)
    trees = {"new": HERE.parent}
    if args.baseline:
        trees = {"old": args.baseline.resolve(), **trees}
    workers = {k: Worker(root, args) for k, root in trees.items()}
    names = workers["new"].names + [n for w in workers.values() for n in w.names if n not in workers["new"].names]
    rows = ["build"] + names + ["set"]
    samples = {k: {r: [] for r in rows} for k in workers}
    for rep in range(args.reps):
        order = list(workers) if rep % 2 == 0 else list(workers)[::-1]  # alternate who goes first
        for cmd in [{"what": "build"}] + [{"what": "feature", "name": n} for n in names] + [{"what": "set"}]:
            cmd["inner"] = args.inner
            for k in order:
                if cmd.get("name", names[0]) not in workers[k].names:
                    continue  # a feature this tree does not have
                for r, v in workers[k].ask(**cmd).items():
                    samples[k][r].append(v)
    for w in workers.values():
        w.close()
    h, w_ = args.size
    what = "street scenes" if args.data == "street" else "demo scenes"
    print(f"ms per image, {h}x{w_}, {args.images} {what} in batches of {args.batch}, one thread, "
          f"thread CPU time, median of {args.reps} alternating repetitions of the fastest of {args.inner} passes")
    label = {"build": "batch building", "set": "label features in order (shared view)" if not args.all
             else "all features in order (shared view)"}
    head = f"{'':44s}" + "".join(f"{k:>9s}" for k in workers) + ("   speed-up" if len(workers) == 2 else "")
    print(head)
    for r in rows:
        med = {k: sorted(samples[k][r])[len(samples[k][r]) // 2] if samples[k][r] else None for k in workers}
        line = f"{label.get(r, r + ' (alone)'):44s}" + "".join(f"{'-' if m is None else f'{m:.2f}':>9s}" for m in med.values())
        if len(workers) == 2 and None not in med.values():
            line += f"   {med['old'] / max(med['new'], 1e-9):7.1f}x"
        print(line)


if __name__ == "__main__":
    main()
