"""examples/distributed_demo.py under torchrun: two CPU ranks on 127.0.0.1, one report."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import free_port

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "distributed_demo.py"



def test_torchrun_two_ranks_write_one_report(tmp_path):
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nnodes", "1", "--nproc_per_node", "2",
           "--master-addr", "127.0.0.1", "--master-port", str(free_port()),
           str(EXAMPLE), "--log-dir", str(tmp_path), "--train", "37", "--val", "9"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "rank 1: 37 train samples in the merged report; rank 0 wrote it" in out.stdout
    assert "rank 0: 37 train samples" in out.stdout
    (summary,) = tmp_path.glob("*/*/summary.json")
    js = json.loads(summary.read_text())
    assert js["splits"]["train"]["samples"] == 37 and js["splits"]["val"]["samples"] == 9
    assert (summary.parent / "report.pdf").exists()
