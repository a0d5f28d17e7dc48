"""Where a run writes: ``log_dir/<title>/<timestamp>/``, never over an earlier run."""
from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Optional


def slugify(text: str) -> str:
    """A folder-safe version of a title: letters, digits, ``-`` and ``_`` only."""
    slug = re.sub(r"[^A-Za-z0-9_-]+", "_", text.strip()).strip("_")
    return slug[:80] or "report"


def new_run_dir(log_dir: Path, title: str, now: Optional[datetime] = None) -> Path:
    """Create and return a fresh run folder; a suffix ``-2``, ``-3``... avoids collisions."""
    stamp = (now or datetime.now()).strftime("%Y-%m-%d_%H-%M-%S")
    base = Path(log_dir) / slugify(title)
    candidate, n = base / stamp, 1
    while True:
        try:
            candidate.mkdir(parents=True, exist_ok=False)
            return candidate
        except FileExistsError:
            n += 1
            candidate = base / f"{stamp}-{n}"
