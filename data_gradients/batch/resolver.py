"""Finding the images and the labels in dict-like batches, with the user, once.

When a batch is not an ``(images, labels)`` pair and no extractor or key path was
given, :class:`BatchResolver` prints the batch structure as a numbered tree, asks
which item is the images and which the labels, remembers the answer per batch
structure (see :mod:`~data_gradients.batch.resolver_cache`) and prints the
``images_key=`` / ``labels_key=`` arguments that skip the questions. Without a
terminal (CI, batch jobs) and no stored answer it raises instead of waiting.
"""
from __future__ import annotations

import builtins
import json
import logging
import os
import re
import sys
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, TextIO, Tuple

import numpy as np
from tqdm import tqdm

from data_gradients.batch.arrays import is_array_like
from data_gradients.batch.resolver_cache import ResolverCache, structure_signature
from data_gradients.batch.structure import (
    EVERY,
    PathPart,
    child_items,
    format_path,
    get_path,
    is_record_list,
    is_scalar,
    parse_path,
)
from data_gradients.errors import UnresolvedBatchError

logger = logging.getLogger("data_gradients")

Path_ = Tuple[PathPart, ...]
Extractor = Callable[[Any], Any]
ROLES = ("images", "labels")

# ------------------------------------------------------------------ candidate rules


def _shape(x: Any) -> Tuple[int, ...]:
    if hasattr(x, "getbands"):  # PIL: (H, W) or (H, W, C)
        w, h = x.size
        return (h, w) if len(x.getbands()) == 1 else (h, w, len(x.getbands()))
    return tuple(int(d) for d in x.shape)


def _numeric(x: Any) -> bool:
    if hasattr(x, "getbands"):
        return True
    if isinstance(x, np.ndarray):
        return x.dtype.kind in "biuf"
    return not x.dtype.is_complex


def _array(x: Any, ranks: Sequence[int], last: Sequence[int] = ()) -> bool:
    """An array-like of numbers whose rank is in ``ranks`` (and last dim in ``last``)."""
    if not is_array_like(x) or not _numeric(x):
        return False
    shape = _shape(x)
    return len(shape) in ranks and (not last or shape[-1] in last)


def _each(x: Any, rule: Callable[[Any], bool]) -> bool:
    return isinstance(x, (list, tuple)) and len(x) > 0 and all(rule(i) for i in x)


def _is_int(x: Any) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_))


BOX_KEYS = {"boxes", "bboxes", "bbox", "box"}
CLASS_KEYS = {"labels", "label", "classes", "class", "class_ids", "cls", "category_id", "category_ids"}


def _box_dict(x: Any) -> bool:
    return isinstance(x, dict) and bool(BOX_KEYS & set(x)) and bool(CLASS_KEYS & set(x))


MIN_SIDE = 8  # a rank-2 image or mask is at least this large: (n, 4) boxes and (n, 2) sizes are not pictures


def _picture(x: Any) -> bool:
    return _array(x, (3, 4)) or (_array(x, (2,)) and min(_shape(x)) >= MIN_SIDE)


def _images(x: Any) -> bool:
    return _picture(x) or _each(x, _picture)


def _masks(x: Any) -> bool:
    return _picture(x) or _each(x, _picture)


def _detections(x: Any) -> bool:
    boxes = lambda i: _array(i, (2,), last=(4, 5, 6))  # noqa: E731
    return (boxes(x) or _each(x, boxes) or _array(x, (3,), last=(5, 6))
            or _box_dict(x) or _each(x, _box_dict))


def _class_ids(x: Any) -> bool:
    return (_is_int(x) or _array(x, (0, 1, 2)) or _each(x, _is_int)
            or _each(x, lambda i: _array(i, (0, 1))))


@dataclass(frozen=True)
class TaskRules:
    """Which items could be the images / the labels of a task, and how to say it."""

    images: Callable[[Any], bool]
    labels: Callable[[Any], bool]
    images_expected: str
    labels_expected: str


