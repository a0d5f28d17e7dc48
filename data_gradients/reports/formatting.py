"""Text formatting shared by every writer: the TXT file, TensorBoard's text panel and the PDF.

One ``fmt`` writes every number; a table column is formatted cell by cell with it and
aligned as a whole (numbers right-aligned), so all writers show the very same strings and
agree by construction. Sample ids are written with ``format_sample_id`` (``rank:position``
on distributed runs), with their file path beside them when the data came from disk.
"""
from __future__ import annotations

from typing import Any, List, Sequence

import numpy as np

from data_gradients.results import FeatureResult, Finding, Table
from data_gradients.sample_id import format_sample_id

SMALL = 1e-4  # `g` would write smaller floats as 9.96094e-05: written positionally instead
TINY = 1e-9  # below this, scientific notation reads better than a row of zeros


def fmt(value: Any) -> str:
    """One number or cell as text: ints exact, floats with 6 significant digits, positional
    down to 1e-9 (``0.0000996094`` rather than ``9.96094e-05``)."""
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
        if TINY <= abs(v) < SMALL:
            digits = 5 - int(np.floor(np.log10(abs(v))))  # 6 significant digits after the leading zeros
            return f"{v:.{digits}f}".rstrip("0")
        return f"{v:.6g}"
    return str(value)


def is_numeric(value: Any) -> bool:
    return value is None or (isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool))


def numeric_columns(table: Table) -> List[bool]:
    """Per column: every cell is a number (or missing), so the column is right-aligned."""
    return [bool(table.rows) and all(is_numeric(r[i]) for r in table.rows if i < len(r)) for i in range(len(table.columns))]


def render_table(table: Table) -> str:
    """A fixed-width text table with a title line; number columns right-aligned."""
    cells = [[fmt(c) for c in row] for row in table.rows]
    header = [str(c) for c in table.columns]
    right = numeric_columns(table)
    widths = [max([len(header[i])] + [len(r[i]) for r in cells if i < len(r)]) for i in range(len(header))]

    def line(row: Sequence[str]) -> str:
        return "  ".join(c.rjust(w) if right[i] and i else c.ljust(w)
                         for i, (c, w) in enumerate(zip(row, widths))).rstrip()

    out = [table.title, line(header), line(["-" * w for w in widths])]
    out += [line(r) for r in cells]
    return "\n".join(out)


def markdown_table(table: Table, max_rows: int = 200) -> str:
    """The same cells as ``render_table``, as a Markdown table (TensorBoard renders Markdown)."""
    right = numeric_columns(table)
    head = [_md_cell(c) for c in table.columns]
    align = ["---:" if r and i else ":---" for i, r in enumerate(right)]
    rows = [[_md_cell(fmt(c)) for c in row] for row in table.rows[:max_rows]]
    lines = [f"**{_md_cell(table.title)}**", "", "| " + " | ".join(head) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    if len(table.rows) > max_rows:
        lines += ["", f"{len(table.rows) - max_rows} more rows in summary.txt and summary.json."]
    return "\n".join(lines)


def _md_cell(value: Any) -> str:
    return str(value).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def ids_text(f: Finding, split: str) -> str:
    """The finding's first sample ids of ``split`` as text, each with its file when known."""
    ids = f.sample_ids.get(split) or []
    paths = f.sample_paths.get(split) or []
    parts = [format_sample_id(i) + (f" ({paths[k]})" if k < len(paths) and paths[k] else "") for k, i in enumerate(ids)]
    more = " ..." if f.counts.get(split, 0) > len(ids) else ""
    return ", ".join(parts) + more


def render_finding(f: Finding) -> str:
    counts = ", ".join(f"{s} {n}" for s, n in f.counts.items())
    lines = [f"[{f.severity}] {f.title}: {counts}", f"    {f.message}", f"    why it matters: {f.why}"]
    for split, ids in f.sample_ids.items():
        if ids:
            lines.append(f"    first sample ids ({split}): {ids_text(f, split)}")
    return "\n".join(lines)


def markdown_finding(f: Finding) -> str:
    """A finding as a Markdown list item: title, message and why wrap as paragraphs."""
    counts = ", ".join(f"{s}: {n}" for s, n in f.counts.items())
    lines = [f"- **[{f.severity}] {md_text(f.title)}** ({counts})  ", f"  {md_text(f.message)}  ",
             f"  *why it matters:* {md_text(f.why)}"]
    for split, ids in f.sample_ids.items():
        if ids:
            lines[-1] += "  "
            lines.append(f"  first sample ids ({split}): {md_text(ids_text(f, split))}")
    return "\n".join(lines)


def md_text(text: str) -> str:
    """Plain text that Markdown shows as it is (no emphasis, tables or html from user strings)."""
    out = str(text).replace("\\", "\\\\")
    for c in "*_`[]<>|#":
        out = out.replace(c, "\\" + c)
    return out


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


def markdown_feature(result: FeatureResult, splits: Sequence[str]) -> str:
    """``render_feature`` as Markdown: the description, then the same tables as Markdown tables."""
    parts: List[str] = [f"### {md_text(result.title)}", md_text(result.description)]
    if result.failed:
        parts.append(f"**FAILED:** {md_text(result.error or '')}")
        return "\n\n".join(parts)
    if result.scalars:
        parts.append(markdown_table(result.scalar_table(splits)))
    parts += [markdown_table(t) for t in result.tables]
    if result.findings:
        parts.append(f"{len(result.findings)} finding(s): see the findings at the top.")
    return "\n\n".join(parts)
