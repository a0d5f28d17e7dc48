"""Checking and resolving ``num_classes``, ``class_names`` and ``ignore_labels``."""
from __future__ import annotations

from typing import Any, Dict, Iterable, Mapping, Optional, Sequence, Tuple, Union

from data_gradients.errors import ConfigurationError
from data_gradients.text import printable

ClassNames = Optional[Union[Sequence[str], Mapping[int, str]]]


def check_num_classes(num_classes: Any) -> int:
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise ConfigurationError(f"`num_classes` must be a positive int, got {num_classes!r}")
    return num_classes


def check_ignore_labels(ignore_labels: Any) -> Tuple[int, ...]:
    if ignore_labels is None:
        return ()
    if isinstance(ignore_labels, int) and not isinstance(ignore_labels, bool):
        ignore_labels = (ignore_labels,)
    try:
        values = tuple(ignore_labels)
    except TypeError:
        raise ConfigurationError(f"`ignore_labels` must be a list of ints, got {ignore_labels!r}") from None
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int):
            raise ConfigurationError(f"`ignore_labels` must be a list of ints, got {ignore_labels!r} (item {v!r})")
    return values


def counted_class_ids(num_classes: int, ignore_labels: Iterable[int]) -> Tuple[int, ...]:
    """Ids that are counted and shown: 0..num_classes-1 minus ignored (binary: just 1)."""
    ids = (1,) if num_classes == 1 else tuple(range(num_classes))
    ignored = set(ignore_labels)
    return tuple(i for i in ids if i not in ignored)


def resolve_class_names(class_names: ClassNames, num_classes: int, hide: bool) -> Dict[int, str]:
    """Map every label id to a display name; ``hide`` replaces names by ids everywhere.
    Names must be unique: they label table rows and figure panels. Control characters
    (newlines, tabs, ...) are shown as escapes, so a name is always one line."""
    names = {i: printable(n) for i, n in _resolve_names(class_names, num_classes, hide).items()}
    seen: Dict[str, int] = {}
    for i, n in names.items():
        if n in seen:
            raise ConfigurationError(f"`class_names` must be unique, got {n!r} for ids {seen[n]} and {i}")
        seen[n] = i
    return names


def _resolve_names(class_names: ClassNames, num_classes: int, hide: bool) -> Dict[int, str]:
    ids = (0, 1) if num_classes == 1 else tuple(range(num_classes))
    if hide or class_names is None:
        names: Dict[int, str] = {i: str(i) for i in ids}
        if num_classes == 1 and not hide:
            names = {0: "background", 1: "foreground"}
        return names
    if isinstance(class_names, Mapping):
        out = {}
        for k, v in class_names.items():
            if isinstance(k, bool) or not isinstance(k, int):
                raise ConfigurationError(f"`class_names` keys must be int class ids, got key {k!r}")
            out[k] = str(v)
        unknown = sorted(set(out) - set(ids))
        if unknown:
            raise ConfigurationError(
                f"`class_names` has ids {unknown} outside the label ids {list(ids)} implied by num_classes={num_classes}"
            )
        return {i: out.get(i, str(i)) for i in ids}
    if isinstance(class_names, str) or not isinstance(class_names, Sequence):
        raise ConfigurationError(f"`class_names` must be a list of names or a dict id -> name, got {type(class_names).__name__}")
    names_list = [str(n) for n in class_names]
    if num_classes == 1 and len(names_list) == 1:
        return {0: "background", 1: names_list[0]}
    if len(names_list) != len(ids):
        raise ConfigurationError(
            f"`class_names` must have num_classes={num_classes} names"
            + (" (binary: 1 name for the object, or 2 with background first)" if num_classes == 1 else "")
            + f", got {len(names_list)}"
        )
    return dict(zip(ids, names_list))
