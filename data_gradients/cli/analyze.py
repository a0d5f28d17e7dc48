"""``data-gradients analyze``: analyse a dataset on disk (COCO, Pascal VOC, YOLO, mask folders, class folders).

Exit codes: 0 = the report was written; 2 = a usage error (the message names the flag); 1 = the run
failed (the partial report of what was read is written first, its folder printed).
"""
from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

from data_gradients.cli.sources import (
    FORMATS,
    UsageError,
    open_splits,
    parse_ints,
    parse_names,
    parse_thresholds,
    read_class_names,
)

HELP = "analyse a dataset on disk: COCO, Pascal VOC, YOLO, mask folders or class folders"
DESCRIPTION = """\
Analyse a dataset stored in one of the common layouts, with the same outputs as the Python managers
(TensorBoard events, summary.txt, summary.json and report.pdf in LOG_DIR/<title>/<timestamp>/).
Images are decoded by a DataLoader in --workers processes. Bad files (corrupt or truncated images,
missing label files, labels without an image, empty annotation files, unknown category ids,
polygons with fewer than 3 points) are findings listed with their paths; the rest is analysed.

Splits: --train SPEC, --val SPEC, --test SPEC, where SPEC depends on --format:
""" + "\n".join(f"  {fmt:8s} ({'/'.join(tasks)}): {what}" for fmt, (tasks, what) in FORMATS.items()) + """

  coco      classes are the JSON's categories (by id); --task segmentation rasterises the instances
            into class-id masks (0 = background), the later annotation winning where they overlap;
            crowd annotations are skipped unless --include-crowd.
  voc       detection from Annotations/*.xml (VOC's 20 classes), segmentation from the
            SegmentationClass PNGs' palette ids (255 is ignored); IMAGE_SET names a list in ImageSets.
  yolo      rows 'class cx cy w h' (detection) or 'class x1 y1 x2 y2 ...' polygons (segmentation);
            --data data.yaml gives the names and the splits.
  masks     images and masks paired by file stem; masks hold class ids (--num-classes needed).
  folders   torchvision's ImageFolder layout; the class names are the folder names.

Example:
  data-gradients analyze --task detection --format coco \\
      --train ann/instances_train.json:images/train --val ann/instances_val.json:images/val \\
      --max-samples 5000 --seed 0 --log-dir logs
"""
FLAGS = {  # manager argument -> the flag that sets it (for error messages)
    "num_classes": "--num-classes", "class_names": "--class-names", "ignore_labels": "--ignore-labels",
    "features": "--features", "exclude_features": "--exclude-features", "thresholds": "--thresholds",
    "threshold": "--thresholds", "log_dir": "--log-dir", "report_title": "--title", "workers": "--threads",
    "samples_to_visualize": "--samples", "seed": "--seed", "feature": "--features",
}


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``analyze`` on an ``argparse`` subparsers object; its ``func(args) -> int`` runs it."""
    p = subparsers.add_parser("analyze", help=HELP, description=DESCRIPTION,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--task", required=True, choices=["segmentation", "detection", "classification"],
                   help="what the labels are")
    p.add_argument("--format", required=True, choices=list(FORMATS), help="the layout on disk (see above)")
    for split in ("train", "val", "test"):
        p.add_argument(f"--{split}", metavar="SPEC", help=f"the {split} split (SPEC: see above)")
    p.add_argument("--data", metavar="YAML", help="YOLO's data.yaml: class names and splits (paths relative to it)")
    p.add_argument("--num-classes", type=int, metavar="N", help="number of classes when the files do not say (masks)")
    p.add_argument("--class-names", metavar="FILE", help="a text file of class names, one per line, in id order")
    p.add_argument("--ignore-labels", metavar="IDS", help="label ids never counted nor shown, e.g. 0,255")
    p.add_argument("--include-crowd", action="store_true", help="COCO: also read iscrowd annotations")
    p.add_argument("--features", metavar="NAMES", help="feature extractors to run, comma-separated (default all)")
    p.add_argument("--exclude-features", metavar="NAMES", help="feature extractors to skip, comma-separated")
    p.add_argument("--thresholds", metavar="NAME=VALUE,...", help="limits of the findings, e.g. dark_image=0.1")
    p.add_argument("--max-samples", type=int, metavar="N",
                   help="analyse a uniform random subset of N samples per split (the report states the fraction)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random subset and of the sample pictures")
    p.add_argument("--workers", type=int, metavar="N",
                   help="decoding processes of the DataLoader (default: the usable cores, at most 8; 0 = in process)")
    p.add_argument("--threads", type=int, metavar="N",
                   help="analysis workers: forked processes, threads where fork is unavailable (default: the "
                        "usable cores, at most 8)")
    p.add_argument("--batch-size", type=int, default=16, metavar="N", help="samples per loader batch (default 16)")
    p.add_argument("--samples", type=int, default=10, metavar="N", help="sample pictures per split in TensorBoard")
    p.add_argument("--hide-class-names", action="store_true", help="show class ids instead of names everywhere")
    p.add_argument("--log-dir", default="logs", help="outputs go to LOG_DIR/<title>/<timestamp>/ (default logs)")
    p.add_argument("--title", help="the report's title (default '<Task> analysis')")
    p.add_argument("--no-pdf", action="store_true", help="skip the PDF (the other outputs are written)")
    p.add_argument("--quiet", action="store_true", help="no progress bar nor summary on stderr")
    p.set_defaults(func=run)
    return p


def build_manager(args: argparse.Namespace) -> Any:
    """The task's manager over DataLoaders of the datasets the arguments name (raises UsageError)."""
    from data_gradients import ClassificationAnalysisManager, DetectionAnalysisManager, SegmentationAnalysisManager
    from data_gradients.datasets import make_loader
    from data_gradients.errors import DataGradientsError

    for flag, value, minimum in (("--max-samples", args.max_samples, 1), ("--workers", args.workers, 0),
                                 ("--batch-size", args.batch_size, 1), ("--num-classes", args.num_classes, 1),
                                 ("--threads", args.threads, 1), ("--samples", args.samples, 0)):
        if value is not None and value < minimum:
            raise UsageError(flag, f"must be an integer >= {minimum}, got {value}")
    thresholds = parse_thresholds(args.thresholds)
    ignore = parse_ints(args.ignore_labels, "--ignore-labels")
    datasets = open_splits(args)
    first = next(iter(datasets.values()))
    kwargs: Dict[str, Any] = dict(first.manager_kwargs())
    for split, dataset in datasets.items():
        if list(dataset.class_names) != list(first.class_names):
            raise UsageError(f"--{split}", f"its classes {dataset.class_names[:5]}... differ from those of the "
                                           f"first split {first.class_names[:5]}...")
    names = read_class_names(args.class_names) if args.format != "yolo" else None
    if names is not None:
        if args.format != "masks" and len(names) != kwargs["num_classes"]:
            raise UsageError("--class-names", f"{len(names)} names for the dataset's {kwargs['num_classes']} classes")
        kwargs["class_names"] = names
    kwargs["ignore_labels"] = sorted(set(kwargs.get("ignore_labels", [])) | set(ignore))
    loaders = {s: make_loader(d, batch_size=args.batch_size, workers=args.workers, max_samples=args.max_samples,
                              seed=args.seed) for s, d in datasets.items()}
    manager_cls = {"segmentation": SegmentationAnalysisManager, "detection": DetectionAnalysisManager,
                   "classification": ClassificationAnalysisManager}[args.task]
    try:
        return manager_cls(
            splits=loaders, **kwargs, features=parse_names(args.features),
            exclude_features=parse_names(args.exclude_features) or (), thresholds=thresholds,
            samples_to_visualize=args.samples, log_dir=args.log_dir, report_title=args.title, seed=args.seed,
            hide_class_names=args.hide_class_names, verbose=not args.quiet, workers=args.threads,
            writers=_writers(args.no_pdf))
    except DataGradientsError as e:  # nothing was read yet: an argument is wrong
        raise UsageError(_flag_of(str(e)), str(e)) from None


