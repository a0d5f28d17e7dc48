"""Per-image cost of each feature's ``update()`` (and of batch building), one thread, at real resolutions.

Three sets, each on synthetic uint8 data as a decoding loader would yield it:
- common: the image features every task shares (``feature_extractors/common``) on 1280x720
  segmentation batches of 8 (19-class masks);
- detection: every default detection feature on 640x480 images with ~10 boxes each, 10 classes,
  batches of 8 (boxes as a list of per-image (n, 5) tensors);
- classification: every default classification feature on 224x224 images, 100 classes, batches of 64.

Images go through a JPEG round trip (quality 90) like decoded files. One extractor set per code
version lives through all repetitions (sample ids keep growing); the sample-picture extractors are
first fed 10,000 tiny samples, so that their reservoirs take thumbnails as rarely as in a long run
(``--fresh-samples``: emptied before each repetition instead, as in a short run such as
``bench_analysis.py``'s N=400, where most images of the shown classes take one);
the first repetition is a warm-up. With ``--baseline PATH`` (a checkout of another commit, e.g.
``git worktree add /tmp/base HEAD``) both versions are imported by path in this one process and
timed in alternating repetitions, each going first as often, so the machine's noise hits both
alike. Printed: the median over repetitions of ms per image, by default in CPU time of the one
thread doing all the work (OpenCV, torch and BLAS are held to one thread), which other processes
on a shared machine disturb much less than elapsed time (``--clock wall``).

Usage: python bench/bench_image_features.py [--baseline /tmp/base] [--sets common detection classification]
       [--reps 8] [--channels-last] [--mixed-sizes] [--fresh-samples] [--clock cpu|wall]
"""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # before numpy is imported: one BLAS thread

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

HERE = Path(__file__).resolve().parents[1]
COMMON = ("image_resolution", "image_brightness", "image_channel_stats", "color_distribution", "data_quality",
          "duplicates", "near_duplicates", "image_quality", "fingerprint", "stream_order")  # those the version has
SHARED = "(shared pixel statistics)"
CLOCKS = {"cpu": time.thread_time, "wall": time.perf_counter}
SETS = {  # name -> (task, images per repetition, batch size)
    "common": ("segmentation", 32, 8),
    "detection": ("detection", 64, 8),
    "classification": ("classification", 512, 64),
}


# --------------------------------------------------------------- two versions in one process
class Version:
    """The ``data_gradients`` package of one checkout, importable side by side with another."""

    def __init__(self, label: str, root: Path):
        self.label, self.root = label, root
        saved = _take_modules()
        sys.path.insert(0, str(root))
        try:
            import data_gradients  # noqa: F401
            import data_gradients.feature_extractors  # noqa: F401

            self.modules = _take_modules()
        finally:
            sys.path.remove(str(root))
            sys.modules.update(saved)
        file = Path(self.modules["data_gradients"].__file__).resolve()
        if root.resolve() not in file.parents:
            raise SystemExit(f"{label}: imported {file}, not a file under {root}")

    def activate(self) -> None:
        """Make this version the one ``import data_gradients...`` finds (lazy imports inside functions)."""
        _take_modules()
        sys.modules.update(self.modules)

    def get(self, module: str, name: str):
        return getattr(self.modules[module], name)


def _take_modules() -> dict:
    taken = {k: v for k, v in sys.modules.items() if k == "data_gradients" or k.startswith("data_gradients.")}
    for k in taken:
        del sys.modules[k]
    return taken


# --------------------------------------------------------------------------- data
def _jpeg(rgb: np.ndarray) -> np.ndarray:
    """A JPEG (quality 90) round trip, as a decoding loader would yield the image; CHW contiguous."""
    ok, buf = cv2.imencode(".jpg", rgb, [cv2.IMWRITE_JPEG_QUALITY, 90])
    return np.ascontiguousarray(cv2.imdecode(buf, cv2.IMREAD_UNCHANGED).transpose(2, 0, 1))


def common_pool(n: int):
    """(uint8 (n, 3, 720, 1280) images, uint8 (n, 720, 1280) masks with 19 classes and ignore 255)."""
    from data_gradients.demo.detection_data import render_detection_sample

    images, masks = [], []
    for i in range(n):
        img, rows = render_detection_sample(0, "train", i, size=(720, 1280), corrupt=False)
        mask = np.full((720, 1280), 255, dtype=np.uint8)
        mask[:360] = i % 19
        mask[360:] = (i + 1) % 19
        for k, (c, x1, y1, x2, y2) in enumerate(rows.tolist()):
            cv2.rectangle(mask, (int(x1), int(y1)), (int(x2), int(y2)), (int(c) + 2 * k) % 19, -1)
        images.append(_jpeg(img))
        masks.append(mask)
    return torch.from_numpy(np.stack(images)), torch.from_numpy(np.stack(masks))


