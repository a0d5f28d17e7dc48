"""The batch structure as a numbered tree: building it and printing it (colour on a terminal only)."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from data_gradients.batch.arrays import is_array_like
from data_gradients.batch.resolver_rules import TaskRules, _shape
from data_gradients.batch.structure import PathPart, child_items, format_path, is_record_list, is_scalar

Path_ = Tuple[PathPart, ...]

@dataclass
class Item:
    """One node of the batch tree. Leaves always get a number, containers only when they
    could be the labels (detection: dicts with boxes and labels)."""

    path: Path_
    name: str
    value: Any
    leaf: bool
    children: List["Item"] = field(default_factory=list)
    number: Optional[int] = None
    roles: Tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return format_path(self.path)


def build_tree(batch: Any, rules: TaskRules) -> Tuple[Item, Dict[int, Item]]:
    """The item tree of ``batch`` and its numbered items (pre-order, from 1)."""
    numbered: Dict[int, Item] = {}

    def visit(value: Any, path: Path_, name: str) -> Item:
        kids = child_items(value)
        item = Item(path, name, value, leaf=kids is None)
        if path:
            roles = []
            if item.leaf and rules.images(value):
                roles.append("images")
            if (item.leaf or isinstance(value, dict) or is_record_list(value)) and rules.labels(value):
                roles.append("labels")
            item.roles = tuple(roles)
            if item.leaf or item.roles:
                item.number = len(numbered) + 1
                numbered[item.number] = item
        for rel, v in kids or ():
            item.children.append(visit(v, path + rel, str(rel[-1])))
        return item

    return visit(batch, (), "batch"), numbered


def summary(value: Any) -> Tuple[str, str, str]:
    """(type, shape or value, dtype) columns describing an item."""
    if isinstance(value, dict):
        return "dict", "", ""
    if is_record_list(value):
        return f"{_seq_name(value)} of {len(value)} dicts, each:", "", ""
    if is_array_like(value):
        if hasattr(value, "getbands"):
            return "PIL.Image", str(_shape(value)), f"mode {value.mode}"
        kind = "numpy.ndarray" if isinstance(value, np.ndarray) else type(value).__module__.split(".")[0] + ".Tensor"
        return kind, str(_shape(value)), str(value.dtype).replace("torch.", "")
    if isinstance(value, (list, tuple)):
        kind = _seq_name(value)
        if not value:
            return f"empty {kind}", "", ""
        if all(is_array_like(v) for v in value):
            first = summary(value[0])
            return f"{kind} of {len(value)} {first[0]}", _common_shape([_shape(v) for v in value]), first[2]
        if all(is_scalar(v) for v in value):
            types = sorted({type(v).__name__ for v in value})
            return f"{kind} of {len(value)} {'|'.join(types)}", _preview(value), ""
        return f"{kind} of {len(value)} items", "", ""
    if is_scalar(value):
        return ("None", "", "") if value is None else (type(value).__name__, _clip(repr(value)), "")
    return type(value).__name__, "", ""


def _seq_name(value: Any) -> str:
    return "tuple" if isinstance(value, tuple) else "list"


def _common_shape(shapes: List[Tuple[int, ...]]) -> str:
    if len({len(s) for s in shapes}) != 1:
        return "(mixed ranks)"
    dims = [str(d[0]) if len(set(d)) == 1 else "*" for d in zip(*shapes)]
    return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"


def _preview(values: Sequence[Any], limit: int = 28) -> str:
    shown = ", ".join(_clip(repr(v), 16) for v in values)
    return "[" + shown + "]" if len(shown) <= limit else "[" + shown[: limit - 5].rsplit(", ", 1)[0] + ", ...]"


def _clip(text: str, n: int = 30) -> str:
    return text if len(text) <= n else text[: n - 3] + "..."


def describe_item(item: Item) -> str:
    return " ".join(part for part in summary(item.value) if part)


@dataclass(frozen=True)
class Style:
    """Terminal styling: ANSI colours only on a terminal and never with NO_COLOR set."""

    colour: bool = False
    unicode: bool = True

    @classmethod
    def for_stream(cls, stream: Any) -> "Style":
        try:
            tty = bool(stream.isatty())
        except (AttributeError, ValueError):
            tty = False
        colour = tty and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"
        encoding = getattr(stream, "encoding", None) or "utf-8"
        try:
            "├└│─".encode(encoding)
            unicode = True
        except (LookupError, UnicodeEncodeError):
            unicode = False
        return cls(colour, unicode)

    def paint(self, text: str, *codes: str) -> str:
        return f"\033[{';'.join(codes)}m{text}\033[0m" if self.colour and codes and text else text


YELLOW, DIM, BOLD = "33", "2", "1"


_GLYPHS = ("├── ", "└── ", "│   ", "    ")
_ASCII_GLYPHS = ("|-- ", "`-- ", "|   ", "    ")


def render_tree(root: Item, style: Style = Style()) -> str:
    """The tree as text: numbered leaves with type, shape and dtype, candidates tagged."""
    branch, last, pipe, space = _GLYPHS if style.unicode else _ASCII_GLYPHS
    rows: List[Tuple[str, str, Item]] = []  # (tree prefix, left text, item)

    def walk(item: Item, prefix: str, connector: str) -> None:
        number = f"[{item.number}] " if item.number is not None else ""
        rows.append((prefix + connector, number + item.name, item))
        child_prefix = prefix + ("" if not connector else (space if connector == last else pipe))
        for i, child in enumerate(item.children):
            walk(child, child_prefix, last if i == len(item.children) - 1 else branch)

    walk(root, "", "")
    aligned = [(p, t, it) for p, t, it in rows if it.number is not None]
    width = max((len(p) + len(t) for p, t, _ in aligned), default=0)
    cols = [max((len(summary(it.value)[c]) for _, _, it in aligned), default=0) for c in range(3)]
    lines = []
    for prefix, text, item in rows:
        kind, shape, dtype = summary(item.value)
        if item.number is None:  # a container: its name and kind, not aligned
            lines.append(style.paint(prefix, DIM) + style.paint(text, BOLD) + "  " + style.paint(kind, DIM))
            continue
        pad = " " * (width - len(prefix) - len(text))
        body = f"{kind:<{cols[0]}}  {shape:<{cols[1]}}  {dtype:<{cols[2]}}"
        tag = "/".join(item.roles)
        if item.roles:
            number, _, name = text.partition(" ")
            line = (style.paint(prefix, DIM) + style.paint(number, BOLD, YELLOW) + " " + style.paint(name + pad, YELLOW)
                    + "  " + style.paint(body, YELLOW) + "  " + style.paint(tag, YELLOW))
        else:
            line = style.paint(prefix, DIM) + style.paint((text + pad + "  " + body).rstrip(), DIM)
        lines.append(line.rstrip())
    return "\n".join(lines)