def _writers(no_pdf: bool) -> Optional[List[Any]]:
    if not no_pdf:
        return None
    from data_gradients.reports.writers import default_writers

    return [w for w in default_writers() if getattr(w, "name", "") != "pdf"]


def _flag_of(message: str) -> str:
    for word in re.findall(r"`(\w+)`", message) + re.findall(r"\b(threshold|feature)s?\b", message):
        if word in FLAGS:
            return FLAGS[word]
    return "--task"


def run(args: argparse.Namespace) -> int:
    from data_gradients.demo.__main__ import tensorboard_command
    from data_gradients.managers.run_dir import slugify

    try:
        manager = build_manager(args)
    except UsageError as e:
        print(f"data-gradients analyze: error: argument {e.flag}: {e}", file=sys.stderr)
        return 2
    started = time.time()
    try:
        report = manager.run()
    except Exception as e:  # the partial report was written before the error was raised
        print(f"data-gradients analyze: the run failed: {type(e).__name__}: {e}", file=sys.stderr)
        partial = _newest_run(Path(manager.log_dir) / slugify(manager.report_title), started)
        if partial is not None:
            print(f"partial report: {partial}")
        return 1
    print(f"report: {report.run_dir}")
    for key, path in report.outputs.items():
        print(f"  {key}: {path}")
    print(f"View it in TensorBoard:\n  {tensorboard_command()} --logdir {manager.log_dir}")
    for warning in report.warnings:  # an output that could not be written (e.g. the PDF without wkhtmltopdf)
        print(f"warning: {warning}", file=sys.stderr)
    return 0


def _newest_run(folder: Path, since: float) -> Optional[Path]:
    runs = [p for p in folder.glob("*") if p.is_dir() and p.stat().st_mtime >= since - 1]
    return max(runs, key=lambda p: p.stat().st_mtime) if runs else None
