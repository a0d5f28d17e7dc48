"""The splits of an analysis: ``splits={"train": ..., "val": ..., "test": ...}`` or the
``train_data`` / ``val_data`` shorthand, and the reference split the others are compared with."""
from __future__ import annotations

from typing import Any, Dict, Iterable, Mapping, Optional, Tuple

from data_gradients.errors import ConfigurationError
from data_gradients.text import printable


def check_iterable(data: Any, arg: str) -> Iterable:
    if data is None or isinstance(data, (str, bytes)) or not hasattr(data, "__iter__"):
        raise ConfigurationError(
            f"`{arg}` must be an iterable of batches (a DataLoader, a generator, a list), got {type(data).__name__}"
        )
    return data


def resolve_splits(train_data: Any, val_data: Any, splits: Optional[Mapping[str, Any]],
                   reference: Optional[str]) -> Tuple[Dict[str, Iterable], str]:
    """({split name: iterable} in the order given, the reference split's name)."""
    if splits is not None:
        if train_data is not None or val_data is not None:
            raise ConfigurationError("pass the data either as `splits={...}` or as `train_data` / `val_data`, not both")
        if not isinstance(splits, Mapping) or not splits:
            raise ConfigurationError(f"`splits` must be a non-empty dict of split name -> iterable of batches, "
                                     f"got {splits!r:.80}")
        out: Dict[str, Iterable] = {}
        for name, data in splits.items():
            if not isinstance(name, str) or not name.strip() or printable(name) != name:
                raise ConfigurationError(f"`splits` names must be non-empty one-line strings, got {name!r}")
            out[name] = check_iterable(data, f"splits[{name!r}]")
    else:
        out = {"train": check_iterable(train_data, "train_data")}
        if val_data is not None:
            out["val"] = check_iterable(val_data, "val_data")
    if reference is None:
        reference = next(iter(out))
    elif reference not in out:
        raise ConfigurationError(f"`reference` must be one of the splits {list(out)}, got {reference!r}")
    return out, reference
