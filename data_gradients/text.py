"""User strings made safe for every output: one visible line, whatever the user passed."""
from __future__ import annotations

import unicodedata

_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(text: str) -> str:
    """``text`` on one line: newlines, tabs and other control or format characters (and line or
    paragraph separators) shown as escapes (``\\n``, ``\\x07``, ``\\u2028``), so they cannot break a
    TXT table, a Markdown table in TensorBoard, or a PDF heading. Other text is left as it is."""
    out = []
    for ch in str(text):
        if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp"):
            out.append(_ESCAPES.get(ch) or (f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}"))
        else:
            out.append(ch)
    return "".join(out)
