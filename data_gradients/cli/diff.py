"""``data-gradients diff RUN_A RUN_B``: what changed in the dataset between two runs.

Registered by the CLI package through :func:`add_parser`; ``python -m data_gradients.cli.diff RUN_A RUN_B``
runs it on its own. Exit codes: 0 = the datasets are identical, 1 = they differ (like ``diff``),
2 = a run folder has no manifest or the arguments are wrong.
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import List, Optional

HELP = "list the samples added, removed, relabelled or with a changed image between two runs"
DESCRIPTION = """\
Compare the datasets of two runs from their manifests (manifest.tsv in each run folder: every sample's id,
file path when known, and a hash of its image and of its labels). Samples are matched by file path when
both runs have paths, else by content (same image and labels, then same image, then same sample id).

Prints, per split: added and removed samples, samples whose labels changed but not the image, and samples
whose image changed, each with its count and the first ids. Exit code 0 when the datasets are identical,
1 when they differ, 2 when a run cannot be read."""


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``diff RUN_A RUN_B`` on an ``argparse`` subparsers object; its ``func(args) -> int`` runs it."""
    parser = subparsers.add_parser("diff", help=HELP, description=DESCRIPTION,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    _arguments(parser)
    parser.set_defaults(func=run)
    return parser


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_a", metavar="RUN_A", help="the earlier run folder (or its manifest.tsv)")
    parser.add_argument("run_b", metavar="RUN_B", help="the later run folder (or its manifest.tsv)")
    parser.add_argument("--first", type=int, default=10, metavar="N", help="sample ids listed per kind (default 10)")
    parser.add_argument("--json", action="store_true", help="print the whole difference as JSON (every sample)")


def run(args: argparse.Namespace) -> int:
    from data_gradients.errors import DataGradientsError
    from data_gradients.export.run_diff import diff_runs

    if args.first < 0:
        print("data-gradients diff: --first must be >= 0", file=sys.stderr)
        return 2
    try:
        result = diff_runs(args.run_a, args.run_b)
    except DataGradientsError as e:
        print(f"data-gradients diff: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result.to_dict(), indent=1))
    else:
        print(result.summary(first=args.first))
    return 0 if result.identical else 1


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="data-gradients diff", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    _arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
