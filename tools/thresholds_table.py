"""Print the README's table of thresholds (name, default, allowed range, meaning) from the declared ones.

    .venv/bin/python tools/thresholds_table.py

Paste the output into README.md's "Thresholds" section; tests/test_thresholds.py checks that the
README holds exactly this table.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _bound(value) -> str:
    return "" if value is None else f"{value:g}"


def markdown_table() -> str:
    from data_gradients.thresholds import declared

    lines = ["| threshold | default | range | meaning |", "| --- | --- | --- | --- |"]
    for name, t in declared().items():
        if name.startswith("test_only"):
            continue
        span = "" if t.minimum is None and t.maximum is None else f"{_bound(t.minimum)}..{_bound(t.maximum)}"
        lines.append(f"| `{name}` | {t.default:g} | {span} | {t.doc} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown_table())