_PICTURE = f"of rank 3-4, or rank 2 and at least {MIN_SIDE}x{MIN_SIDE}, or a list of them"
_IMAGES_EXPECTED = f"a tensor, ndarray or PIL image {_PICTURE}"
RULES: Dict[str, TaskRules] = {
    "segmentation": TaskRules(_images, _masks, _IMAGES_EXPECTED,
                              f"masks: an integer, bool or float array {_PICTURE}"),
    "detection": TaskRules(_images, _detections, _IMAGES_EXPECTED,
                           "boxes: (n, 4|5|6) arrays or a list of them, a padded (N, max, 5|6) array, "
                           "or dicts with boxes and labels (or a list of them)"),
    "classification": TaskRules(_images, _class_ids, _IMAGES_EXPECTED,
                                "class ids: an int, a list of ints, or an array of rank 0-2"),
}
_ANY = TaskRules(_images, lambda x: not isinstance(x, (str, bytes, dict)) and x is not None, _IMAGES_EXPECTED,
                 "anything but a string or None")


def rules_for(task: str) -> TaskRules:
    return RULES.get(task, _ANY)


# ------------------------------------------------------------------------- the tree


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


# ------------------------------------------------------------------------ resolving


def stdin_is_interactive() -> bool:
    """True on a terminal, or in a Jupyter-like kernel where ``input()`` works."""
    try:
        if sys.stdin is not None and sys.stdin.isatty():
            return True
    except (AttributeError, ValueError):  # replaced or closed stdin
        pass
    get_ipython = getattr(sys.modules.get("IPython"), "get_ipython", None)
    shell = get_ipython() if get_ipython is not None else None
    return getattr(shell, "kernel", None) is not None


def paste_line(images: Optional[Path_], labels: Optional[Path_]) -> str:
    """``images_key="image", labels_key="target.masks"`` for the roles given."""
    parts = [f"{role}_key={json.dumps(format_path(p))}" for role, p in zip(ROLES, (images, labels)) if p is not None]
    return ", ".join(parts)


def path_extractor(path: Path_, role: str) -> Extractor:
    """Takes ``path`` out of every batch; a batch without it is an error naming the path."""
    text = format_path(path)

    def extract(batch: Any) -> Any:
        try:
            return get_path(batch, path)
        except KeyError as e:
            raise UnresolvedBatchError(
                f"the batch structure changed: the {role} were taken from {text!r} in the first batch, but this "
                f"batch has no such item ({e.args[0]}). Every batch must have the same structure; pass "
                f"`{role}_extractor=` a callable for batches that differ."
            ) from None

    extract.__name__ = f"{role}_key={json.dumps(text)}"
    return extract