MIXED_SIZES = ((480, 640), (427, 640), (640, 480), (612, 612), (640, 427), (375, 500), (640, 640), (480, 640))


def detection_pool(n: int, mixed_sizes: bool = False):
    """(uint8 (n, 3, 480, 640) images, list of (k, 5) float32 rows) with ~10 boxes per image; with
    ``mixed_sizes`` a list of images of COCO-like sizes (canonical batches then hold 1-3 images)."""
    from data_gradients.demo.detection_data import render_detection_sample

    rng = np.random.default_rng(0)
    images, labels = [], []
    for i in range(n):
        h, w = MIXED_SIZES[int(rng.integers(0, len(MIXED_SIZES)))] if mixed_sizes else (480, 640)
        img, rows = render_detection_sample(0, "train", i, size=(h, w))
        extra = max(0, 10 - len(rows) + int(rng.integers(-2, 3)))  # top up to ~10 boxes
        x1, y1 = rng.uniform(0, w - 40, extra), rng.uniform(0, h - 40, extra)
        more = np.column_stack([rng.integers(0, 10, extra), x1, y1, x1 + rng.uniform(4, 200, extra),
                                y1 + rng.uniform(4, 200, extra)]).astype(np.float32)
        images.append(_jpeg(img))
        labels.append(torch.from_numpy(np.vstack([rows, more])))
    if mixed_sizes:
        return [torch.from_numpy(im) for im in images], labels
    return torch.from_numpy(np.stack(images)), labels


def classification_pool(n: int):
    from data_gradients.demo.classification_data import SyntheticClassificationDataset

    ds = SyntheticClassificationDataset(n, size=(224, 224), num_classes=100)
    items = [ds[i] for i in range(n)]
    return torch.stack([im for im, _ in items]), torch.stack([lb for _, lb in items])


def warm_up_batches(set_name: str):
    """10,000 tiny samples: fed once to the sample-picture extractors so that their reservoirs are as
    full as in a long run (a reservoir of k takes a thumbnail of about k / n of the n-th image)."""
    n = 500
    images = torch.zeros((n, 3, 8, 8), dtype=torch.uint8)
    if set_name == "detection":
        labels = [torch.tensor([[i % 10, 1.0, 1.0, 6.0, 6.0]]) for i in range(n)]
    else:
        labels = torch.arange(n) % 100
    return [(images, labels)] * 20


def raw_batches(set_name: str, channels_last: bool = False, mixed_sizes: bool = False):
    task, n, bs = SETS[set_name]
    if set_name == "common":
        images, labels = common_pool(16)
    elif set_name == "detection":
        images, labels = detection_pool(n, mixed_sizes)
    else:
        images, labels = classification_pool(n)
    if channels_last:  # N,C,H,W tensors whose memory is N,H,W,C (PIL images permuted, then stacked)
        images = (images.contiguous(memory_format=torch.channels_last) if isinstance(images, torch.Tensor)
                  else [im.permute(1, 2, 0).contiguous().permute(2, 0, 1) for im in images])
    k = len(images)
    return [(images[i % k:i % k + bs], labels[i % k:i % k + bs]) for i in range(0, n, bs)]


# ------------------------------------------------------------------------ running
class Runner:
    """One version's builder and extractors for one set; ``rep()`` times one pass over the batches."""

    def __init__(self, version: Version, set_name: str, raw, fresh_samples: bool = False):
        version.activate()
        self.version, self.raw, self.fresh_samples = version, raw, fresh_samples
        task = SETS[set_name][0]
        n_classes = {"common": 19, "detection": 10, "classification": 100}[set_name]
        ids = tuple(range(n_classes))
        ctx = version.get("data_gradients.context", "AnalysisContext")(
            task=task, num_classes=n_classes, class_ids=ids, class_names={i: f"c{i}" for i in ids}, seed=0)
        if set_name == "common":
            self.builder = version.get("data_gradients.batch", "SegmentationBatchBuilder")(n_classes, ids, (255,))
            known = version.get("data_gradients.feature_extractors.registry", "registered_features")(task)
            names = tuple(n for n in COMMON if n in known)
        elif set_name == "detection":
            self.builder = version.get("data_gradients.batch", "DetectionBatchBuilder")(
                n_classes, ids, (), bbox_format="xyxy", normalized_boxes=False)
            names = version.get("data_gradients.feature_extractors.registry", "registered_features")(task)
        else:
            self.builder = version.get("data_gradients.batch", "ClassificationBatchBuilder")(n_classes, ids, ())
            names = version.get("data_gradients.feature_extractors.registry", "registered_features")(task)
        get = version.get("data_gradients.feature_extractors.registry", "get_feature")
        self.extractors = {name: get(name)(ctx) for name in names}
        self.next_id = 0
        self.samplers = samplers = [ex for ex in self.extractors.values() if ex.group == "samples"]
        if samplers and not fresh_samples:
            for images, labels in warm_up_batches(set_name):
                for batch in self.builder.build(images, labels, first_sample_id=self.next_id):
                    self.next_id += len(batch)
                    for ex in samplers:
                        ex.update(batch, "train")

    def rep(self, clock) -> dict:
        self.version.activate()
        times = dict.fromkeys(["(batch building)", SHARED, *self.extractors], 0.0)
        if self.fresh_samples:  # empty reservoirs: every image of a class not yet full takes a thumbnail
            for ex in self.samplers:
                ex.reset()
        for images, labels in self.raw:
            t = clock()
            built = self.builder.build(images, labels, first_sample_id=self.next_id)
            times["(batch building)"] += clock() - t
            for batch in built:  # like the manager: every feature on a batch, then the next batch
                self.next_id += len(batch)
                if hasattr(type(batch), "pixel_stats"):  # the shared view the image features read
                    t = clock()
                    batch.pixel_stats
                    times[SHARED] += clock() - t
                for name, ex in self.extractors.items():
                    t = clock()
                    ex.update(batch, "train")
                    times[name] += clock() - t
        return times


