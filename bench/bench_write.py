"""Time and memory of writing the outputs of a finished report, per task and class count.

Reports are built once per configuration by running the manager (no writers) on small
synthetic data from ``data_gradients.demo``, and pickled; the analysis is not timed.
Each write then runs in a fresh process that imports the package, loads the report and
calls ``write_all(report, default_writers())`` (what the manager does), timing every
writer. Printed per row: seconds per writer (median over repetitions), the total
``write_all`` time (the manager's ``report.write_s``; "other" is what is spent outside
the writers, e.g. figures rendered ahead of them), the process's RSS after the import,
the peak RSS while writing (VmHWM, reset just before; children such as wkhtmltopdf or
forked drawing workers are not in it), and the number of PDF pages.

With ``--baseline PATH`` (e.g. a ``git worktree add /tmp/base HEAD`` checkout) every
write also runs with that checkout first on ``PYTHONPATH``, alternating with this one,
so both are measured side by side under the same machine load.

``--whole-run N ...`` measures instead the peak RSS of whole segmentation runs (256x256, 10 classes)
without and with the outputs, and ``--render-modes`` how long drawing the plots takes in this process alone,
in ``workers`` threads and in ``workers`` forked processes (``rendering.render_plots``).

Usage: python bench/bench_write.py [--configs segmentation:19 detection:100 ...] [--reps 3]
                                   [--workers 1 2] [--baseline PATH] [--render-modes] [--whole-run 500 2000]
"""
from __future__ import annotations

import argparse
import inspect
import json
import os
import pickle
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
DEFAULT_CONFIGS = ["segmentation:19", "segmentation:100", "detection:10", "detection:100",
                   "classification:10", "classification:100"]
WRITERS = ["txt", "json", "tensorboard", "html", "pdf"]
RENDER_MODES = ["serial", "threads", "processes"]
SHORT = {"tensorboard": "tb"}


# --------------------------------------------------------------- building reports
class ManyClassDetection:
    """The demo detection data (10 classes) spread over ``num_classes``: class c of box j of image i
    becomes c + 10 * ((i + j) % (num_classes // 10)); the demo's out-of-range ids stay out of range."""

    def __init__(self, n: int, split: str, num_classes: int):
        from data_gradients.demo.detection_data import SyntheticDetectionDataset

        self.source = SyntheticDetectionDataset(n, split=split, seed=0)
        self.groups, self.num_classes = num_classes // 10, num_classes

    def __len__(self):
        return len(self.source)

    def __getitem__(self, i):
        import torch

        image, rows = self.source[i]
        rows = rows.clone()
        cls = rows[:, 0]
        valid = (cls >= 0) & (cls < 10)
        shift = 10 * ((i + torch.arange(len(rows))) % self.groups).to(rows.dtype)
        rows[:, 0] = torch.where(valid, cls + shift, torch.where(cls >= 10, cls + self.num_classes, cls))
        return image, rows


