"""The diff subcommand: its parser, its output and its exit codes."""
from __future__ import annotations

import argparse
import json
import subprocess
import sys

from export_helpers import FileLikeSegmentation, seg_batches

from data_gradients import SegmentationAnalysisManager
from data_gradients.cli import diff as cli_diff
from data_gradients.reports.manifest_writer import ManifestWriter


def runs(tmp_path):
    a = FileLikeSegmentation(6)
    kw = dict(num_classes=3, verbose=False, writers=[ManifestWriter()], features=["fingerprint"])
    ra = SegmentationAnalysisManager(seg_batches(a.images, a.masks), log_dir=tmp_path / "a", **kw).run()
    rb = SegmentationAnalysisManager(seg_batches(a.images[:5], a.masks[:5]), log_dir=tmp_path / "b", **kw).run()
    rc = SegmentationAnalysisManager(seg_batches(a.images[::-1].copy(), a.masks[::-1].copy()), log_dir=tmp_path / "c",
                                     **kw).run()
    return ra.run_dir, rb.run_dir, rc.run_dir


def test_add_parser_registers_diff_with_its_func(tmp_path, capsys):
    a, b, c = runs(tmp_path)
    parser = argparse.ArgumentParser(prog="data-gradients")
    cli_diff.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["diff", str(a), str(b)])
    assert args.func(args) == 1
    out = capsys.readouterr().out
    assert "removed: 1 (first: 5)" in out and "the datasets differ" in out
    args = parser.parse_args(["diff", str(a), str(c)])
    assert args.func(args) == 0
    assert "no difference" in capsys.readouterr().out


def test_json_output_and_bad_runs(tmp_path, capsys):
    a, b, _ = runs(tmp_path)
    assert cli_diff.main([str(a), str(b), "--json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["splits"]["train"]["counts"]["removed"] == 1
    assert cli_diff.main([str(a), str(tmp_path / "nowhere")]) == 2
    assert "no manifest" in capsys.readouterr().err


def test_runs_as_a_module(tmp_path):
    a, _, c = runs(tmp_path)
    done = subprocess.run([sys.executable, "-m", "data_gradients.cli.diff", str(a), str(c)], capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr
    assert "unchanged: 6" in done.stdout
