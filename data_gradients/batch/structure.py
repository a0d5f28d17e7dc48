"""Walking nested batch structures (dicts, lists, tuples) and naming their leaves.

Paths are tuples of dict keys and list/tuple indices; ``"*"`` stands for "every
item" of a list of per-sample dicts (``"*.image"`` = ``[d["image"] for d in batch]``),
so a path does not depend on the batch size.
"""
from __future__ import annotations

from typing import Any, Iterator, List, Optional, Tuple, Union

import numpy as np

from data_gradients.batch.arrays import describe, is_array_like

PathPart = Union[str, int]
EVERY = "*"  # path part: every item of a list of per-sample dicts


def format_path(path: Tuple[PathPart, ...]) -> str:
    """Dotted key path: ``("target", "masks")`` -> ``"target.masks"``; indices as numbers."""
    return ".".join(str(p) for p in path) if path else "<batch>"


def parse_path(text: str) -> Tuple[PathPart, ...]:
    """Inverse of ``format_path``: numeric parts become list/tuple indices."""
    return tuple(int(p) if p.lstrip("-").isdigit() else p for p in text.split(".") if p != "")


def get_path(obj: Any, path: Tuple[PathPart, ...]) -> Any:
    """The item at ``path`` inside ``obj``; KeyError naming the missing part.

    ``"*"`` applied to a list/tuple maps the rest of the path over its items.
    """
    return _get(obj, path, 0)


def _get(cur: Any, path: Tuple[PathPart, ...], start: int) -> Any:
    for i in range(start, len(path)):
        part = path[i]
        if part == EVERY and isinstance(cur, (list, tuple)):
            return [_get(item, path, i + 1) for item in cur]
        try:
            if isinstance(cur, dict):
                cur = cur[part] if part in cur else cur[str(part)]
            else:
                cur = cur[int(part)]
        except (KeyError, IndexError, TypeError, ValueError):
            raise KeyError(f"path {format_path(path)!r}: {format_path(path[: i + 1])!r} not found in {describe(cur)}") from None
    return cur


def is_scalar(x: Any) -> bool:
    return x is None or isinstance(x, (bool, int, float, complex, str, bytes, np.generic))


def leaf_kind(x: Any) -> str:
    """Kind of a leaf: ``tensor``, ``ndarray``, ``pil``, ``int``, ``str``, ``list[tensor]`` ..."""
    if isinstance(x, (list, tuple)):
        kinds = sorted({leaf_kind(i) for i in x})
        return f"{'tuple' if isinstance(x, tuple) else 'list'}[{'|'.join(kinds)}]"
    if isinstance(x, np.ndarray):
        return "ndarray"
    if is_array_like(x):
        return "tensor" if hasattr(x, "detach") else "pil"
    if isinstance(x, (bool, np.bool_)):
        return "bool"
    if isinstance(x, (int, np.integer)):
        return "int"
    if isinstance(x, (float, np.floating)):
        return "float"
    if x is None:
        return "none"
    return type(x).__name__


def leaf_rank(x: Any) -> Optional[int]:
    """Number of dimensions of an array-like (of the first item of a list of them); 0 for scalars."""
    if isinstance(x, (list, tuple)):
        return leaf_rank(x[0]) if x else None
    if is_array_like(x):
        return (2 if len(x.getbands()) == 1 else 3) if hasattr(x, "getbands") else int(x.ndim)
    return 0 if is_scalar(x) else None


def is_record_list(obj: Any) -> bool:
    """A non-empty list/tuple of dicts that all have the same keys (per-sample records)."""
    return (isinstance(obj, (list, tuple)) and len(obj) > 0 and all(isinstance(x, dict) for x in obj)
            and all(x.keys() == obj[0].keys() for x in obj[1:]))


def _is_leaf_sequence(obj: Any) -> bool:
    """Empty, all scalars, or array-likes of one kind, rank and dtype (e.g. a list of images)."""
    if not obj or all(is_scalar(x) and not isinstance(x, (str, bytes)) for x in obj) \
            or all(isinstance(x, (str, bytes)) for x in obj):
        return True
    if not all(is_array_like(x) for x in obj):
        return False
    dtype = lambda x: str(getattr(x, "dtype", getattr(x, "mode", "")))  # noqa: E731
    first = obj[0]
    return all(type(x) is type(first) and leaf_rank(x) == leaf_rank(first) and dtype(x) == dtype(first)
               for x in obj[1:])


class _Gathered(list):
    """Values of one key gathered over per-sample dicts (already under a ``"*"``)."""


def child_items(obj: Any) -> Optional[List[Tuple[Tuple[PathPart, ...], Any]]]:
    """Children of a container as ``(relative path, value)``; None for a leaf.

    Dicts and mixed lists/tuples are walked into; a list of per-sample dicts yields one
    child per key, path ``("*", key)``, whose value gathers that key over the samples
    (nested per-sample dicts continue without another ``"*"``: ``"*.target.boxes"``).
    """
    if isinstance(obj, _Gathered):
        if is_record_list(obj):
            return [((k,), _Gathered(x[k] for x in obj)) for k in obj[0]]
        return None
    if isinstance(obj, dict):
        return [((k,), v) for k, v in obj.items()]
    if is_record_list(obj):
        return [((EVERY, k), _Gathered(x[k] for x in obj)) for k in obj[0]]
    if isinstance(obj, (list, tuple)) and not _is_leaf_sequence(obj):
        return [((i,), v) for i, v in enumerate(obj)]
    return None


def iter_leaves(obj: Any, prefix: Tuple[PathPart, ...] = ()) -> Iterator[Tuple[Tuple[PathPart, ...], Any]]:
    """Leaves of a batch structure with their paths.

    A list/tuple of scalars, or of array-likes of one kind and rank (a list of images),
    is one leaf; dicts and other lists/tuples are walked into (see ``child_items``).
    """
    children = child_items(obj)
    if children is None:
        yield prefix, obj
        return
    for rel, value in children:
        yield from iter_leaves(value, prefix + rel)


def leaf_listing(obj: Any) -> List[str]:
    """Lines ``"path: description"`` for every leaf, for error messages."""
    return [f"{format_path(p)}: {describe(list(v) if isinstance(v, _Gathered) else v)}" for p, v in iter_leaves(obj)]
