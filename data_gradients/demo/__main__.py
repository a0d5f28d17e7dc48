"""``python -m data_gradients.demo``: analyse the built-in synthetic datasets.

Runs every task's manager on deterministic example data the package generates
(no download), then the command line ``data-gradients analyze`` on a small COCO-layout
dataset it writes to ``<log-dir>/demo_dataset/``, and prints where the outputs are and
how to view them.
"""
from __future__ import annotations

import argparse
import shlex
import shutil
import sys
from pathlib import Path
from typing import List, Optional


def run_segmentation(log_dir: str, n_train: int, n_val: int, samples: int):
    from data_gradients import SegmentationAnalysisManager
    from data_gradients.demo.datasets import DEMO_CLASS_NAMES, segmentation_demo_loaders

    train, val = segmentation_demo_loaders(n_train=n_train, n_val=n_val, batch_size=8, seed=0)
    return SegmentationAnalysisManager(
        train, val, num_classes=len(DEMO_CLASS_NAMES), class_names=DEMO_CLASS_NAMES, ignore_labels=[0],
        samples_to_visualize=samples, log_dir=log_dir, report_title="Demo segmentation",
    ).run()


def run_detection(log_dir: str, n_train: int, n_val: int, samples: int):
    from data_gradients import DetectionAnalysisManager
    from data_gradients.demo.detection_data import DETECTION_CLASS_NAMES, detection_demo_loaders

    train, val = detection_demo_loaders(n_train=n_train, n_val=n_val, batch_size=8, seed=0)
    return DetectionAnalysisManager(
        train, val, num_classes=len(DETECTION_CLASS_NAMES), class_names=DETECTION_CLASS_NAMES,
        samples_to_visualize=samples, log_dir=log_dir, report_title="Demo detection",
    ).run()


def run_classification(log_dir: str, n_train: int, n_val: int, samples: int):
    from data_gradients import ClassificationAnalysisManager
    from data_gradients.demo.classification_data import CLASSIFICATION_CLASS_NAMES, classification_demo_loaders

    # small images are cheap: use more of them
    train, val = classification_demo_loaders(n_train=n_train * 4, n_val=n_val * 4, batch_size=64, seed=0)
    return ClassificationAnalysisManager(
        train, val, num_classes=len(CLASSIFICATION_CLASS_NAMES), class_names=CLASSIFICATION_CLASS_NAMES,
        samples_to_visualize=samples, log_dir=log_dir, report_title="Demo classification",
    ).run()


def run_from_files(log_dir: str, n_train: int, n_val: int, samples: int):
    """The command line's code path on files: write a small COCO dataset, run ``data-gradients analyze`` on it."""
    from data_gradients.cli import build_parser
    from data_gradients.cli.analyze import build_manager
    from data_gradients.datasets.examples import write_coco_example

    root = Path(log_dir) / "demo_dataset"
    train = write_coco_example(root, max(1, n_train // 8), split="train", size=(180, 240), seed=0)
    val = write_coco_example(root, max(1, n_val // 4), split="val", size=(180, 240), seed=1)
    argv = ["analyze", "--task", "detection", "--format", "coco", "--train", f"{train[0]}:{train[1]}",
            "--val", f"{val[0]}:{val[1]}", "--log-dir", str(log_dir), "--title", "Demo from files",
            "--samples", str(samples), "--no-pdf"]  # the PDF: see the other runs
    print("\nThe same from files on disk, with the command line:\n  data-gradients " + " ".join(map(shlex.quote, argv)))
    return build_manager(build_parser().parse_args(argv)).run()


TASKS = {"segmentation": run_segmentation, "detection": run_detection, "classification": run_classification,
         "files": run_from_files}


def tensorboard_command() -> str:
    """``tensorboard`` if it is on PATH, else the one beside this Python (e.g. in .venv/bin)."""
    if shutil.which("tensorboard"):
        return "tensorboard"
    beside = Path(sys.executable).parent / "tensorboard"
    return str(beside) if beside.exists() else "tensorboard"


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m data_gradients.demo", description=__doc__)
    parser.add_argument("--log-dir", default="logs/demo", help="where the runs are written (default: logs/demo)")
    parser.add_argument("--tasks", nargs="+", choices=sorted(TASKS), default=list(TASKS), help="tasks to run")
    parser.add_argument("--train", type=int, default=400, help="train samples per task")
    parser.add_argument("--val", type=int, default=100, help="val samples per task")
    parser.add_argument("--samples", type=int, default=8, help="samples to visualise per split")
    args = parser.parse_args(argv)
    reports = [TASKS[t](args.log_dir, args.train, args.val, args.samples) for t in args.tasks]
    print("\nDemo finished. Outputs:")
    for r in reports:
        print(f"  {r.task if r.title != 'Demo from files' else 'from files':15s} {r.run_dir}")
        for key in ("pdf", "txt", "json"):
            if key in r.outputs:
                print(f"  {'':15s}   {key}: {r.outputs[key]}")
    print(f"\nView them in TensorBoard:\n  {tensorboard_command()} --logdir {args.log_dir}")
    if any(r.warnings for r in reports):
        for r in reports:
            for w in r.warnings:
                print(f"warning: {w}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