class BatchResolver:
    """Resolver for :class:`~data_gradients.batch.extraction.BatchSplitter`: asks, remembers, or refuses.

    Args:
        task: "segmentation", "detection" or "classification"; decides which items can be
            the images and the labels (see ``RULES``).
        reset: forget the stored answer for this batch structure and ask again.
        verbose: say on stderr when a stored answer is used (else log it at INFO level).
        cache: where answers are remembered (default: the user's cache directory).
        stream / input_fn / interactive: the conversation's output, input and whether
            asking is possible (defaults: stdout, ``input``, stdin is a terminal or Jupyter).
    """

    def __init__(self, task: str, *, reset: bool = False, verbose: bool = True, cache: Optional[ResolverCache] = None,
                 stream: Optional[TextIO] = None, input_fn: Optional[Callable[[str], str]] = None,
                 interactive: Optional[bool] = None):
        self.task = task
        self.rules = rules_for(task)
        self.reset = reset
        self.verbose = verbose
        self.cache = cache
        self.stream = stream
        self.input_fn = input_fn
        self.interactive = interactive

    def __call__(self, batch: Any, *, need_images: bool = True,
                 need_labels: bool = True) -> Tuple[Optional[Extractor], Optional[Extractor]]:
        with tqdm.external_write_mode(file=self._out(), nolock=True):  # progress bars step aside
            return self._resolve(batch, need_images, need_labels)

    def _resolve(self, batch: Any, need_images: bool,
                 need_labels: bool) -> Tuple[Optional[Extractor], Optional[Extractor]]:
        needed = tuple(r for r, need in zip(ROLES, (need_images, need_labels)) if need)
        root, numbered = build_tree(batch, self.rules)
        cache = self.cache if self.cache is not None else ResolverCache()
        key, structure = structure_signature(batch, self.task)
        if self.reset:
            if cache.forget(key):
                self._note(f"data_gradients: forgot the stored answer for this batch structure ({cache.path})")
            self.reset = False
        else:
            stored = self._stored(cache, key, batch, needed)
            if stored is not None:
                return self._extractors(stored)
        interactive = stdin_is_interactive() if self.interactive is None else self.interactive
        if not interactive:
            raise UnresolvedBatchError(self._refusal(batch, root, numbered, needed, "standard input is not a terminal"))
        chosen = self._ask(batch, root, numbered, needed)
        saved = cache.put(key, images=_fmt(chosen.get("images")), labels=_fmt(chosen.get("labels")),
                          task=self.task, structure=structure)
        out = self._out()
        print(f"\nUsing {paste_line(chosen.get('images'), chosen.get('labels'))} for every batch of this run.",
              file=out)
        if saved:
            print(f"Remembered for batches of this structure in {cache.path}", file=out)
        print("To skip these questions in code, pass to the manager:\n    "
              + paste_line(chosen.get("images"), chosen.get("labels")) + "\n", file=out, flush=True)
        return self._extractors(chosen)

    # ----------------------------------------------------------------- stored
    def _stored(self, cache: ResolverCache, key: str, batch: Any,
                needed: Tuple[str, ...]) -> Optional[Dict[str, Path_]]:
        entry = cache.get(key)
        if entry is None:
            return None
        chosen: Dict[str, Path_] = {}
        for role in needed:
            text = entry.get(role)
            if not isinstance(text, str):
                return None
            path = parse_path(text)
            try:
                value = get_path(batch, path)
            except KeyError:
                return None
            if not getattr(self.rules, role)(value):
                return None
            chosen[role] = path
        self._note(f"data_gradients: using the stored answer for this batch structure: "
                   f"{paste_line(chosen.get('images'), chosen.get('labels'))} (saved {entry.get('saved', '?')}).\n"
                   f"  To choose again, pass reset_resolver=True or delete {cache.path}")
        return chosen

    def _note(self, text: str) -> None:
        if self.verbose:
            print(text, file=sys.stderr, flush=True)
        else:
            logger.info(text)

    # -------------------------------------------------------------------- ask
    def _out(self) -> TextIO:
        return self.stream if self.stream is not None else sys.stdout

    def _ask(self, batch: Any, root: Item, numbered: Dict[int, Item], needed: Tuple[str, ...]) -> Dict[str, Path_]:
        out = self._out()
        style = Style.for_stream(out)
        for role in needed:
            if not any(role in it.roles for it in numbered.values()):
                raise UnresolvedBatchError(self._refusal(batch, root, numbered, needed, f"no item can be the {role}"))
        which = "Yellow items" if style.colour else "Items tagged on the right"
        print(f"\ndata_gradients: the batch is {_what(batch)}, not an (images, labels) pair.\n"
              f"{which} could be the {' or the '.join(needed)} of a {self.task or 'this'} dataset:\n", file=out)
        print(render_tree(root, style) + "\n", file=out, flush=True)
        chosen: Dict[str, Item] = {}
        for role in needed:
            chosen[role] = self._ask_role(role, numbered, style, taken=chosen.get("images"), batch=batch, root=root)
        return {role: item.path for role, item in chosen.items()}

    def _ask_role(self, role: str, numbered: Dict[int, Item], style: Style, taken: Optional[Item],
                  batch: Any, root: Item) -> Item:
        candidates = [n for n, it in numbered.items() if role in it.roles and it is not taken]
        if not candidates:
            raise UnresolvedBatchError(self._refusal(batch, root, numbered, (role,),
                                                     f"no item but the images can be the {role}"))
        default = _default(role, [numbered[n] for n in candidates])
        options = _or_list([str(n) for n in candidates])
        hint = f"{options}; Enter for {default.number}" if default is not None else options
        which = "Which one of the yellow items" if style.colour else "Which item"
        prompt = f"{which} is your {role}? ({hint}): "
        ask = self.input_fn or builtins.input
        out = self._out()
        refuse = lambda why: UnresolvedBatchError(self._refusal(batch, root, numbered, (role,), why))  # noqa: E731
        while True:
            try:
                answer = ask(prompt)
            except EOFError:
                raise refuse("no answer (end of input)") from None
            except KeyboardInterrupt:  # nothing was read yet: an empty "partial" report would help nobody
                raise refuse("the question was cancelled") from None
            except Exception as e:  # e.g. a notebook frontend without input support
                raise refuse(f"cannot read an answer ({type(e).__name__}: {e})") from None
            item, reason = self._check(answer, role, numbered, candidates, default, taken)
            if item is not None:
                return item
            print(reason, file=out, flush=True)

    def _check(self, answer: str, role: str, numbered: Dict[int, Item], candidates: List[int],
               default: Optional[Item], taken: Optional[Item]) -> Tuple[Optional[Item], str]:
        text = answer.strip().strip("[]").strip()
        if not text:
            if default is not None:
                return default, ""
            return None, f"Type the number of an item, e.g. {candidates[0]}."
        if not text.isdigit():
            return None, f"{answer.strip()!r} is not a number; type the number in brackets, e.g. {candidates[0]}."
        n = int(text)
        if n not in numbered:
            return None, f"There is no item {n}; the items are numbered 1 to {len(numbered)}."
        item = numbered[n]
        if item is taken:
            return None, f"[{n}] {item.key} is already your images; choose another item for the {role}."
        if role not in item.roles:
            expected = getattr(self.rules, f"{role}_expected")
            return None, (f"[{n}] {item.key} cannot be the {role} of a {self.task or 'this'} dataset: it is "
                          f"{describe_item(item)}; expected {expected}.")
        return item, ""

    # ----------------------------------------------------------------- refuse
    def _refusal(self, batch: Any, root: Item, numbered: Dict[int, Item], needed: Tuple[str, ...], why: str) -> str:
        lines = [f"data_gradients cannot tell which item of the batch holds the {' and which the '.join(needed)}, "
                 f"and cannot ask: {why}.",
                 f"The batch is {_what(batch)}, not an (images, labels) pair:", "",
                 render_tree(root, Style(colour=False, unicode=Style.for_stream(sys.stderr).unicode)), ""]
        example: Dict[str, Optional[Path_]] = {"images": None, "labels": None}
        for role in needed:
            items = [it for it in numbered.values() if role in it.roles]
            expected = getattr(self.rules, f"{role}_expected")
            every = ", ".join(json.dumps(it.key) for it in numbered.values())
            paths = ", ".join(json.dumps(it.key) for it in items) or f"none (expected {expected}); items: {every}"
            lines.append(f"Candidates for the {role}: {paths}")
            others = [it for it in items if it.path != example["images"]]
            pick = _default(role, others) or (others[0] if others else None)
            example[role] = pick.path if pick is not None else None
        if any(example[r] is not None for r in needed):
            lines += ["Pass the key paths to the manager, for example:",
                      "    " + paste_line(example["images"], example["labels"])]
        lines.append("or `images_extractor=` / `labels_extractor=` callables; or run once in a terminal to answer "
                     "the questions (the answer is remembered for this batch structure).")
        return "\n".join(lines)

    def _extractors(self, chosen: Dict[str, Path_]) -> Tuple[Optional[Extractor], Optional[Extractor]]:
        return tuple(path_extractor(chosen[r], r) if r in chosen else None for r in ROLES)  # type: ignore[return-value]


