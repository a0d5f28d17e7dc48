"""Text formatting shared by the TXT file and TensorBoard's text panel.

Both show the very same strings, so they agree by construction.
"""
from __future__ import annotations

from typing import Any, List, Sequence

import numpy as np

from data_gradients.results import FeatureResult, Finding, Table


def fmt(value: Any) -> str:
    """One number or cell as text: ints exact, floats with 6 significant digits."""
    if value is None:
        return "-"
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if np.isnan(v):
            return "nan"
        return f"{v:.6g}"
    return str(value)


def render_table(table: Table) -> str:
    """A fixed-width text table with a title line."""
    cells = [[fmt(c) for c in row] for row in table.rows]
    header = [str(c) for c in table.columns]
    widths = [max([len(header[i])] + [len(r[i]) for r in cells if i < len(r)]) for i in range(len(header))]
    line = lambda row: "  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip()  # noqa: E731
    out = [table.title, line(header), line(["-" * w for w in widths])]
    out += [line(r) for r in cells]
    return "\n".join(out)


def render_finding(f: Finding) -> str:
    counts = ", ".join(f"{s} {n}" for s, n in f.counts.items())
    lines = [f"[{f.severity}] {f.title}: {counts}", f"    {f.message}", f"    why it matters: {f.why}"]
    for split, ids in f.sample_ids.items():
        if ids:
            more = " ..." if f.counts.get(split, 0) > len(ids) else ""
            lines.append(f"    first sample ids ({split}): {', '.join(str(i) for i in ids)}{more}")
    return "\n".join(lines)


def render_feature(result: FeatureResult, splits: Sequence[str]) -> str:
    """The text section of one feature: key numbers and tables (findings have their own section)."""
    parts: List[str] = [f"== {result.title} ({result.name}) =="]
    if result.failed:
        parts.append(f"FAILED: {result.error}")
        return "\n".join(parts)
    if result.scalars:
        parts.append(render_table(result.scalar_table(splits)))
    parts += [render_table(t) for t in result.tables]
    if result.findings:
        parts.append(f"{len(result.findings)} finding(s): see Findings.")
    return "\n\n".join(parts)
