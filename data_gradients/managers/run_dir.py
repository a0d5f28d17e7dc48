"""Where a run writes: ``log_dir/<title>/<timestamp>/``, never over an earlier run."""
from __future__ import annotations

import os
import re
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any, Optional

from data_gradients.errors import ConfigurationError


def slugify(text: str) -> str:
    """A folder-safe version of a title: letters, digits, ``-`` and ``_`` only."""
    slug = re.sub(r"[^A-Za-z0-9_-]+", "_", text.strip()).strip("_")
    return slug[:80] or "report"


def check_log_dir(log_dir: Any) -> Path:
    """``log_dir`` as a Path, checked before any data is read: the folder is created if needed
    and a file is written and removed in it, so a bad place fails now, not after the whole
    dataset was read."""
    if not isinstance(log_dir, (str, os.PathLike)) or str(log_dir) == "":
        raise ConfigurationError(f"`log_dir` must be a folder path (str or Path), got {log_dir!r}")
    path = Path(log_dir).expanduser()
    if path.exists() and not path.is_dir():
        raise ConfigurationError(f"`log_dir`={str(log_dir)!r} is a file, not a folder: outputs cannot be written there")
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as e:
        raise ConfigurationError(f"`log_dir`={str(log_dir)!r} cannot be used for the outputs: "
                                 f"{e.strerror or e} ({type(e).__name__})") from None
    return path


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
