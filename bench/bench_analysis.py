"""Speed and memory of a whole analysis, per task. Every configuration runs in a process of its own.

Three suites (default: all):

real    Real resolutions: street scenes at 1280x720 with 19 classes (:mod:`street_scenes`), detection
        at 640x480 with ~10 boxes (1-20), classification at 224x224 with 100 classes.
        - files: JPEG images (PNG masks, .npy boxes) decoded by a torch DataLoader with num_workers=2:
          images/s of decoding alone, and of the whole run with workers=1 and workers=2;
        - pool: the same kind of samples, already decoded, served from memory: the analysis alone (no
          writers, so no preloading of their modules either), in ms per image ((run - iteration alone) /
          images) with workers=1 and workers=2 (forked worker processes, the default), and the speed-up;
          "threads" is the speed-up of workers=2 in threads. One torch and one OpenCV thread per process,
          so workers=1 is one core (left alone, OpenCV's pool runs some calls on a second core: measured
          on 720p segmentation, no faster in elapsed time and ~7 % more CPU). Each in-memory configuration
          runs --repeat times (default 3), the configurations in turn; the median is shown, and a speed-up
          is the median of each round's own ratio (its two runs one right after the other, at one speed of
          the machine). Below each task, issue 8's targets and whether this run met them (the w=1 figure
          with the range of its runs; the speed-up with the range of its rounds and the ratio of the medians).
        Also the seconds spent writing every output (files run, workers=2), the peak RSS of the workers=2 runs (files: the
        analysing process, DataLoader workers apart; pool: it includes the pool of decoded samples).
legacy  data-gradients 0.3.2's own benchmark: 256x256, 2000 train + 400 val, 10 classes, batch 8,
        tensors in memory; the whole run() (analysis and every output) with the default workers (the cores
        this process may use, at most 8), and with workers=1. With --dg032 PYTHON (the interpreter of a
        virtualenv holding 0.3.2: bench/dg032/make_venv.sh builds one, with a stand-in for the torchvision
        that does not install beside this torch), 0.3.2 runs on the same samples right before ours, with
        its default features and outputs and the library's default threads (bench/dg032/run_dg032.py), and
        the ratios are against that run; without it, against the times quoted in issue 8, measured on
        the machine the issue was filed on (not side by side: a different machine gives other ratios).
        An untimed run of ours on 80 images comes first (WARM_UP_N).
memory  Peak RSS of real-resolution runs at N=500 and N=20000 (workers=2), and the peak PSS
        (proportional set size) of the process and its analysis and drawing workers together, sampled every
        50 ms (they share pages, torch's ~220 MB among them, so their RSS would count those twice): both
        must stay flat. The files form shows the PSS of the DataLoader's decoding workers apart (torch's).
        Two forms (--memory-sources): files, the real suite's (a DataLoader with num_workers=2 decoding
        JPEG/PNG, N samples going round 500 files), and pool (decoded samples from memory, collated in
        the analysing process). Each N runs --memory-repeat times (default 3), in turn: every run, the
        change of the medians, and the widest change over all pairs of one run at each N.
distributed  720p segmentation from memory, N=2000 + 400 (--distributed-n): one process (workers=1) against two torch.distributed
        ranks (gloo on 127.0.0.1, workers=1 each, a DistributedSampler): seconds of run() up to
        the written report's start (reading, analysis, gathering, merging, computing).

The real suite's N is issue 8's benchmark size, 2000 train + 400 val (its peak RSS target names it); --n 400
takes a quarter of the time, but a run's fixed costs then weigh on the per-image figures: with workers=2,
~0.15 s for forking the worker on the first batch, its idle start and the end's last batch, and the state's
return (720p segmentation: 2.93 ms per image at N=400 against a slope of 2.62 over N); at workers=1, first
calls such as oneDNN's set-up for the image hash (~9 ms once per process; classification: 0.29 ms per image
at N=400, 0.21 at N=2000).

Usage: python bench/bench_analysis.py [--suites real legacy memory distributed] [--tasks segmentation ...] [--n 2000]
       [--dg032 /tmp/dg032venv/bin/python]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

HERE = Path(__file__).resolve().parent
POOL = 16
FILES_POOL = 500  # train files the memory suite's files runs go round (val: a fifth)
REAL = {"segmentation": (720, 1280), "detection": (480, 640), "classification": (224, 224)}
BATCH = {"segmentation": 8, "detection": 8, "classification": 64}
DG032_SECONDS = {"segmentation": 45.2, "detection": 24.9, "classification": 4.7}  # issue 8, its machine (Intel)
TARGET_SPEEDUP = {"segmentation": 10, "detection": 10, "classification": 4}
# issue 8's targets for the real suite: analysis ms per image at workers=1, workers=2's speed-up (segmentation
# only), seconds to write every output (its 4 s are for 100 classes: classification here)
TARGET_MS = {"segmentation": 6.0, "detection": 1.5, "classification": 0.25}
TARGET_W2 = {"segmentation": 1.8}
TARGET_WRITE_S = {"segmentation": 2.0, "detection": 2.0, "classification": 4.0}
# The legacy suite first runs ours once on this many images, untimed, per task: a VM may page out files
# nobody read for a while (seen here: a DAMON "pageout" scheme on pages idle for ~60 s), and a run() that
# reads the libraries' code back from disk (its writers' modules, the forked worker's first touches) measured
# 3.77 s instead of 2.0 right after 0.3.2's long run. Both timed runs then start with the page cache as warm
# as 0.3.2's, which runs right after its own import.
WARM_UP_N = 80


# ----------------------------------------------------------------------- samples
def sample(task: str, i: int, split: str, size, num_classes: int):
    """(HWC uint8 image, label) of sample i: a mask, (n, 5) class+xyxy boxes, or a class id."""
    import numpy as np

    if task == "segmentation":
        if size == REAL["segmentation"]:
            sys.path.insert(0, str(HERE))
            from street_scenes import street_scene

            return street_scene(i + (0 if split == "train" else 10 ** 6), size=size, num_classes=num_classes)
        from data_gradients.demo.datasets import render_sample

        img, mask = render_sample(0, split, i, size, num_classes)
        return img, mask.astype(np.uint8)
    if task == "detection":
        from data_gradients.demo.detection_data import render_detection_sample

        if size != REAL[task]:
            return render_detection_sample(0, split, i, size, num_classes)
        return render_detection_sample(0, split, i, size, num_classes, mean_boxes=10.0)
    from data_gradients.demo.classification_data import render_classification_sample

    img, classes = render_classification_sample(0, split, i, size, num_classes)
    return img, classes[0]


def manager_kwargs(task: str, num_classes: int) -> dict:
    if task == "segmentation":
        return dict(num_classes=num_classes, ignore_labels=[255] if num_classes == 19 else [0])
    if task == "detection":
        return dict(num_classes=num_classes, bbox_format="xyxy", normalized_boxes=False)
    return dict(num_classes=num_classes)


def write_files(task: str, folder: Path, n: int, split: str, size, num_classes: int) -> None:
    import cv2
    import numpy as np

    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        img, label = sample(task, i, split, size, num_classes)
        cv2.imwrite(str(folder / f"{i:06d}.jpg"), cv2.cvtColor(img, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
        if task == "segmentation":
            cv2.imwrite(str(folder / f"{i:06d}.png"), label)
        else:
            np.save(folder / f"{i:06d}.npy", np.asarray(label, dtype=np.float32))


class FileDataset:
    """Decodes a JPEG and its label file (PNG mask, or .npy boxes / class id); ``length`` samples (default: one
    per file) go round the files in turn, so that a long run needs no more files on disk."""

    def __init__(self, task: str, folder: Path, length: Optional[int] = None):
        self.task, self.images = task, sorted(Path(folder).glob("*.jpg"))
        self.length = len(self.images) if length is None else length

    def __len__(self):
        return self.length

    def __getitem__(self, i):
        import cv2
        import numpy as np
        import torch

        path = self.images[i % len(self.images)]
        image = torch.from_numpy(cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)).permute(2, 0, 1)
        if self.task == "segmentation":
            return image, torch.from_numpy(cv2.imread(str(path.with_suffix(".png")), cv2.IMREAD_UNCHANGED))
        label = torch.from_numpy(np.load(path.with_suffix(".npy")))
        return image, label if self.task == "detection" else int(label)


class PoolDataset:
    """n samples served from a fixed pool of decoded tensors (the data itself does not grow with n).
    ``sample_fn``: what makes a sample (default :func:`sample`; bench/dg032 passes its own)."""

    def __init__(self, task: str, n: int, split: str, size, num_classes: int, sample_fn=None):
        import torch

        self.n, self.pool = n, []
        for i in range(min(POOL, n)):
            img, label = (sample_fn or sample)(task, i, split, size, num_classes)
            label = torch.from_numpy(label) if task != "classification" else int(label)
            self.pool.append((torch.from_numpy(img).permute(2, 0, 1).contiguous(), label))

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return self.pool[i % len(self.pool)]


def list_collate(batch):
    import torch

    return torch.stack([b[0] for b in batch]), [b[1] for b in batch]


# ------------------------------------------------------------------------ a child
def rank_child(rank: int, world: int, port: int, spec: dict, out: str) -> None:
    """One rank of the distributed suite: its shard of the pool, workers=1; rank 0 saves the timing."""
    from datetime import timedelta

    import torch
    import torch.distributed as dist
    from torch.utils.data import DataLoader
    from torch.utils.data.distributed import DistributedSampler

    import data_gradients

    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world,
                            timeout=timedelta(seconds=600))
    task, n, size, k = spec["task"], spec["n"], tuple(spec["size"]), spec["classes"]
    loaders = [DataLoader(ds, batch_size=BATCH[task], sampler=DistributedSampler(ds, shuffle=False))
               for ds in (PoolDataset(task, n, "train", size, k), PoolDataset(task, n // 5, "val", size, k))]
    manager = getattr(data_gradients, f"{task.capitalize()}AnalysisManager")
    with tempfile.TemporaryDirectory() as tmp:
        m = manager(loaders[0], loaders[1], log_dir=tmp, verbose=False, workers=1, writers=[], **manager_kwargs(task, k))
        dist.barrier()  # both ranks start together
        report = m.run()
    if rank == 0:
        Path(out).write_text(json.dumps({"run_s": report.duration_s, "images": sum(s.samples for s in report.splits.values())}))
    dist.destroy_process_group()


class PssSampler:
    """Peak over the run of the proportional set size (PSS) of this process and all its descendants,
    sampled every ``every`` s: forked analysis workers share pages with this process, so their RSS
    would count those pages twice; PSS shares each page between the processes mapping it.

    ``loader_pids``: a folder where the DataLoader's workers leave a file named by their pid
    (:func:`record_loader_worker`): their PSS peaks apart, in ``loader_peak_mb`` (``peak_mb``: the rest,
    the analysing process and its analysis and drawing workers)."""

    def __init__(self, every: float = 0.05, enabled: bool = True, loader_pids: Optional[str] = None):
        import threading

        self.every, self.peak_mb, self._stop, self.enabled = every, float("nan"), threading.Event(), enabled
        self.loader_pids, self.loader_peak_mb = loader_pids, float("nan")
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        if self.enabled:
            self.peak_mb = self.loader_peak_mb = 0.0
            self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        if self.enabled:
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            loader = {int(f.name) for f in Path(self.loader_pids).iterdir()} if self.loader_pids else set()
            ours = theirs = 0
            for pid in _family(os.getpid()):
                if pid in loader:
                    theirs += _pss_kb(pid)
                else:
                    ours += _pss_kb(pid)
            self.peak_mb = max(self.peak_mb, ours / 1024)
            self.loader_peak_mb = max(self.loader_peak_mb, theirs / 1024)


def record_loader_worker(folder: str, worker_id: int) -> None:
    """A DataLoader ``worker_init_fn`` (with the folder bound): leaves a file named by this worker's pid."""
    (Path(folder) / str(os.getpid())).touch()