def build_report(task: str, num_classes: int, n_train: int, n_val: int, log_dir: Path):
    import torch
    from torch.utils.data import DataLoader

    import data_gradients

    torch.set_num_threads(1)
    common = dict(log_dir=log_dir, verbose=False, samples_to_visualize=10, writers=[])
    if task == "segmentation":
        from data_gradients.demo.datasets import SyntheticSegmentationDataset

        sets = [SyntheticSegmentationDataset(n, split=s, size=(128, 160), num_classes=num_classes, seed=0,
                                             image_format="chw_uint8") for n, s in ((n_train, "train"), (n_val, "val"))]
        loaders = [DataLoader(ds, batch_size=8) for ds in sets]
        manager = data_gradients.SegmentationAnalysisManager(
            *loaders, num_classes=num_classes, class_names=sets[0].class_names, ignore_labels=[0], **common)
    elif task == "detection":
        from data_gradients.demo.detection_data import DETECTION_CLASS_NAMES, detection_collate

        sets = [ManyClassDetection(n, s, num_classes) for n, s in ((n_train, "train"), (n_val, "val"))]
        names = [f"{DETECTION_CLASS_NAMES[k % 10]} {k // 10}" if num_classes > 10 else DETECTION_CLASS_NAMES[k]
                 for k in range(num_classes)]
        loaders = [DataLoader(ds, batch_size=8, collate_fn=detection_collate) for ds in sets]
        manager = data_gradients.DetectionAnalysisManager(*loaders, num_classes=num_classes, class_names=names,
                                                          bbox_format="xyxy", normalized_boxes=False, **common)
    else:
        from data_gradients.demo.classification_data import SyntheticClassificationDataset

        sets = [SyntheticClassificationDataset(n, split=s, num_classes=num_classes, seed=0)
                for n, s in ((n_train * 4, "train"), (n_val * 4, "val"))]
        loaders = [DataLoader(ds, batch_size=64) for ds in sets]
        manager = data_gradients.ClassificationAnalysisManager(*loaders, num_classes=num_classes,
                                                               class_names=sets[0].class_names, **common)
    return manager.run()


