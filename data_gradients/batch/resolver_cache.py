"""Remembered answers of the batch resolver: a small JSON file in the user's cache.

The file is ``$DATA_GRADIENTS_CACHE_DIR/batch_resolver.json``, else
``$XDG_CACHE_HOME/data_gradients/batch_resolver.json``, else
``~/.cache/data_gradients/batch_resolver.json``. Answers are keyed by a signature
of the batch structure (key paths, leaf kinds and ranks, and the task), so batches
of another size or image shape reuse the answer, and a changed structure asks again.
A missing, unreadable or unwritable file never stops an analysis: it only means
the questions are asked again.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from data_gradients.batch.structure import format_path, iter_leaves, leaf_kind, leaf_rank

logger = logging.getLogger("data_gradients")

ENV_VAR = "DATA_GRADIENTS_CACHE_DIR"
FILE_NAME = "batch_resolver.json"
FORMAT = 1
MAX_ENTRIES = 200  # oldest answers are dropped beyond this


def cache_dir() -> Path:
    """The folder of data_gradients' cache files (see the module docstring)."""
    explicit = os.environ.get(ENV_VAR)
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "data_gradients"


def structure_signature(batch: Any, task: str) -> Tuple[str, List[str]]:
    """(key, readable lines) describing the structure of ``batch`` for ``task``.

    Only key paths, leaf kinds and ranks count: shapes, dtypes and values that vary
    from batch to batch do not.
    """
    lines = [f"{format_path(p)}: {leaf_kind(v)} rank {leaf_rank(v)}" for p, v in iter_leaves(batch)]
    digest = hashlib.sha256(json.dumps([task, lines]).encode("utf-8")).hexdigest()[:16]
    return f"{task}:{digest}", lines


class ResolverCache:
    """Answers (images / labels key paths) per structure signature, in one JSON file."""

    def __init__(self, path: Optional[os.PathLike] = None):
        self.path = Path(path) if path is not None else cache_dir() / FILE_NAME

    def get(self, key: str) -> Optional[Dict[str, Any]]:
        """The stored entry for ``key``: ``{"images": path|None, "labels": path|None, "saved": ...}``."""
        entry = self._load().get(key)
        return entry if isinstance(entry, dict) else None

    def put(self, key: str, *, images: Optional[str], labels: Optional[str], task: str,
            structure: List[str]) -> bool:
        """Store an answer (merged with a stored one for the other role); False if it could not be saved."""
        answers = self._load()
        old = answers.pop(key, None) or {}
        answers[key] = {
            "task": task,
            "images": images if images is not None else old.get("images"),
            "labels": labels if labels is not None else old.get("labels"),
            "saved": datetime.now().isoformat(timespec="seconds"),
            "structure": structure,
        }
        while len(answers) > MAX_ENTRIES:
            answers.pop(next(iter(answers)))
        return self._save(answers)

    def forget(self, key: str) -> bool:
        """Drop the answer for ``key``; True if there was one."""
        answers = self._load()
        if answers.pop(key, None) is None:
            return False
        self._save(answers)
        return True

    # ----------------------------------------------------------------- file
    def _load(self) -> Dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as e:
            logger.warning("data_gradients: ignoring unreadable resolver cache %s (%s)", self.path, e)
            return {}
        answers = data.get("answers") if isinstance(data, dict) and data.get("format") == FORMAT else None
        return dict(answers) if isinstance(answers, dict) else {}

    def _save(self, answers: Dict[str, Any]) -> bool:
        text = json.dumps({"format": FORMAT, "answers": answers}, indent=1, sort_keys=False)
        tmp = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".batch_resolver.", dir=self.path.parent)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text + "\n")
            os.replace(tmp, self.path)  # atomic: a concurrent reader never sees half a file
            return True
        except OSError as e:
            logger.warning("data_gradients: could not save the resolver answer to %s (%s)", self.path, e)
            if tmp is not None and os.path.exists(tmp):
                os.unlink(tmp)
            return False
