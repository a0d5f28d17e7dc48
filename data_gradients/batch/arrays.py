"""Turning tensors, arrays and PIL images into numpy arrays with a known layout."""
from __future__ import annotations

from typing import Any, List, Optional, Sequence

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
#: PIL modes read as they are: 1 (bool), L, RGB, RGBA (alpha dropped later), I (int32), F (float32),
#: I;16* (uint16). Others go through PIL's own conversion: palette images through their palette.
_PIL_AS_IS = ("1", "L", "RGB", "RGBA", "I", "F", "I;16", "I;16L", "I;16B", "I;16N")
_PIL_GRAY_ALPHA = ("LA", "La")


def is_array_like(x: Any) -> bool:
    return isinstance(x, np.ndarray) or _is_tensor(x) or _is_pil(x)


def _is_tensor(x: Any) -> bool:
    return torch is not None and isinstance(x, torch.Tensor)


def _is_pil(x: Any) -> bool:
    return _PILImage is not None and isinstance(x, _PILImage.Image)


def to_numpy(x: Any) -> np.ndarray:
    """A numpy view/copy of a tensor, ndarray or PIL image (its raw values: a palette image gives
    its indices, as a mask should), in native byte order; bfloat16 tensors become float32."""
    if isinstance(x, np.ndarray):
        a = x
    elif _is_tensor(x):
        t = x.detach()
        if t.dtype == torch.bfloat16:  # numpy has no bfloat16
            t = t.float()
        try:
            a = t.cpu().numpy()
        except (RuntimeError, TypeError) as e:  # sparse, quantized, meta... tensors
            raise TypeError(f"{describe(x)} cannot be read as a numpy array ({e})") from None
    elif _is_pil(x):
        a = np.asarray(x)
    else:
        raise TypeError(type(x).__name__)
    if not a.dtype.isnative:  # e.g. PIL "I;16B" or big-endian files: OpenCV needs native order
        a = a.astype(a.dtype.newbyteorder("="))
    return a


def image_to_numpy(x: Any) -> np.ndarray:
    """Like :func:`to_numpy`, but a PIL image gives its pixels as the picture shows them: H,W or
    H,W,C with the dtype of its mode; palette (P, PA), CMYK, YCbCr, LAB, HSV, RGBX and RGBa images
    are converted to RGB, LA / La images give their L channel."""
    if not _is_pil(x):
        return to_numpy(x)
    if x.mode in _PIL_AS_IS:
        return to_numpy(x)
    if x.mode in _PIL_GRAY_ALPHA:
        return np.ascontiguousarray(np.asarray(x)[..., 0])
    try:
        return np.asarray(x.convert("RGB"))
    except (ValueError, OSError) as e:
        raise TypeError(f"a PIL image of mode {x.mode!r} cannot be converted to RGB ({e})") from None


def count_images(obj: Any) -> Optional[int]:
    """Number of images in ``obj`` when its layout says it without doubt (a list, a PIL image, a
    rank-2 or rank-4 array); None for a rank-3 array (one C,H,W / H,W,C image or N,H,W images)."""
    if isinstance(obj, (list, tuple)):
        return len(obj)
    if _is_pil(obj):
        return 1
    if isinstance(obj, np.ndarray) or _is_tensor(obj):
        rank = len(obj.shape)
        return 1 if rank == 2 else int(obj.shape[0]) if rank == 4 else None
    return None


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


class Rows(list):
    """The rows of one array ``whole``, in order (``list(whole)``): stacking all of them again is ``whole`` itself,
    with no copy and no check of where each row lies (:func:`~data_gradients.batch.images.stack_group`)."""

    __slots__ = ("whole",)

    def __init__(self, whole: np.ndarray):
        super().__init__(whole)
        self.whole = whole


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
    a = image_to_numpy(obj)
    if _is_pil(obj):  # H,W or H,W,C: no guessing
        return [a[None]] if a.ndim == 2 else [np.moveaxis(a, 2, 0)]
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
            return Rows(a)
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


def masks_to_list(obj: Any, *, n_channels: int, n_images: Optional[int] = None,
                  layout: Optional[str] = None) -> List[np.ndarray]:
    """Split ``obj`` into per-sample masks: H,W ids, or C,H,W one-hot/soft (C = ``n_channels``).

    A rank-3 array A,H,W is A id masks, except when it may be one C,H,W one-hot mask (float or
    bool values in 0..1 and A = ``n_channels`` > 1). Then the images decide when they can
    (``n_images`` = 1: one-hot; any other count: ids), else ``layout`` (what the builder read
    before: "one_hot" or "ids"), else one-hot. So a batch of float id masks with as many masks
    as classes (a short last batch of binary masks...) is never taken for one image's one-hot mask.
    """
    if isinstance(obj, (list, tuple)):
        per_item = 1 if n_images is not None and len(obj) == n_images else None
        out: List[np.ndarray] = []
        for item in obj:
            out.extend(masks_to_list(item, n_channels=n_channels, n_images=per_item, layout=layout))
        return out
    if not is_array_like(obj):
        raise TypeError(describe(obj))
    a = to_numpy(obj)
    if a.ndim == 2:
        return [a]
    if a.ndim == 3:
        if n_channels > 1 and a.shape[0] == n_channels and not np.issubdtype(a.dtype, np.integer) and _looks_soft(a):
            if n_images is not None:
                one_hot = n_images == 1
            else:
                one_hot = layout != "ids"
            if one_hot:
                return [a]  # a single C,H,W one-hot / soft mask
        return Rows(a)
    if a.ndim == 4:
        if a.shape[1] == 1:
            return list(a[:, 0])
        if a.shape[1] == n_channels:
            return Rows(a)
        if a.shape[3] == 1:
            return list(a[..., 0])
        if a.shape[3] == n_channels:
            return list(np.moveaxis(a, 3, 1))
        raise ValueError(
            f"rank-4 labels must be N,1,H,W ids or N,C,H,W one-hot with C = {n_channels}, got shape {a.shape}"
        )
    raise ValueError(f"labels must have rank 2 (H,W), 3 (N,H,W) or 4 (N,C,H,W one-hot), got shape {a.shape}")


def _looks_soft(a: np.ndarray) -> bool:
    if a.size == 0 or a.dtype.kind not in "fb":
        return False
    with np.errstate(invalid="ignore"):
        return bool(a.min() >= 0) and bool(a.max() <= 1)


def group_by_shape(items: Sequence[np.ndarray]) -> List[List[int]]:
    """Indices of ``items`` grouped by shape, in order of first appearance."""
    groups: dict = {}
    for i, x in enumerate(items):
        groups.setdefault(x.shape, []).append(i)
    return list(groups.values())
