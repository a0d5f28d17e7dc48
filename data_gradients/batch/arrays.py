"""Turning tensors, arrays and PIL images into numpy arrays with a known layout."""
from __future__ import annotations

from typing import Any, List, Sequence

import numpy as np

try:  # torch is a dependency, but keep the converters usable without it
    import torch
except ImportError:  # pragma: no cover
    torch = None

try:
    from PIL import Image as _PILImage
except ImportError:  # pragma: no cover
    _PILImage = None

_CHANNEL_COUNTS = (1, 3, 4)


def is_array_like(x: Any) -> bool:
    return isinstance(x, np.ndarray) or _is_tensor(x) or _is_pil(x)


def _is_tensor(x: Any) -> bool:
    return torch is not None and isinstance(x, torch.Tensor)


def _is_pil(x: Any) -> bool:
    return _PILImage is not None and isinstance(x, _PILImage.Image)


def to_numpy(x: Any) -> np.ndarray:
    """A numpy view/copy of a tensor, ndarray or PIL image."""
    if isinstance(x, np.ndarray):
        return x
    if _is_tensor(x):
        return x.detach().cpu().numpy()
    if _is_pil(x):
        return np.asarray(x)
    raise TypeError(type(x).__name__)


def describe(x: Any) -> str:
    """Short description of an object for error messages: type, shape, dtype."""
    if _is_tensor(x):
        return f"torch.Tensor of shape {tuple(x.shape)} and dtype {x.dtype}"
    if isinstance(x, np.ndarray):
        return f"numpy.ndarray of shape {x.shape} and dtype {x.dtype}"
    if _is_pil(x):
        return f"PIL.Image of size {x.size} and mode {x.mode}"
    if isinstance(x, (list, tuple)):
        inner = describe(x[0]) if len(x) else "nothing"
        return f"{type(x).__name__} of {len(x)} items (first: {inner})"
    if isinstance(x, dict):
        return f"dict with keys {list(x)[:8]}"
    return type(x).__name__


def images_to_nchw(obj: Any, *, torch_layout: bool, n_hint: int | None = None,
                   hw_hint: tuple | None = None) -> List[np.ndarray]:
    """Split ``obj`` into per-sample CHW arrays (any dtype).

    ``obj`` is one image or a batch: a tensor/ndarray (rank 2, 3 or 4), a PIL image,
    or a list of these. ``n_hint`` is the number of samples in the labels when known;
    it decides whether a rank-3 array is one image or a batch of grayscale images.
    ``hw_hint`` is the labels' H,W when known; it settles layouts that the channel
    count alone leaves open (e.g. a 3x4 image whose dims could both be channels).
    """
    if isinstance(obj, (list, tuple)):
        out: List[np.ndarray] = []
        for item in obj:
            out.extend(images_to_nchw(item, torch_layout=_is_tensor(item), n_hint=None, hw_hint=hw_hint))
        return out
    if not is_array_like(obj):
        raise TypeError(describe(obj))
    torch_layout = _is_tensor(obj)
    a = to_numpy(obj)
    if a.ndim == 2:
        return [a[None]]
    if a.ndim == 3:
        if n_hint is not None and n_hint > 1 and a.shape[0] == n_hint:
            return [x[None] for x in a]  # N,H,W batch of grayscale images
        first_is_c, last_is_c = a.shape[0] in _CHANNEL_COUNTS, a.shape[2] in _CHANNEL_COUNTS
        if first_is_c and last_is_c and hw_hint is not None:
            hw = tuple(hw_hint)
            first_is_c, last_is_c = _settle(tuple(a.shape[1:]) == hw, tuple(a.shape[:2]) == hw, torch_layout)
        if first_is_c and (torch_layout or not last_is_c):
            return [a]
        if last_is_c:
            return [np.moveaxis(a, 2, 0)]
        return [x[None] for x in a]
    if a.ndim == 4:
        first_is_c, last_is_c = a.shape[1] in _CHANNEL_COUNTS, a.shape[3] in _CHANNEL_COUNTS
        if first_is_c and last_is_c and hw_hint is not None:
            hw = tuple(hw_hint)
            first_is_c, last_is_c = _settle(tuple(a.shape[2:]) == hw, tuple(a.shape[1:3]) == hw, torch_layout)
        if first_is_c and (torch_layout or not last_is_c):
            return list(a)
        if last_is_c:
            return list(np.moveaxis(a, 3, 1))
        raise ValueError(f"rank-4 images need 1, 3 or 4 channels in dim 1 (NCHW) or dim 3 (NHWC), got shape {a.shape}")
    raise ValueError(f"images must have rank 2 (H,W), 3 (C,H,W / H,W,C / N,H,W) or 4 (N,C,H,W / N,H,W,C), got shape {a.shape}")


def _settle(chw_fits: bool, hwc_fits: bool, torch_layout: bool) -> tuple:
    """Both layouts are possible: the one whose H,W matches the labels wins; if both or
    neither match, the container's convention (torch NCHW, numpy NHWC) does."""
    if chw_fits != hwc_fits:
        return chw_fits, hwc_fits
    return torch_layout, not torch_layout


def masks_to_list(obj: Any, *, n_channels: int) -> List[np.ndarray]:
    """Split ``obj`` into per-sample masks: H,W ids, or C,H,W one-hot/soft (C = ``n_channels``)."""
    if isinstance(obj, (list, tuple)):
        out: List[np.ndarray] = []
        for item in obj:
            out.extend(masks_to_list(item, n_channels=n_channels))
        return out
    if not is_array_like(obj):
        raise TypeError(describe(obj))
    a = to_numpy(obj)
    if a.ndim == 2:
        return [a]
    if a.ndim == 3:
        if n_channels > 1 and a.shape[0] == n_channels and not np.issubdtype(a.dtype, np.integer) and _looks_soft(a):
            return [a]  # a single C,H,W one-hot / soft mask
        return list(a)
    if a.ndim == 4:
        if a.shape[1] == 1:
            return list(a[:, 0])
        if a.shape[1] == n_channels:
            return list(a)
        if a.shape[3] == 1:
            return list(a[..., 0])
        if a.shape[3] == n_channels:
            return list(np.moveaxis(a, 3, 1))
        raise ValueError(
            f"rank-4 labels must be N,1,H,W ids or N,C,H,W one-hot with C = {n_channels}, got shape {a.shape}"
        )
    raise ValueError(f"labels must have rank 2 (H,W), 3 (N,H,W) or 4 (N,C,H,W one-hot), got shape {a.shape}")


def _looks_soft(a: np.ndarray) -> bool:
    return float(a.min()) >= 0.0 and float(a.max()) <= 1.0


def group_by_shape(items: Sequence[np.ndarray]) -> List[List[int]]:
    """Indices of ``items`` grouped by shape, in order of first appearance."""
    groups: dict = {}
    for i, x in enumerate(items):
        groups.setdefault(x.shape, []).append(i)
    return list(groups.values())