def _family(pid: int) -> list:
    """This process and its descendants that run this Python (forked analysis and drawing workers); not
    other programs it starts (wkhtmltopdf, ~250 MB while it prints the PDF: one 50 ms sample that caught
    it gave classification a peak 240 MB above its other runs)."""
    exe = _exe(pid)
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        if p == pid or _exe(p) == exe:
            out.append(p)
        for task in Path(f"/proc/{p}/task").glob("*"):
            try:
                todo.extend(int(c) for c in (task / "children").read_text().split())
            except OSError:
                pass
    return out


def _exe(pid: int) -> str:
    try:
        return os.readlink(f"/proc/{pid}/exe")
    except OSError:  # ended, or not ours to read
        return ""


def _pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:  # the process has just ended
        pass
    return 0


def child(spec: dict) -> dict:
    if spec.get("mode"):  # "threads" or "processes" for workers > 1 (the default: processes where fork exists)
        os.environ["DATA_GRADIENTS_WORKERS"] = spec["mode"]
    import torch
    from torch.utils.data import DataLoader

    import data_gradients

    torch.set_num_threads(1)
    if spec["source"] == "pool":  # one core per process: OpenCV's own thread pool would lend workers=1 a second one
        import cv2

        cv2.setNumThreads(1)
    task, n, size, k = spec["task"], spec["n"], tuple(spec["size"]), spec["classes"]
    if spec.get("ranks", 1) > 1:
        import socket

        import torch.multiprocessing as mp

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        with tempfile.TemporaryDirectory() as tmp:
            out = str(Path(tmp) / "rank0.json")
            mp.start_processes(rank_child, args=(spec["ranks"], port, spec, out), nprocs=spec["ranks"],
                               start_method="spawn")
            return {**spec, **json.loads(Path(out).read_text())}
    pid_dir = None  # the files form's memory runs: where the loader's workers leave their pids
    if spec["source"] == "files":
        lengths = (n, n // 5) if spec.get("cycle") else (None, None)  # the memory suite: N from fewer files
        datasets = [FileDataset(task, Path(spec["folder"]) / s, m) for s, m in zip(("train", "val"), lengths)]
        loader_kw = dict(num_workers=2, persistent_workers=False)
        if spec.get("pss"):
            import functools

            pid_dir = tempfile.mkdtemp(prefix="dg_loader_pids_")  # removed at the end of this run
            loader_kw["worker_init_fn"] = functools.partial(record_loader_worker, pid_dir)
    else:
        datasets = [PoolDataset(task, m, s, size, k) for m, s in ((n, "train"), (n // 5, "val"))]
        loader_kw = dict(num_workers=0)
    collate = list_collate if task == "detection" else None
    batch_size = spec.get("batch", BATCH[task])
    loaders = [DataLoader(ds, batch_size=batch_size, shuffle=False, collate_fn=collate, **loader_kw) for ds in datasets]
    images = sum(len(ds) for ds in datasets)
    out = {**spec, "images": images}
    t = time.perf_counter()
    if not spec.get("cycle"):  # the memory suite's files runs: a decoding pass would double their time
        for loader in loaders:
            for _ in loader:
                pass
    out["iterate_s"] = time.perf_counter() - t
    if spec["workers"]:
        manager = getattr(data_gradients, f"{task.capitalize()}AnalysisManager")
        with tempfile.TemporaryDirectory() as tmp:
            kw = manager_kwargs(task, k)
            if spec.get("writers") is False:
                kw["writers"] = []
            m = make_manager(manager, loaders, tmp, spec["workers"], kw)
            t = time.perf_counter()
            # reading smaps takes the run's mmap lock: only where memory is what is measured
            with PssSampler(enabled=bool(spec.get("pss")), loader_pids=pid_dir) as pss:
                report = m.run()
            out["total_s"] = time.perf_counter() - t
            out["peak_pss_mb"], out["loader_pss_mb"] = pss.peak_mb, pss.loader_peak_mb
        out.update(run_s=report.duration_s, write_s=report.write_s, failed=sorted(report.failed_features))
        out.update(picked_kernels())
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if pid_dir:
        import shutil

        shutil.rmtree(pid_dir, ignore_errors=True)
    return out


def picked_kernels() -> dict:
    """The kernels this process picked by timing (a wrong pick shows as an outlier: recorded); None where
    the code measured (a --baseline checkout) has no such pick."""
    import importlib

    picks = {}
    for key, module, state, field in (("hash_kernel", "data_gradients.feature_extractors.common.image_hash", "_KERNEL",
                                       "choice"),
                                      ("histograms", "data_gradients.batch.images", "_HISTOGRAMS", "method")):
        try:
            found = getattr(importlib.import_module(module), state, {})
            picks[key] = found.get(field) if isinstance(found, dict) else found.choice  # older checkouts: dicts
        except ImportError:
            picks[key] = None
    return picks


def make_manager(manager, loaders, log_dir: str, workers: int, kw: dict):
    """The manager with ``workers``; a baseline checkout from before that argument runs in one thread anyway.
    (The detection and classification managers take it through ``**kwargs``: their signature does not
    name it, so asking the signature would leave them at the default workers.)"""
    try:
        return manager(loaders[0], loaders[1], log_dir=log_dir, verbose=False, workers=workers, **kw)
    except TypeError as e:
        if "workers" not in str(e) or workers > 1:
            raise
        return manager(loaders[0], loaders[1], log_dir=log_dir, verbose=False, **kw)


# (task, checkout) -> the image hash kernel of the first run of that task in that checkout (the histograms' ways are
# often within 20 % of each other, so their pick flips from run to run without costing much: not flagged)
_KERNELS: dict = {}


def import_from(checkout: str) -> None:
    """Make ``import data_gradients`` take the package of ``checkout``, and check that it does. PYTHONPATH alone
    is not enough: an editable install (``./dev setup``'s) puts a finder in ``sys.meta_path`` that answers
    before ``sys.path`` is searched, so the baseline would silently be this checkout again."""
    sys.meta_path[:] = [f for f in sys.meta_path if "__editable__" not in getattr(f, "__module__", "")
                        and "__editable__" not in repr(f)]
    root = os.path.realpath(checkout)
    sys.path.insert(0, root)
    import data_gradients

    if not os.path.realpath(data_gradients.__file__).startswith(root + os.sep):
        raise SystemExit(f"the baseline {checkout} was not imported: data_gradients came from {data_gradients.__file__}")


def spawn(**spec) -> dict:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}  # a baseline checkout's package: imported by the child (import_from)
    res = subprocess.run([sys.executable, __file__, "--child", json.dumps(spec)], capture_output=True, text=True, env=env)
    if res.returncode != 0:
        raise SystemExit(f"child {spec} failed:\n{res.stderr[-3000:]}")
    out = json.loads(res.stdout.strip().splitlines()[-1])
    if out.get("hash_kernel"):  # picked by timing in each process (3-18x apart here): a run that picked otherwise is flagged
        first = _KERNELS.setdefault((out["task"], spec.get("baseline", "")), out["hash_kernel"])  # per checkout
        if out["hash_kernel"] != first:
            run = f"{out['task']} {out.get('source')} workers={out.get('workers')} {out.get('mode') or ''}".rstrip()
            print(f"  !! {run}: the image hash's kernel was {out['hash_kernel']}, {first} in this bench's first run of the task")
    if out.get("failed"):
        print(f"  !! failed features in {spec['task']}: {out['failed']}")
    return out


# ------------------------------------------------------------------------ suites
def suite_real(tasks, n: int, baseline: str = "", repeat: int = 3) -> None:
    print(f"\n== real resolution: N={n} train + {n // 5} val; files via DataLoader(num_workers=2); "
          f"pool = decoded samples in memory (analysis: median of {repeat} runs, in turn)\n")
    head = (f"{'task':14s} {'size':>9s} {'decode img/s':>12s} {'run w=1':>8s} {'run w=2':>8s} | "
            f"{'analysis ms/img w=1':>19s} {'w=2':>6s} {'speed-up':>8s} {'threads':>8s} | {'write s':>7s} "
            f"{'peak RSS MB files/pool':>22s}")
    print(head + "\n" + "-" * len(head))
    for task in tasks:
        size, k = REAL[task], {"segmentation": 19, "detection": 10, "classification": 100}[task]
        with tempfile.TemporaryDirectory() as tmp:
            for split, m in (("train", n), ("val", n // 5)):
                write_files(task, Path(tmp) / split, m, split, size, k)
            common = dict(task=task, n=n, size=size, classes=k, folder=tmp)
            decode = spawn(source="files", workers=0, **common)
            f1, f2 = (spawn(source="files", workers=w, **common) for w in (1, 2))
        # the analysis alone: no writers (so no preloading of theirs, which shares the run's CPU and GIL);
        # each configuration `repeat` times, in turn (this machine is noisy): the median, and the largest peak
        configs = {"p1": dict(workers=1), "p2": dict(workers=2), "t2": dict(workers=2, mode="threads")}
        if baseline:
            configs["b1"] = dict(workers=1, baseline=baseline)
        runs = {name: [] for name in configs}
        for _ in range(repeat):
            for name, kw in list(configs.items()):
                try:
                    runs[name].append(spawn(source="pool", writers=False, **kw, **common))
                except SystemExit as e:  # checkouts from before the boxes' canonical form cannot read these batches
                    if name != "b1":
                        raise
                    print(f"{'':14s} baseline {baseline} failed on {task}, left out: {str(e).splitlines()[-1][:160]}")
                    del configs[name], runs[name]
        per_run = {name: [(p["run_s"] - p["iterate_s"]) / p["images"] * 1e3 for p in rs] for name, rs in runs.items()}
        ms = {name: statistics.median(values) for name, values in per_run.items()}
        rss = {name: max(p["peak_rss_mb"] for p in rs) for name, rs in runs.items()}
        if "b1" in ms:
            print(f"{'':14s} baseline {baseline}: analysis {ms['b1']:.2f} ms/img at workers=1, peak RSS {rss['b1']:.0f} MB "
                  f"(pool)")
        a1, a2 = ms["p1"], ms["p2"]
        speed_up, threads = (paired_ratios(per_run["p1"], per_run[name]) for name in ("p2", "t2"))
        print(f"{task:14s} {size[1]:4d}x{size[0]:<4d} {decode['images'] / decode['iterate_s']:12.0f} "
              f"{f1['images'] / f1['run_s']:8.0f} {f2['images'] / f2['run_s']:8.0f} | {a1:19.2f} {a2:6.2f} "
              f"{statistics.median(speed_up):7.2f}x {statistics.median(threads):7.2f}x | {f2['write_s']:7.2f} "
              f"{f2['peak_rss_mb']:13.0f} / {rss['p2']:.0f}")
        print(target_line(task, per_run["p1"], speed_up, f2["write_s"], a1 / a2), flush=True)


def paired_ratios(slow, fast) -> list:
    """``slow[i] / fast[i]`` for each round i: the two runs of a round ran one right after the other, so each
    ratio is taken at one speed of the machine (which moves by tens of percent from one hour to the next, and
    moves a median of a few runs with it); their median is the speed-up shown."""
    return [a / b for a, b in zip(slow, fast)]


def target_line(task: str, w1_ms, speed_up, write_s: float, of_medians: Optional[float] = None) -> str:
    """Issue 8's targets for ``task`` against this run: the median analysis ms per image at workers=1 (and the
    range of its runs: this machine's speed moves by tens of percent from one hour to the next), workers=2's
    speed-up where there is a target for it (``speed_up``: each round's own ratio, :func:`paired_ratios`; judged
    by their median, shown with their range and ``of_medians``, the ratio of the two medians), and the writing
    seconds."""
    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT MET"

    median = statistics.median(w1_ms)
    parts = [f"workers=1 <= {TARGET_MS[task]:g} ms/img: {verdict(median <= TARGET_MS[task])} (median {median:.2f}, "
             f"runs {min(w1_ms):.2f}-{max(w1_ms):.2f})"]
    if task in TARGET_W2:
        paired = statistics.median(speed_up)
        medians = f"; of the medians {of_medians:.2f}x" if of_medians is not None else ""
        parts.append(f"workers=2 >= {TARGET_W2[task]:g}x: {verdict(paired >= TARGET_W2[task])} ({paired:.2f}x, the "
                     f"median of {len(speed_up)} rounds' ratios {min(speed_up):.2f}-{max(speed_up):.2f}{medians})")
    parts.append(f"write <= {TARGET_WRITE_S[task]:g} s: {verdict(write_s <= TARGET_WRITE_S[task])} ({write_s:.2f})")
    return f"{'':14s} targets: " + "; ".join(parts)


def suite_legacy(tasks, baseline: str = "", dg032: str = "") -> None:
    workers = default_workers()
    source = "measured just before, side by side" if dg032 else "quoted in issue 8, another machine"
    print(f"\n== data-gradients 0.3.2's benchmark: 256x256, 2000 + 400 images, 10 classes, batch 8, in memory; "
          f"whole run() incl. every output, with the default workers ({workers} here) and with workers=1; "
          f"0.3.2's time {source}\n")
    head = (f"{'task':14s} {'run() s':>8s} {'of which write s':>16s} {'0.3.2 s':>8s} {'faster':>7s} {'target':>7s} | "
            f"{'workers=1 s':>11s} {'faster':>7s}" + (f" | {'baseline run() s':>16s} {'write s':>7s}" if baseline else ""))
    print(head + "\n" + "-" * len(head))
    for task in tasks:
        common = dict(source="pool", task=task, n=2000, size=(256, 256), classes=10, batch=8)
        old = run_dg032(dg032, task, common["n"]) if dg032 else DG032_SECONDS[task]
        spawn(workers=workers, **{**common, "n": WARM_UP_N})  # untimed: see WARM_UP_N
        r, one = spawn(workers=workers, **common), spawn(workers=1, **common)
        line = (f"{task:14s} {r['total_s']:8.2f} {r['write_s']:16.2f} {old:8.1f} "
                f"{old / r['total_s']:6.1f}x {TARGET_SPEEDUP[task]:6d}x | {one['total_s']:11.2f} "
                f"{old / one['total_s']:6.1f}x")
        if baseline:
            b = spawn(baseline=baseline, workers=workers, **common)
            line += f" | {b['total_s']:16.2f} {b['write_s']:7.2f}"
        print(line, flush=True)


def run_dg032(python: str, task: str, n: int) -> float:
    """Seconds of data-gradients 0.3.2's construction and run() on the legacy suite's samples, run by ``python``
    (a virtualenv with 0.3.2) in a process of its own; its failed features are flagged."""
    cmd = [python, str(HERE / "dg032" / "run_dg032.py"), "--task", task, "--n", str(n), "--threads", "0", "--quiet"]
    res = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if res.returncode != 0:
        raise SystemExit(f"0.3.2 failed on {task}:\n{res.stderr[-3000:]}")
    out = json.loads(res.stdout.strip().splitlines()[-1])
    if out["failed"]:
        print(f"  !! 0.3.2's failed features in {task}: {out['failed']}")
    return float(out["total_s"])


def suite_memory(tasks, sizes=(500, 20000), repeat: int = 3, sources=("files", "pool")) -> None:
    """Each N ``repeat`` times, the two N in turn: the peak of one run moves with glibc's heap layout (+-20 MB
    on 720p segmentation, from run to run at one N), so one run per N cannot tell growth from that.

    files: the real suite's form (JPEG/PNG decoded by a DataLoader with num_workers=2), N samples going round
    FILES_POOL train files (a fifth of each for val), so that N=20000 needs no 20000 files on disk; the peak
    RSS is that of the analysing process (the loader's workers apart); the PSS is split: ours (the analysing
    process and its analysis and drawing workers) and the loader's decoding workers (torch's, known by the
    pid each leaves from its ``worker_init_fn``), which grow on their own (detection: +40 MB each from N=500 to N=20000).
    pool: decoded samples served from memory in the analysing process (num_workers=0): the loader's collation
    shares the analysis' heap, the harder case for a flat line."""
    print(f"\n== peak memory, real resolution, workers=2, N={sizes[0]} vs N={sizes[1]}, {repeat} runs of each in turn: "
          f"RSS of the analysing process; PSS of it and its analysis and drawing workers together (ours), and "
          f"of the DataLoader's decoding workers (loader, files form)\n")
    for task in tasks:
        size, k = REAL[task], {"segmentation": 19, "detection": 10, "classification": 100}[task]
        with tempfile.TemporaryDirectory() as tmp:
            if "files" in sources:
                for split, m in (("train", FILES_POOL), ("val", FILES_POOL // 5)):
                    write_files(task, Path(tmp) / split, m, split, size, k)
            for source in sources:
                extra = dict(folder=tmp, cycle=True) if source == "files" else {}
                runs: dict = {n: [] for n in sizes}
                for _ in range(repeat):
                    for n in sizes:
                        runs[n].append(spawn(source=source, workers=2, task=task, n=n, size=size, classes=k, pss=True,
                                             **extra))
                rows = [("peak_rss_mb", "peak RSS"), ("peak_pss_mb", "PSS")]
                if source == "files":  # the loader's decoding workers apart: torch's processes, not ours
                    rows = [("peak_rss_mb", "peak RSS"), ("peak_pss_mb", "PSS ours"), ("loader_pss_mb", "PSS loader")]
                for key, name in rows:
                    small, large = ([r[key] for r in runs[n]] for n in sizes)
                    med = [statistics.median(v) for v in (small, large)]
                    print(f"{task:14s} {source:5s} {name:10s} N={sizes[0]}: {_mb_runs(small)}  N={sizes[1]}: "
                          f"{_mb_runs(large)}  medians {med[1] - med[0]:+.0f} MB, widest pair {_widest(small, large):+.0f} MB",
                          flush=True)


def _mb_runs(values) -> str:
    return " ".join(f"{v:4.0f}" for v in values) + " MB"


def _widest(small, large) -> float:
    """The change between the two N of largest size over every pair of runs (one run of each N)."""
    return max((b - a for a in small for b in large), key=abs)


def suite_distributed(n: int) -> None:
    print(f"\n== torch.distributed, 720p segmentation from memory, N={n} + {n // 5}: run() up to writing\n")
    common = dict(source="pool", workers=1, task="segmentation", n=n, size=REAL["segmentation"], classes=19)
    one = spawn(**common)
    two = spawn(ranks=2, **common)
    print(f"one process, workers=1: {one['run_s']:6.2f} s ({one['images'] / one['run_s']:5.1f} img/s)")
    print(f"two ranks,   workers=1: {two['run_s']:6.2f} s ({two['images'] / two['run_s']:5.1f} img/s)   "
          f"speed-up {one['run_s'] / two['run_s']:.2f}x (target 1.8x)")


def default_workers() -> int:
    from data_gradients.managers.base import default_workers as dw

    return dw()


def cpu_line(cpuinfo: str = "/proc/cpuinfo") -> str:
    """The CPU the figures come from: model, family/model numbers and the instruction sets the picked kernels
    depend on (int8 dot products, VNNI: the image hash's ``torch._int_mm`` is fast only with them). This
    project's machine has changed under it (Intel with VNNI, AMD Zen 3 without, AMD Zen 4 with), and its
    figures moved 2-10x with it: every printed run says which one it was."""
    try:
        text = Path(cpuinfo).read_text()
    except OSError:
        return "cpu: unknown (no /proc/cpuinfo)"
    fields = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
        if not line.strip() and fields:
            break  # the first processor is enough
    flags = set(fields.get("flags", "").split())
    sets = [name for name, flag in (("AVX2", "avx2"), ("AVX-512", "avx512f"), ("AVX-512 VNNI", "avx512_vnni"),
                                    ("AVX-VNNI", "avx_vnni"), ("AMX", "amx_int8"), ("SHA", "sha_ni")) if flag in flags]
    return (f"cpu: {fields.get('model name', '?')} (family {fields.get('cpu family', '?')}, model {fields.get('model', '?')}); "
            f"{', '.join(sets) or 'none of AVX2, AVX-512, VNNI, SHA'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    suites = ["real", "legacy", "memory", "distributed"]
    parser.add_argument("--suites", nargs="+", default=suites, choices=suites)
    parser.add_argument("--tasks", nargs="+", default=list(REAL), choices=list(REAL))
    parser.add_argument("--n", type=int, default=2000, help="train images of the real suite (val: n/5); the "
                        "benchmark's N of issue 8 (400 takes a quarter of the time, its figures carry a run's fixed costs)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each in-memory configuration of the real suite "
                        "(in turn; the median is shown)")
    parser.add_argument("--memory-repeat", type=int, default=3, help="runs of each N of the memory suite (in turn)")
    parser.add_argument("--memory-sources", nargs="+", default=["files", "pool"], choices=["files", "pool"],
                        help="the memory suite's forms: files (the real suite's DataLoader) and pool (from memory)")
    parser.add_argument("--distributed-n", type=int, default=2000,
                        help="train images of the distributed suite (val: n/5); the benchmark's N of issue 8. The two "
                             "ranks pay a fixed ~0.15 s (gathering the states, broadcasting the report) that a small N "
                             "shows as a lower speed-up")
    parser.add_argument("--baseline", default="", help="a checkout of an older version (e.g. a git worktree of main): "
                        "the real and legacy suites also run it, side by side")
    parser.add_argument("--dg032", default="", metavar="PYTHON", help="the python of a virtualenv with data-gradients "
                        "0.3.2 (bench/dg032/make_venv.sh): the legacy suite runs it side by side")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        spec = json.loads(args.child)
        if spec.get("baseline"):
            import_from(spec["baseline"])
        print(json.dumps(child(spec)))
        return
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores; one torch thread per process (and one OpenCV thread "
          f"in the in-memory runs)\n{cpu_line()}")
    for suite in args.suites:
        {"real": lambda: suite_real(args.tasks, args.n, args.baseline, args.repeat),
         "legacy": lambda: suite_legacy(args.tasks, args.baseline, args.dg032),
         "memory": lambda: suite_memory(args.tasks, repeat=args.memory_repeat, sources=args.memory_sources),
         "distributed": lambda: suite_distributed(args.distributed_n)}[suite]()


if __name__ == "__main__":
    main()