def make_child(task: str, num_classes: int, n_train: int, n_val: int, out: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        report = build_report(task, num_classes, n_train, n_val, Path(tmp))
    report.figure_images.clear()
    with open(out, "wb") as f:
        pickle.dump(report, f)


# ----------------------------------------------------------------- writing, timed
def _vm(key: str) -> float:
    """VmRSS / VmHWM of this process in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _cpu() -> float:
    """CPU seconds of this process and of its waited-for children."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class Timed:
    """A writer that records how long its ``write`` took (for a writer that starts in the background, its
    ``start`` plus the wait for it at the end: the time the writing spent on it); every other attribute is
    the writer's."""

    def __init__(self, writer, seconds: dict):
        self._writer, self._seconds = writer, seconds
        if hasattr(writer, "start"):
            self.start = self._start

    def _start(self, report):
        t = time.perf_counter()
        finish = self._writer.start(report)
        started = time.perf_counter() - t

        def timed_finish():
            t = time.perf_counter()
            try:
                return finish()
            finally:
                self._seconds[self._writer.name] = started + time.perf_counter() - t

        return timed_finish

    def __getattr__(self, name):
        return getattr(self._writer, name)

    def write(self, report):
        t = time.perf_counter()
        try:
            return self._writer.write(report)
        finally:
            self._seconds[self._writer.name] = time.perf_counter() - t


def write_child(pkl: Path, workers: int) -> dict:
    import gc

    import data_gradients  # noqa: F401  (the import cost is part of every run)

    rss_import = _vm("VmRSS")
    from data_gradients.reports.writers import default_writers, write_all

    with open(pkl, "rb") as f:
        report = pickle.load(f)
    with tempfile.TemporaryDirectory() as tmp:
        report.run_dir = Path(tmp)
        seconds: dict = {}
        writers = [Timed(w, seconds) for w in default_writers()]
        kwargs = {"workers": workers} if "workers" in inspect.signature(write_all).parameters else {}
        gc.collect()
        cpu0 = _cpu()
        rss_before = _vm("VmRSS")
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM: the peak below is the writing's own
        t = time.perf_counter()
        write_all(report, writers, **kwargs)
        total = time.perf_counter() - t
        cpu = _cpu() - cpu0
        peak = _vm("VmHWM")
        pages = _pdf_pages(report.outputs.get("pdf"))
    return {"seconds": seconds, "total": total, "cpu": cpu, "rss_import": rss_import, "rss_before": rss_before, "peak": peak,
            "pages": pages,
            "warnings": report.warnings, "workers_supported": bool(kwargs)}


def render_modes_child(pkl: Path, workers: int, reps: int) -> dict:
    """Seconds to draw every plot of the report: in this process alone, with ``workers`` threads, with
    ``workers`` forked processes (after one untimed round: imports and fonts are loaded once)."""
    import gc

    import data_gradients  # noqa: F401
    from data_gradients.reports.rendering import render_plots

    with open(pkl, "rb") as f:
        report = pickle.load(f)
    render_plots(report, workers=1)
    gc.freeze()  # as write_all does
    seconds: dict = {}
    for _ in range(reps):
        for mode in RENDER_MODES:
            report.figure_images.clear()
            t = time.perf_counter()
            render_plots(report, workers=1 if mode == "serial" else workers, mode=mode)
            seconds.setdefault(mode, []).append(time.perf_counter() - t)
    return {"plots": len(report.figure_images), "seconds": seconds}


def whole_run_child(n: int, writers: str) -> dict:
    """A whole segmentation run (256x256, 10 classes, N + N/5 images rendered on access), with every
    output or none: the process's peak RSS and the manager's write_s."""
    import torch
    from torch.utils.data import DataLoader

    import data_gradients
    from data_gradients.demo.datasets import SyntheticSegmentationDataset

    torch.set_num_threads(1)
    sets = [SyntheticSegmentationDataset(m, split=s, size=(256, 256), num_classes=10, seed=0, image_format="chw_uint8")
            for m, s in ((n, "train"), (n // 5, "val"))]
    kwargs = {"writers": []} if writers == "none" else {}
    with tempfile.TemporaryDirectory() as tmp:
        report = data_gradients.SegmentationAnalysisManager(
            *(DataLoader(ds, batch_size=8) for ds in sets), num_classes=10, ignore_labels=[0], log_dir=tmp,
            verbose=False, **kwargs).run()
    return {"peak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "write_s": report.write_s}


def _pdf_pages(path) -> int:
    if path is None:
        return 0
    out = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True)
    return next((int(ln.split()[-1]) for ln in out.stdout.splitlines() if ln.startswith("Pages:")), 0)


# -------------------------------------------------------------------------- main
def run_child(args, pythonpath: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(pythonpath), "PYTHONUNBUFFERED": "1"}
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, env=env, cwd=pythonpath)
    if out.returncode != 0:
        raise RuntimeError(f"child {args} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1]) if out.stdout.strip() else {}


def compare_writes(args, checkouts, pickles) -> None:
    def workers_of(name: str):
        return args.workers  # a baseline whose write_all has no `workers` runs without it (shown as "-")

    results: dict = {}
    for rep in range(args.reps):
        for config in args.configs:
            for name, path in (checkouts if rep % 2 == 0 else checkouts[::-1]):
                for w in workers_of(name):
                    results.setdefault((config, name, w), []).append(
                        run_child(["--write", str(pickles[config]), str(w)], path))
    header = (f"{'task:classes':19s} {'code':8s} {'wk':>2s} " + " ".join(f"{SHORT.get(w, w):>6s}" for w in WRITERS)
              + f" {'other':>6s} {'TOTAL s':>7s} {'min s':>6s} {'CPU s':>6s} {'import MB':>9s} {'write peak MB':>13s} "
              f"{'+MB':>5s} {'pages':>5s}")
    print(header + "\n" + "-" * len(header))
    for config in args.configs:
        for name, _ in checkouts:
            for w in workers_of(name):
                runs = results[(config, name, w)]
                med = {k: statistics.median(r["seconds"].get(k, float("nan")) for r in runs) for k in WRITERS}
                total = statistics.median(r["total"] for r in runs)
                other = total - sum(v for v in med.values() if v == v)
                grow = max(r["peak"] - r["rss_before"] for r in runs)
                wk = f"{w:2d}" if runs[0]["workers_supported"] else " -"
                print(f"{config:19s} {name:8s} {wk} " + " ".join(f"{med[k]:6.2f}" for k in WRITERS)
                      + f" {other:6.2f} {total:7.2f} {min(r['total'] for r in runs):6.2f} "
                      f"{statistics.median(r['cpu'] for r in runs):6.2f} "
                      f"{runs[0]['rss_import']:9.0f} {max(r['peak'] for r in runs):13.0f} {grow:5.0f} "
                      f"{runs[0]['pages']:5d}" + (f"  warnings: {runs[0]['warnings']}" if runs[0]["warnings"] else ""))
    print(f"(median of {args.reps} runs, 'min s' the fastest; CPU s: this process and its children (wkhtmltopdf, "
          "drawing workers); peaks: max over runs; '+MB' = write peak - RSS before writing)")


def compare_whole_runs(args, checkouts) -> None:
    print(f"whole segmentation run (256x256, 10 classes, N + N/5 images): peak RSS MB, median of {args.reps}")
    print(f"{'N':>6s} {'code':8s} {'no outputs':>10s} {'all outputs':>11s} {'write_s':>7s}")
    for n in args.whole_run:
        for name, path in checkouts:
            runs = {w: [run_child(["--run", str(n), w], path) for _ in range(args.reps)] for w in ("none", "all")}
            peak = {w: statistics.median(r["peak"] for r in rs) for w, rs in runs.items()}
            write = statistics.median(r["write_s"] for r in runs["all"])
            print(f"{n:6d} {name:8s} {peak['none']:10.0f} {peak['all']:11.0f} {write:7.2f}")


def compare_render_modes(args, pickles) -> None:
    workers = max(args.workers)
    print(f"drawing every plot, median (min) of {args.reps} rounds; threads and processes: {workers}")
    print(f"{'task:classes':19s} {'plots':>5s} " + " ".join(f"{m:>16s}" for m in RENDER_MODES))
    for config in args.configs:
        r = run_child(["--render", str(pickles[config]), str(workers), str(args.reps)], HERE)
        cells = [f"{statistics.median(r['seconds'][m]):7.2f} ({min(r['seconds'][m]):5.2f})" for m in RENDER_MODES]
        print(f"{config:19s} {r['plots']:5d} " + " ".join(f"{c:>16s}" for c in cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configs", nargs="+", default=DEFAULT_CONFIGS, help="task:num_classes")
    parser.add_argument("--reps", type=int, default=3, help="repetitions per configuration (median shown)")
    parser.add_argument("--workers", nargs="+", type=int, default=[1, 2], help="write_all(workers=...) values")
    parser.add_argument("--baseline", type=Path, help="a baseline checkout, measured side by side")
    parser.add_argument("--train", type=int, default=160, help="train samples of the analysed data")
    parser.add_argument("--val", type=int, default=40)
    parser.add_argument("--render-modes", action="store_true",
                        help="instead: seconds to draw the plots serially, in threads, in forked processes")
    parser.add_argument("--whole-run", nargs="+", type=int, metavar="N",
                        help="instead: peak RSS of whole segmentation runs of N images, without and with the outputs")
    for flag, n in (("--make", 5), ("--write", 2), ("--run", 2), ("--render", 3)):  # what a child process does
        parser.add_argument(flag, nargs=n, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.make:
        task, k, n_train, n_val, out = args.make
        make_child(task, int(k), int(n_train), int(n_val), Path(out))
    elif args.write or args.run or args.render:
        print(json.dumps(write_child(Path(args.write[0]), int(args.write[1])) if args.write else
                         whole_run_child(int(args.run[0]), args.run[1]) if args.run else
                         render_modes_child(Path(args.render[0]), int(args.render[1]), int(args.render[2]))))
    else:
        checkouts = [("this", HERE)] + ([("baseline", args.baseline.resolve())] if args.baseline else [])
        if args.whole_run:
            compare_whole_runs(args, checkouts)
            return
        with tempfile.TemporaryDirectory() as tmp:
            pickles = {}
            for config in args.configs:
                task, k = config.split(":")
                pickles[config] = Path(tmp) / f"{task}_{k}.pkl"
                run_child(["--make", task, k, str(args.train), str(args.val), str(pickles[config])], HERE)
            if args.render_modes:
                compare_render_modes(args, pickles)
            else:
                compare_writes(args, checkouts, pickles)


if __name__ == "__main__":
    main()
