"""Named, documented thresholds of the findings, settable per run.

Every finding that compares a number with a limit reads the limit here, by name, so a
user can set it with ``thresholds={"dark_image": 0.1, ...}`` on any manager. An unknown
name is a :class:`~data_gradients.errors.ConfigurationError` that lists the valid ones.
The values in force are written to the report's configuration (TXT/PDF appendix,
``summary.json``).

Feature extractors declare their thresholds with :func:`declare` at import time of their
module (the registry imports every extractor module, so the table is complete before any
manager checks a user's keys), and read the value in force with
``threshold(self.context, "name")``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Mapping, Optional, Tuple

from data_gradients.errors import ConfigurationError


@dataclass(frozen=True)
class Threshold:
    """One setting: its default, what it limits, and where the default comes from."""

    name: str
    default: float
    doc: str
    minimum: Optional[float] = None
    maximum: Optional[float] = None


_DECLARED: Dict[str, Threshold] = {}


def declare(name: str, default: float, doc: str, *, minimum: Optional[float] = None,
            maximum: Optional[float] = None) -> str:
    """Declare a threshold (idempotent for the same definition); returns its name."""
    entry = Threshold(name, float(default), doc, minimum, maximum)
    known = _DECLARED.get(name)
    if known is not None and known != entry:
        raise ValueError(f"threshold {name!r} declared twice with different definitions")
    _DECLARED[name] = entry
    return name


def declared() -> Dict[str, Threshold]:
    """Every declared threshold, by name (the registry's extractors imported)."""
    import data_gradients.drift  # noqa: F401  (the drift findings' thresholds)
    import data_gradients.feature_extractors  # noqa: F401  (imports every extractor module)

    return dict(sorted(_DECLARED.items()))


def resolve_thresholds(user: Optional[Mapping[str, float]]) -> Tuple[Tuple[str, float], ...]:
    """Defaults overridden by ``user``: sorted (name, value) pairs; checks names, types and ranges."""
    table = declared()
    if user is None:
        user = {}
    if not isinstance(user, Mapping):
        raise ConfigurationError(f"`thresholds` must be a dict of name -> number, got {type(user).__name__}")
    unknown = sorted(str(k) for k in user if k not in table)
    if unknown:
        raise ConfigurationError(f"unknown threshold(s) {', '.join(map(repr, unknown))}; valid names: {', '.join(table)}")
    values = {name: t.default for name, t in table.items()}
    for name, value in user.items():
        t = table[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
            raise ConfigurationError(f"threshold {name!r} must be a number, got {value!r}")
        if (t.minimum is not None and value < t.minimum) or (t.maximum is not None and value > t.maximum):
            lo = "-inf" if t.minimum is None else f"{t.minimum:g}"
            hi = "inf" if t.maximum is None else f"{t.maximum:g}"
            raise ConfigurationError(f"threshold {name!r} must lie in [{lo}, {hi}], got {value!r}")
        values[name] = float(value)
    return tuple(sorted(values.items()))


def threshold(context, name: str) -> float:
    """The value in force of threshold ``name`` for the run described by ``context``."""
    for key, value in context.thresholds:
        if key == name:
            return value
    if name in _DECLARED:  # a context built without resolve_thresholds (tests, direct use)
        return _DECLARED[name].default
    raise KeyError(f"threshold {name!r} was never declared")
