"""The ``data-gradients`` command line: one subcommand per module of this package.

``analyze``: analyse a dataset on disk (COCO, Pascal VOC, YOLO, mask folders, class folders).
``diff``: what changed in the dataset between two runs.

Each subcommand module exposes ``add_parser(subparsers)``, which registers its parser and sets
``func(args) -> int`` (the exit code). ``main(argv)`` returns that code: 0 success, 1 the run
failed (or, for ``diff``, the datasets differ), 2 a usage error naming the flag.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from typing import List, Optional

SUBCOMMANDS = ("analyze", "diff")  # modules of data_gradients.cli, registered in this order

DESCRIPTION = """\
Find out what is really in your computer-vision training data: class frequencies, object counts,
sizes and positions, image resolution, brightness and colour, corrupt data and train/val differences,
in TensorBoard, a TXT summary, JSON and a PDF report.

Run 'data-gradients <command> --help' for a command's arguments. From Python, use the managers
(SegmentationAnalysisManager, DetectionAnalysisManager, ClassificationAnalysisManager) with any loader."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="data-gradients", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    from data_gradients import __version__

    parser.add_argument("--version", action="version", version=f"data-gradients {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        importlib.import_module(f"{__name__}.{name}").add_parser(subparsers)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help, --version (0) and usage errors (2)
        return int(e.code or 0)
    if getattr(args, "func", None) is None:
        parser.print_help(sys.stderr)
        return 2
    return int(args.func(args))
