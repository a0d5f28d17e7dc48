"""Batch extraction: from whatever a loader yields to raw (images, labels).

Order of precedence: the user's ``images_extractor`` / ``labels_extractor``
callables, key paths given up front, a ``(images, labels)`` pair, and finally a
resolver for structures such as dicts (by default an error listing the key paths).
"""
from __future__ import annotations

from typing import Any, Callable, Optional, Tuple

from data_gradients.batch.arrays import describe, is_array_like
from data_gradients.batch.structure import format_path, get_path, leaf_listing, parse_path
from data_gradients.errors import BatchFormatError, ConfigurationError, UnresolvedBatchError

Extractor = Callable[[Any], Any]
# resolver(batch, need_images=bool, need_labels=bool) -> (images_fn, labels_fn), None for a role not needed
Resolver = Callable[..., Tuple[Optional[Extractor], Optional[Extractor]]]


def _path_extractor(text: str, arg: str) -> Extractor:
    if not isinstance(text, str) or not text:
        raise ConfigurationError(f"`{arg}` must be a callable or a dotted key path such as 'image', got {text!r}")
    path = parse_path(text)

    def extract(batch: Any) -> Any:
        try:
            return get_path(batch, path)
        except KeyError as e:
            raise UnresolvedBatchError(f"`{arg}`={text!r}: {e.args[0]}") from None

    extract.__name__ = f"{arg}={format_path(path)!r}"
    return extract


def as_extractor(value: Any, arg: str) -> Optional[Extractor]:
    """A callable from a callable or a key path string; None stays None."""
    if value is None or callable(value):
        return value
    return _path_extractor(value, arg)


def default_resolver(batch: Any, **needs: bool) -> Tuple[Extractor, Extractor]:
    """Refuse structures we cannot split on our own, listing their key paths."""
    listing = "\n  ".join(leaf_listing(batch))
    raise UnresolvedBatchError(
        "the batch is not an (images, labels) pair, so data_gradients cannot tell which item holds the "
        f"images and which the labels. Got {describe(batch)} with these items:\n  {listing}\n"
        "Pass `images_key=` and `labels_key=` with dotted paths from this list (e.g. images_key='image'), "
        "or `images_extractor=` / `labels_extractor=` callables."
    )


def _is_image_like(x: Any) -> bool:
    return is_array_like(x) or (isinstance(x, (list, tuple)) and len(x) > 0 and all(is_array_like(i) for i in x))


def _pair_item(index: int) -> Extractor:
    """``batch[index]`` of an (images, labels) pair; another structure is an error naming it."""

    def take(batch: Any) -> Any:
        if not (isinstance(batch, (tuple, list)) and len(batch) == 2):
            raise BatchFormatError(f"the batch structure changed: the first batch was an (images, labels) pair, "
                                   f"this one is {describe(batch)}. Every batch must have the same structure")
        return batch[index]

    take.__name__ = f"batch[{index}]"
    return take


class BatchSplitter:
    """Splits loader batches into raw (images, labels); the first batch decides how."""

    def __init__(self, images_extractor: Any = None, labels_extractor: Any = None,
                 resolver: Resolver = default_resolver):
        self.images_extractor = as_extractor(images_extractor, "images_extractor")
        self.labels_extractor = as_extractor(labels_extractor, "labels_extractor")
        self.resolver = resolver

    def __call__(self, batch: Any) -> Tuple[Any, Any]:
        if batch is None:
            raise BatchFormatError("the loader yielded None instead of a batch (a dataset or collate_fn that "
                                   "returns None?); expected (images, labels) or a structure holding them")
        if self.images_extractor is None or self.labels_extractor is None:
            images_fn, labels_fn = self._defaults(batch)
            self.images_extractor = self.images_extractor or images_fn
            self.labels_extractor = self.labels_extractor or labels_fn
        return self.images_extractor(batch), self.labels_extractor(batch)

    def describe(self) -> dict:
        """How images and labels are taken from a batch (for the report's configuration)."""
        name = lambda f: None if f is None else getattr(f, "__name__", repr(f))  # noqa: E731
        return {"images": name(self.images_extractor), "labels": name(self.labels_extractor)}

    def _defaults(self, batch: Any) -> Tuple[Extractor, Extractor]:
        if isinstance(batch, (tuple, list)) and len(batch) == 2 and _is_image_like(batch[0]):
            return _pair_item(0), _pair_item(1)
        return self.resolver(batch, need_images=self.images_extractor is None,
                             need_labels=self.labels_extractor is None)