def run_set(set_name: str, versions, reps: int, channels_last: bool, clock, mixed_sizes: bool = False,
            fresh_samples: bool = False) -> None:
    task, n, bs = SETS[set_name]
    raw = raw_batches(set_name, channels_last, mixed_sizes)
    h, w = raw[0][0][0].shape[-2:]
    runners = [Runner(v, set_name, raw, fresh_samples) for v in versions]
    samples = {v.label: [] for v in versions}
    for r in range(reps + 1):
        order = runners if r % 2 == 0 else runners[::-1]  # alternate which version goes first
        for runner in order:
            times = runner.rep(clock)
            if r:  # repetition 0 warms caches and reservoirs
                samples[runner.version.label].append(times)
    print(f"\n== {set_name}: {task}, {w}x{h}, batches of {bs}, {n} images per repetition, median of {reps} "
          f"repetitions, ms per image, one thread" + (", channels-last memory" if channels_last else "")
          + (", mixed COCO-like sizes" if mixed_sizes and set_name == "detection" else "")
          + (", sample reservoirs emptied before each repetition" if fresh_samples else ""))
    labels = [v.label for v in versions]
    rows = {}
    for label in labels:
        for key in samples[label][0]:
            rows.setdefault(key, {})[label] = statistics.median(t[key] for t in samples[label]) * 1e3 / n
    for label in labels:
        rows.setdefault("TOTAL features (with shared)", {})[label] = statistics.median(
            sum(v for k, v in t.items() if k != "(batch building)") for t in samples[label]) * 1e3 / n
        rows.setdefault("TOTAL with building", {})[label] = statistics.median(
            sum(t.values()) for t in samples[label]) * 1e3 / n
    head = f"{'feature':38s}" + "".join(f"{lb:>12s}" for lb in labels) + ("     speed-up" if len(labels) == 2 else "")
    print(head)
    for key, vals in rows.items():
        line = f"{key:38s}" + "".join(f"{vals.get(lb, float('nan')):12.3f}" for lb in labels)
        if len(labels) == 2 and labels[0] in vals and labels[1] in vals and vals[labels[1]] > 0:
            line += f"{vals[labels[0]] / vals[labels[1]]:12.2f}x"
        print(line)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--baseline", type=Path, help="root of another checkout to time side by side")
    p.add_argument("--sets", nargs="+", choices=list(SETS), default=list(SETS))
    p.add_argument("--clock", choices=list(CLOCKS), default="cpu",
                   help="cpu: CPU time of this thread (robust on a shared machine; all work runs in it); wall: elapsed")
    p.add_argument("--mixed-sizes", action="store_true", help="detection images of 8 COCO-like sizes (batches split)")
    p.add_argument("--channels-last", action="store_true", help="images in N,H,W,C memory (as PIL images permuted)")
    p.add_argument("--reps", type=int, default=8, help="rounded up to even: each version goes first as often")
    p.add_argument("--fresh-samples", action="store_true",
                   help="empty the sample reservoirs before each repetition (a short run: most images take a thumbnail)")
    args = p.parse_args(argv)
    args.reps += args.reps % 2
    cv2.setNumThreads(1)
    torch.set_num_threads(1)
    versions = []
    if args.baseline is not None:
        versions.append(Version("baseline", args.baseline))
    versions.append(Version("current", HERE))
    print("versions: " + ", ".join(f"{v.label} = {v.root}" for v in versions) + f"; clock: {args.clock}")
    versions[-1].activate()  # the data generators come from the current version
    for set_name in args.sets:
        run_set(set_name, versions, args.reps, args.channels_last, CLOCKS[args.clock], args.mixed_sizes,
                args.fresh_samples)


if __name__ == "__main__":
    main()
