"""Look at a log folder as a user would: start the venv's TensorBoard on 127.0.0.1 and take
headless Chromium screenshots of its dashboards (``apt-get install -y chromium`` first).

Usage: python tools/tensorboard_screenshots.py LOGDIR [--out DIR] [--tabs timeseries scalars text hparams images]
       [--tag-filter REGEX]

Every wait is bounded; the server is stopped at the end. The PNGs are ``<out>/<tab>.png``.
"""
from __future__ import annotations

import argparse
import contextlib
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Iterator

HERE = Path(__file__).resolve().parent.parent
TABS = ["timeseries", "scalars", "text", "hparams", "images", "histograms", "distributions"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def tensorboard(logdir: Path, timeout: float = 60.0) -> Iterator[str]:
    """A TensorBoard server on 127.0.0.1 for ``logdir``; yields its base URL once it answers."""
    port = free_port()
    exe = HERE / ".venv" / "bin" / "tensorboard"
    proc = subprocess.Popen([str(exe), "--logdir", str(logdir), "--host", "127.0.0.1", "--port", str(port),
                             "--reload_interval", "0"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"tensorboard exited: {proc.stderr.read().decode()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{url}/data/runs", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"tensorboard did not answer within {timeout} s")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def screenshot(url: str, out: Path, size: str = "1600,1200", budget_ms: int = 15000) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        raise RuntimeError("chromium not found: apt-get install -y chromium")
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                        "--disable-background-networking", "--disable-component-update", "--disable-sync",
                        f"--user-data-dir={profile}", f"--window-size={size}", f"--virtual-time-budget={budget_ms}",
                        f"--screenshot={out}", url], check=True, timeout=120,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("logdir", type=Path)
    parser.add_argument("--out", type=Path, default=Path("tb_screenshots"))
    parser.add_argument("--tabs", nargs="+", default=TABS[:5])
    parser.add_argument("--size", default="1600,1200")
    parser.add_argument("--tag-filter", default="", help="a regular expression: only the tags it matches (e.g. _samples)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with tensorboard(args.logdir) as url:
        for tab in args.tabs:
            path = args.out / f"{tab}.png"
            screenshot(f"{url}/#{tab}" + (f"&tagFilter={args.tag_filter}" if args.tag_filter else ""), path, args.size)
            print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
