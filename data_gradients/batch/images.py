"""Canonical image batch: N,3,H,W uint8, with per-sample counts of non-finite pixels, and the
per-image pixel statistics every image feature reads, computed once per batch on first use."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Set

import cv2
import numpy as np

from data_gradients.batch import pixel_kernels
from data_gradients.batch.conversion import (  # noqa: F401 - the converters are used from here too
    IMAGE_PROBLEMS,
    NOTE_16_BIT,
    NOTE_FLOAT_255,
    NOTE_NEGATIVE,
    NOTE_WIDE_INT,
    _channels_last,
    convert_images,
    to_uint8_rgb,
)
from data_gradients.batch.thumbnail_plan import first_halving_step
from data_gradients.errors import BatchFormatError
from data_gradients.fastest_way import FastestInUse

N_VALUES = 256
MAX_PIXELS_PER_CALL = 1 << 24  # cv2.calcHist counts in float32: exact up to 2**24 per bin
PLANE_PIXELS_PER_IMAGE = (2**31 - 1) // 255  # from this plane size on (~8.4 MP), int32 sums could overflow: per plane
_VALUES = np.arange(N_VALUES, dtype=np.int64)
PROBE_PIXELS = 1 << 20  # batches with this many pixels are timed, each by one way, until the fastest is known
JOINT, SINGLE, PAIRS = "joint", "single", "pairs"
_HISTOGRAMS = FastestInUse((SINGLE, JOINT, PAIRS), rounds=2)  # this process's way: .choice, once timed


class PixelStats:
    """Exact integer pixel statistics of a batch, all the image features need, each counted on first use.

    ``channel_histograms[c, v]``: pixels of channel c with value v over the batch; ``sums[i, c]``:
    sum of the values of channel c of image i (both int64). A feature that reads only the sums (the
    brightness along the stream) does not pay for the histograms, nor the other way round.
    """

    def __init__(self, images: np.ndarray):
        self._images = images
        self._histograms: Optional[np.ndarray] = None
        self._sums: Optional[np.ndarray] = None
        self._halved: Optional[tuple] = None  # (row step, planes halved once) where the counting pass made them

    @property
    def channel_histograms(self) -> np.ndarray:
        if self._histograms is None:
            self._count(histograms=True)
        return self._histograms

    @property
    def sums(self) -> np.ndarray:
        if self._sums is None:
            self._count(histograms=False)
        return self._sums

    @property
    def channel_sums_of_squares(self) -> np.ndarray:
        """(C,) int64 sum over the batch of the squared values of each channel."""
        return self.channel_histograms @ (_VALUES * _VALUES)

    def halved(self, step: int) -> Optional[np.ndarray]:
        """(N * C, H // step // 2, W // 2) uint8: each plane's rows taken every ``step``, halved once (2 x 2 means),
        the first step of the thumbnails (:mod:`~data_gradients.batch.thumbnail_plan`), where the compiled counting
        pass made it while each plane was in cache; None where it did not (not counted yet, no compiled loops, or
        an image the thumbnails do not halve). Never counts by itself."""
        if self._halved is None or self._halved[0] != step:
            return None
        return self._halved[1]

    def _count(self, histograms: bool) -> None:
        """Channel histograms by :func:`channel_histograms` (a few OpenCV calls for the batch) and/or all the
        per-image sums in one ``cv2.reduce`` (int32, exact below 2**31 / 255 pixels per plane; larger planes
        are counted one histogram per plane, which gives both). With the compiled pixel loops
        (:func:`compiled_counts`), both in one pass whichever is asked for: the sums add ~5 % to the counting,
        and the default features read both."""
        images = self._images
        n, c, h, w = images.shape
        if images.size == 0:
            self._histograms = np.zeros((c, N_VALUES), dtype=np.int64)
            self._sums = np.zeros((n, c), dtype=np.int64)
        elif h * w >= PLANE_PIXELS_PER_IMAGE:  # one histogram per plane; its sums come with it
            hists = plane_histograms(images.reshape(n * c, h, w)).reshape(n, c, N_VALUES)
            self._histograms, self._sums = hists.sum(axis=0), hists @ _VALUES
        elif compiled_counts(images.reshape(n, c, h * w)):  # both at once, for about the price of the histograms
            step = first_halving_step(h, w) if c == 3 else 0  # and the thumbnails' first halving, planes in cache
            self._histograms, self._sums, halved = pixel_kernels.channel_counts(images.reshape(n, c, h * w),
                                                                                 (w, step) if step else None)
            if halved is not None:
                self._halved = (step, halved)
        elif histograms:
            self._histograms = channel_histograms(images.reshape(n, c, h * w))
        else:
            sums = cv2.reduce(images.reshape(n * c, h * w), 1, cv2.REDUCE_SUM, dtype=cv2.CV_32S)
            self._sums = sums.reshape(n, c).astype(np.int64)


def pixel_statistics(images: np.ndarray) -> PixelStats:
    """The :class:`PixelStats` of (N, C, H, W) uint8 images (counted when first read)."""
    return PixelStats(np.ascontiguousarray(images))


def channel_histograms(planes: np.ndarray) -> np.ndarray:
    """(C, 256) int64 counts of each value in each channel of (N, C, P) uint8 pixels.

    With the compiled pixel loops and an even P (:func:`compiled_counts`): :func:`~data_gradients.batch.pixel_kernels.
    channel_counts`, the ``pairs`` way below in one compiled pass (on 640 x 480 detection images, Intel Xeon (Ice Lake), one
    thread: 0.34 ms per image against 0.42 for OpenCV's ``pairs``, 0.50 ``joint`` and 0.53 ``single``).
    Otherwise three exact ways, and each process counts with the fastest (:class:`~data_gradients.fastest_way.FastestInUse`):
    its first batches of at least :data:`PROBE_PIXELS` pixels are counted by each way in turn, twice each, and
    timed per pixel (smaller batches take ``single`` meanwhile); nothing is counted twice:

    - ``single``: one ``cv2.calcHist`` per channel;
    - ``joint``: channels two at a time as their joint histogram (``cv2.calcHist`` over two arrays,
      256 x 256 bins), whose row and column sums are the two channels' counts; an odd channel out pairs
      the first half of its pixels with the second half (an odd last pixel column alone);
    - ``pairs`` (P even only): each channel read as uint16, two neighbouring pixels a value, whose
      65,536-bin histogram (``cv2.calcHist`` on 16-bit data) is the joint histogram of the pixel pairs: its
      row and column sums, added, are the channel's counts (whichever byte is the high one).

    The joint ways increment once for two pixels. Neighbouring pixels are alike, so ``pairs`` touches few
    of its 256 KB of bins (near the diagonal) and stays in cache: on an AMD EPYC (Zen 4) it counted a 720p
    street scene in 0.68-0.81 ms against 1.36-1.39 (single) and 1.26-1.59 (joint), and was the fastest on
    random bytes too (1.17 against 1.29 and 1.87). ``joint`` pairs two channels, which are less alike: ~25%
    faster than ``single`` on an Intel machine with VNNI, 1.9x slower on an AMD EPYC (Zen 3). Each call
    counts at most :data:`MAX_PIXELS_PER_CALL` pixels or pairs (float32 counts stay exact); the marginal
    sums are exact integers in float64.
    """
    if compiled_counts(planes):
        return pixel_kernels.channel_counts(planes)[0]
    picker = _HISTOGRAMS
    if picker.choice is not None:
        return _channel_histograms(planes, picker.choice)
    if planes.size < PROBE_PIXELS:
        return _channel_histograms(planes, SINGLE)
    way = picker.next_way(picker.ways if _pairs_view(planes, 0) is not None else (SINGLE, JOINT))
    return picker.timed(way, lambda: _channel_histograms(planes, way), planes.size)


def compiled_counts(planes: np.ndarray) -> bool:
    """Whether the (N, C, P) pixels are counted by :func:`~data_gradients.batch.pixel_kernels.channel_counts`: the
    compiled loops are built, P is even and each channel has fewer than 2**32 pixel pairs."""
    n, _, p = planes.shape
    return pixel_kernels.KERNELS is not None and p % 2 == 0 and n * (p // 2) < 2**32


def _pairs_view(planes: np.ndarray, channel: int) -> Optional[np.ndarray]:
    """(N, P / 2) uint16 view of a channel's pixels, two neighbours a value; None where P is odd or the
    memory is not 2-byte aligned (OpenCV needs whole 16-bit elements)."""
    plane = planes[:, channel]
    if plane.shape[1] % 2 or plane.ctypes.data % 2 or plane.strides[0] % 2 or plane.strides[1] != 1:
        return None
    return plane.view(np.uint16)


def _channel_histograms(planes: np.ndarray, method: str) -> np.ndarray:
    n, c, p = planes.shape
    out = np.zeros((c, N_VALUES), dtype=np.int64)
    if method == PAIRS:
        views = [_pairs_view(planes, a) for a in range(c)]
        if any(v is None for v in views):  # only a batch of another shape than the probe's can be odd
            return _channel_histograms(planes, SINGLE)
        jobs = [((v, a),) for a, v in enumerate(views)]
    elif method == SINGLE:
        jobs = [((planes[:, a], a),) for a in range(c)]
    else:
        half = p // 2
        jobs = [((planes[:, a], a), (planes[:, a + 1], a + 1)) for a in range(0, c - 1, 2)]
        if c % 2:
            last = planes[:, c - 1]
            if half:
                jobs.append(((last[:, :half], c - 1), (last[:, half:2 * half], c - 1)))
            if p % 2:
                jobs.append(((last[:, p - 1:], c - 1),))
    for job in jobs:
        rows, cols = job[0][0].shape
        step_c = min(cols, MAX_PIXELS_PER_CALL)
        step_r = max(1, MAX_PIXELS_PER_CALL // step_c)
        for r in range(0, rows, step_r):
            for k in range(0, cols, step_c):
                arrays = [a[r:r + step_r, k:k + step_c] for a, _ in job]
                if method == PAIRS:
                    pair_counts = cv2.calcHist(arrays, [0], None, [N_VALUES * N_VALUES], [0, N_VALUES * N_VALUES])
                    pair_counts = pair_counts.reshape(N_VALUES, N_VALUES)
                    out[job[0][1]] += _marginal(pair_counts, 0) + _marginal(pair_counts, 1)
                elif len(job) == 1:
                    out[job[0][1]] += cv2.calcHist(arrays, [0], None, [N_VALUES], [0, N_VALUES]).reshape(-1).astype(np.int64)
                else:
                    joint_counts = cv2.calcHist(arrays, [0, 1], None, [N_VALUES, N_VALUES], [0, N_VALUES, 0, N_VALUES])
                    out[job[0][1]] += _marginal(joint_counts, 1)
                    out[job[1][1]] += _marginal(joint_counts, 0)
    return out


def _marginal(counts: np.ndarray, axis: int) -> np.ndarray:
    """(256,) int64 sums of a (256, 256) float32 joint histogram along ``axis`` (0: column sums), added in float64
    by ``cv2.reduce`` (2.5x faster than numpy's here): every count is an integer below 2**24, so the sums are exact."""
    return cv2.reduce(counts, axis, cv2.REDUCE_SUM, dtype=cv2.CV_64F).reshape(-1).astype(np.int64)


def plane_histograms(planes: np.ndarray) -> np.ndarray:
    """(P, 256) int64 counts of each value in each of (P, H, W) uint8 planes (rows may be strided).

    One ``cv2.calcHist`` call per plane; planes above :data:`MAX_PIXELS_PER_CALL` pixels are
    counted in slices of rows.
    """
    out = np.zeros((len(planes), N_VALUES), dtype=np.int64)
    if planes.size == 0:
        return out
    rows = max(1, MAX_PIXELS_PER_CALL // planes.shape[2])
    for k, plane in enumerate(planes):
        for start in range(0, plane.shape[0], rows):
            hist = cv2.calcHist([plane[start:start + rows]], [0], None, [N_VALUES], [0, N_VALUES])
            out[k] += hist.reshape(-1).astype(np.int64)
    return out


@dataclass
class ImageBatch:
    """Images every task shares. ``images`` is (N, 3, H, W) uint8 RGB (grayscale repeated,
    alpha dropped); ``source_channels`` is the channel count the loader gave;
    ``nonfinite_pixels[i]`` counts NaN/inf values of sample i (set to 0 before analysis).
    ``pixel_stats`` is built from ``images`` on first use and shared by every feature.

    Data-quality flags (None when nothing was found, the common case):
    ``image_problems`` (N, len(IMAGE_PROBLEMS)) bool: pixel values that contradict the image's
    type, each image read by the rule of its own type (see :func:`to_uint8_rgb`);
    ``non_integer_labels[i]``: label values of sample i that were not whole numbers and were
    rounded (halves to even). ``unreadable``: every image of this batch has no pixel (H or W = 0);
    such a batch only carries the samples so they are counted and listed, no statistic reads it.
    ``stream_positions[i]``: how many samples the split's loader yielded before sample i, set by the
    manager (under torch.distributed: the ranks' streams interleaved, position x world + rank); None
    when a batch is built outside a run."""

    images: np.ndarray
    sample_ids: np.ndarray
    nonfinite_pixels: np.ndarray
    source_channels: int
    image_problems: Optional[np.ndarray] = None
    non_integer_labels: Optional[np.ndarray] = None
    unreadable: bool = False
    stream_positions: Optional[np.ndarray] = None

    def __len__(self) -> int:
        return int(self.images.shape[0])

    @property
    def pixel_stats(self) -> PixelStats:
        """Channel histograms and per-image channel sums of ``images``, built once per batch on
        first use and shared by the image features (rebuilt if ``images`` is replaced)."""
        cached = self.__dict__.get("_pixel_stats")
        if cached is None or cached[0] is not self.images:
            cached = self.__dict__["_pixel_stats"] = (self.images, pixel_statistics(self.images))
        return cached[1]

    def counted_halving(self, step: int) -> Optional[np.ndarray]:
        """The thumbnails' first halving of ``images`` (:meth:`PixelStats.halved`) where this batch's pixel counting
        pass has already made it; None otherwise. Never counts by itself."""
        cached = self.__dict__.get("_pixel_stats")
        return cached[1].halved(step) if cached is not None and cached[0] is self.images else None

    @property
    def height(self) -> int:
        return int(self.images.shape[2])

    @property
    def width(self) -> int:
        return int(self.images.shape[3])


def check_images(items: List[np.ndarray], first_sample_id: int) -> None:
    """Refuse per-sample C,H,W arrays that are no image: a channel count other than 1, 3 or 4,
    or values that are not numbers (complex, strings, objects)."""
    for i, im in enumerate(items):
        if im.shape[0] not in (1, 3, 4):
            raise BatchFormatError(f"`images` must have 1, 3 or 4 channels (C,H,W or H,W,C), sample "
                                   f"{first_sample_id + i} has shape {im.shape}")
        if im.dtype.kind not in "biuf":
            raise BatchFormatError(f"`images` must hold numbers (uint8, 16-bit, float or bool), sample "
                                   f"{first_sample_id + i} has dtype {im.dtype}")


def image_fields(items: List[np.ndarray], idx: List[int], first_sample_id: int, notes: Set[str]) -> Dict[str, Any]:
    """The :class:`ImageBatch` fields of the samples ``idx`` of ``items`` (per-sample C,H,W arrays of
    one shape, any dtypes): each image is scaled by the rule of its own dtype, never by its
    neighbours' values. Images without pixels (H or W = 0) give an ``unreadable`` batch."""
    n = len(idx)
    c, h, w = items[idx[0]].shape
    fields: Dict[str, Any] = {"sample_ids": np.asarray(idx, dtype=np.int64) + first_sample_id,
                              "source_channels": int(c)}
    if h == 0 or w == 0:
        images = np.zeros((n, 3, h, w), dtype=np.uint8)
        images.flags.writeable = False
        return dict(fields, images=images, nonfinite_pixels=np.zeros(n, dtype=np.int64), unreadable=True)
    dtype = items[idx[0]].dtype
    if all(items[i].dtype is dtype for i in idx) or all(items[i].dtype == dtype for i in idx):
        images, nonfinite, problems = convert_images(stack_group(items, idx), notes)
    else:  # mixed dtypes (8- and 16-bit PIL images, float beside uint8): stacking would cast them alike
        parts = [convert_images(items[i][None], notes) for i in idx]
        images = np.concatenate([p[0] for p in parts]).view()  # read-only as a view, as convert_images makes it
        images.flags.writeable = False
        nonfinite = np.concatenate([p[1] for p in parts])
        problems = None
        if any(p[2] is not None for p in parts):
            problems = np.concatenate([np.zeros((1, len(IMAGE_PROBLEMS)), bool) if p[2] is None else p[2]
                                       for p in parts])
    return dict(fields, images=images, nonfinite_pixels=nonfinite, image_problems=problems)


def stack_group(items: List[np.ndarray], idx: List[int]) -> np.ndarray:
    """Stack ``items[idx]``; when they are exactly the rows of one batched array (the
    common case of a collated batch), that array is returned without a copy."""
    if len(idx) == 1:
        return items[idx[0]][None]
    whole = getattr(items, "whole", None)  # the rows of one contiguous array, as split (arrays.Rows): that array
    if whole is not None and whole.flags.c_contiguous and len(whole) == len(items) and idx == list(range(len(items))):
        return whole
    first = items[idx[0]]
    base = first.base
    if (idx == list(range(len(items))) and isinstance(base, np.ndarray) and base.size
            and base.shape == (len(items),) + first.shape and base.dtype == first.dtype
            and base.strides[1:] == first.strides):
        # item k must be exactly base[k]: same memory, shape and strides (cheap pointer arithmetic)
        start, step = base.__array_interface__["data"][0], base.strides[0]
        if all(x.base is base and x.strides == first.strides and x.__array_interface__["data"][0] == start + k * step
               for k, x in enumerate(items)):
            return base
    return np.stack([items[i] for i in idx])