_NAME_HINTS = {
    "images": ("image", "img", "pixel", "input", "rgb", "photo", "x"),
    "labels": ("mask", "label", "target", "seg", "box", "annot", "gt", "class", "cls", "category", "y"),
}


def _default(role: str, items: List[Item]) -> Optional[Item]:
    """The only candidate, or the only one whose name looks like the role (a container
    of labels first); else None."""
    if len(items) == 1:
        return items[0]
    hints = _NAME_HINTS[role]
    named = [it for it in items if any(_name_matches(str(p), hints) for p in it.path if p != EVERY)]
    if len(named) > 1:  # e.g. "targets" (dicts with boxes and labels) over "targets.*.boxes"
        named = [it for it in named if not it.leaf]
    return named[0] if len(named) == 1 else None


def _name_matches(name: str, hints: Sequence[str]) -> bool:
    low = name.lower()
    tokens = set(re.split(r"[^a-z0-9]+", low))
    return any(h in tokens or (len(h) > 2 and h in low) for h in hints)


def _or_list(items: List[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def _fmt(path: Optional[Path_]) -> Optional[str]:
    return None if path is None else format_path(path)


def _what(batch: Any) -> str:
    if isinstance(batch, dict):
        return "a dict"
    if is_record_list(batch):
        return f"a {type(batch).__name__} of per-sample dicts"
    if isinstance(batch, (list, tuple)):
        return f"a {type(batch).__name__} of {len(batch)} items"
    return f"a {type(batch).__name__}"


__all__ = ["BatchResolver", "RULES", "TaskRules", "build_tree", "render_tree", "rules_for", "stdin_is_interactive"]
