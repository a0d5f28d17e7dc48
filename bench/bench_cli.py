"""The command line's speed against a bare loop over the same DataLoader that only decodes.

    python bench/bench_cli.py [--n 400] [--workers N] [--reps 3] [--root DIR]

Writes (once, then reuses) a COCO-layout folder of ``--n`` 640x480 JPEGs with ~5 boxes each,
then alternates, ``--reps`` times:

- ``bare``: ``for batch in make_loader(COCODataset(...), workers=N)`` -- decoding in N worker
  processes and nothing else;
- ``cli``: ``data-gradients analyze --task detection --format coco ... --workers N --no-pdf`` through
  the CLI's own code path (``build_manager(args).run()``); images/s of the analysis (reading,
  decoding, every feature: the report's ``duration_s``), and the whole command's seconds with the
  outputs written.

Prints images/s per repetition and the medians, and the CLI's ratio to the bare loop; then the CPU
cost per image of its two parts, each in one thread of this process: decoding alone, and the
analysis of the decoded images (``DetectionAnalysisManager`` over the decoded batches, ``workers=1``).
On a machine whose cores all decode, the CLI cannot beat ``cores / (decode + analysis)`` images/s.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from data_gradients.cli import build_parser  # noqa: E402
from data_gradients.cli.analyze import build_manager  # noqa: E402
from data_gradients.datasets import COCODataset, default_loader_workers, make_loader  # noqa: E402
from data_gradients.datasets.examples import write_coco_example  # noqa: E402


def bare(ann: Path, images: Path, workers: int, batch_size: int) -> float:
    t0 = time.perf_counter()
    n = 0
    for batch_images, _ in make_loader(COCODataset(ann, images), batch_size=batch_size, workers=workers):
        n += len(batch_images)
    return n / (time.perf_counter() - t0)


def cli(ann: Path, images: Path, workers: int, batch_size: int, log_dir: str):
    argv = ["analyze", "--task", "detection", "--format", "coco", "--train", f"{ann}:{images}", "--workers",
            str(workers), "--batch-size", str(batch_size), "--no-pdf", "--quiet", "--log-dir", log_dir]
    t0 = time.perf_counter()
    report = build_manager(build_parser().parse_args(argv)).run()
    wall = time.perf_counter() - t0
    return report.splits["train"].samples / report.duration_s, wall


def breakdown(ann: Path, images: Path, batch_size: int) -> None:
    from data_gradients import DetectionAnalysisManager

    dataset = COCODataset(ann, images)
    t0 = time.perf_counter()
    batches = list(make_loader(dataset, batch_size=batch_size, workers=0))
    decode = (time.perf_counter() - t0) / len(dataset)
    with tempfile.TemporaryDirectory() as log_dir:
        report = DetectionAnalysisManager(batches, **dataset.manager_kwargs(), writers=[], verbose=False,
                                          log_dir=log_dir, workers=1).run()
    analysis = report.duration_s / len(dataset)
    print(f"one thread: decoding {1000 * decode:.2f} ms/img, analysis of decoded images {1000 * analysis:.2f} ms/img")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=400)
    parser.add_argument("--workers", type=int, default=default_loader_workers())
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--root", default=str(Path(tempfile.gettempdir()) / "data_gradients_bench_cli"))
    args = parser.parse_args()
    t0 = time.perf_counter()
    ann, images = write_coco_example(args.root, args.n, size=(480, 640), max_objects=9, seed=0)
    print(f"dataset: {args.n} JPEGs 640x480 in {images} ({time.perf_counter() - t0:.1f} s to write or check)")
    print(f"DataLoader workers: {args.workers}, batch size {args.batch_size}")
    bare_rates, cli_rates, walls = [], [], []
    with tempfile.TemporaryDirectory() as log_dir:
        for rep in range(args.reps):
            bare_rates.append(bare(ann, images, args.workers, args.batch_size))
            rate, wall = cli(ann, images, args.workers, args.batch_size, log_dir)
            cli_rates.append(rate)
            walls.append(wall)
            print(f"rep {rep}: bare {bare_rates[-1]:7.1f} img/s | cli {cli_rates[-1]:7.1f} img/s "
                  f"(whole command with outputs {wall:.1f} s)")
    b, c = statistics.median(bare_rates), statistics.median(cli_rates)
    print(f"median: bare {b:.1f} img/s, cli {c:.1f} img/s -> cli / bare = {c / b:.2f} "
          f"({100 * (1 - c / b):+.0f} % slower); whole command {statistics.median(walls):.1f} s")
    breakdown(ann, images, args.batch_size)


if __name__ == "__main__":
    main()
