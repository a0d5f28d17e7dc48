"""``python -m data_gradients.demo``: analyse the built-in synthetic datasets.

Runs every task's manager on deterministic example data the package generates
(no download) and prints where the outputs are and how to view them.
"""
from __future__ import annotations

import argparse
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


TASKS = {"segmentation": run_segmentation, "detection": run_detection, "classification": run_classification}


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
        print(f"  {r.task:15s} {r.run_dir}")
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
