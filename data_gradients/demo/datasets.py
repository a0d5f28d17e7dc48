"""Deterministic synthetic street-scene segmentation data, made by the package itself.

The README demo and the benchmark run on this data: no download, the same pixels on
every machine. Sample ``i`` of a split is a pure function of ``(seed, split, i)``, so
any index can be produced on its own (random access, DataLoader workers) and always
comes out the same.

What an analysis of it should find (by design):

* train pixel shares: background > road > car > person > sign > bicycle; signs are
  small but in most images, bicycles are in about 5% of the images;
* object sizes over a wide range (far objects tiny, near objects large);
* the val split is darker (brightness x ~0.7) and has more persons and fewer cars;
* with ``corrupt=True``, fixed indices (see :data:`CORRUPTIONS`) carry bad data: a NaN
  patch in the image, a class id ``num_classes + 3`` in the mask, or an empty mask.
"""
from __future__ import annotations

import functools
import json
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from data_gradients.errors import ConfigurationError

DEMO_CLASS_NAMES = ["background", "road", "car", "person", "sign", "bicycle"]
BACKGROUND, ROAD, CAR, PERSON, SIGN, BICYCLE = range(6)
IMAGE_FORMATS = ("chw_float", "chw_uint8", "hwc_uint8")
#: kind -> (modulus, remainder): sample ``i`` has that corruption when ``i % modulus == remainder``.
#: The NaN patch exists only where images are float (uint8 arrays and JPEG files cannot hold NaN).
CORRUPTIONS = {"nan_image": (97, 13), "label_out_of_range": (89, 7), "empty_mask": (83, 5)}

Size = Tuple[int, int]
RGB = Tuple[int, int, int]
Draw = Callable[[np.ndarray, np.ndarray], None]  # draw(image, mask), in place


@dataclass(frozen=True)
class _SplitStyle:
    brightness: float  # mean brightness factor of the split
    cars: float  # Poisson mean of objects per image
    persons: float
    signs: float
    p_bicycle: float  # probability that an image has a bicycle
    p_road: float


_STYLES = {
    "train": _SplitStyle(brightness=1.0, cars=3.0, persons=1.0, signs=3.0, p_bicycle=0.05, p_road=0.8),
    "val": _SplitStyle(brightness=0.7, cars=1.5, persons=2.5, signs=3.0, p_bicycle=0.05, p_road=0.8),
}
_CAR_RGB = [(200, 30, 30), (30, 60, 180), (230, 230, 230), (35, 35, 35), (160, 160, 170), (220, 180, 40)]
_CLOTHES_RGB = [(40, 40, 120), (150, 30, 30), (30, 110, 50), (60, 60, 60), (200, 160, 60)]
_SKIN_RGB = [(225, 180, 150), (140, 95, 70)]
_SIGN_RGB = [(210, 30, 30), (230, 200, 30), (30, 80, 200)]
_BUILDING_RGB = [(140, 130, 120), (110, 100, 95), (165, 150, 130)]


def corrupted_indices(n: int, kind: str) -> List[int]:
    """Indices below ``n`` that carry corruption ``kind`` (a key of :data:`CORRUPTIONS`)."""
    modulus, remainder = CORRUPTIONS[kind]
    return list(range(remainder, n, modulus))


def sample_sizes(size: Size, vary_size: bool) -> List[Size]:
    """Resolutions a dataset draws from: ``size`` alone, or ``size`` and two variants."""
    h, w = size
    return [size, (round(0.75 * h), round(0.8 * w)), (round(1.25 * h), w)] if vary_size else [size]


def _colour(rng: np.random.Generator, palette: Sequence[RGB], sd: float = 12.0) -> RGB:
    """A palette colour picked at random, each channel jittered by N(0, sd)."""
    base = palette[int(rng.integers(len(palette)))] if len(palette) > 1 else palette[0]
    r, g, b = (min(255, max(0, int(c + d))) for c, d in zip(base, rng.normal(0.0, sd, 3)))
    return r, g, b


@functools.lru_cache(maxsize=16)
def _noise_tile(h: int, w: int) -> np.ndarray:
    """Fixed sensor-noise tile, 32 px larger than the image; each sample takes its own window."""
    return np.random.default_rng(h * 100_003 + w).normal(0.0, 5.0, (h + 32, w + 32, 3)).astype(np.int16)


@dataclass
class _Scene:
    """Geometry shared by the objects of one sample."""

    rng: np.random.Generator
    h: int
    w: int
    horizon: int
    road: Optional[Tuple[float, float, float, float]] = None  # top-left, top-right, bottom-left, bottom-right x

    def ground(self, below: float = 0.1) -> Tuple[int, float]:
        """A ground row under the horizon (up to ``below`` * h past the bottom) and its perspective scale."""
        y = self.rng.uniform(self.horizon + 1, self.h * (1.0 + below))
        return int(y), (y - self.horizon) / (self.h - self.horizon)

    def span(self, y: float) -> Tuple[float, float]:
        """Road x extent at row ``y`` (the whole width when there is no road)."""
        if self.road is None:
            return 0.0, float(self.w)
        tl, tr, bl, br = self.road
        t = (y - self.horizon) / (self.h - self.horizon)
        return tl + t * (bl - tl), tr + t * (br - tr)


def _background(s: _Scene) -> np.ndarray:
    """Sky-to-ground gradient with blotchy low-frequency texture and a few buildings (all class 0)."""
    rng, h, w = s.rng, s.h, s.w
    stops = [_colour(rng, [(150, 180, 215)], 15), _colour(rng, [(200, 205, 210)], 10),
             _colour(rng, [(120, 115, 105)], 12), _colour(rng, [(85, 80, 72)], 12)]
    rows, ys = np.arange(h), [0, s.horizon, s.horizon + 1, h - 1]
    column = np.stack([np.interp(rows, ys, [c[k] for c in stops]) for k in range(3)], axis=1)
    img = cv2.resize(column.astype(np.uint8)[:, None, :], (w, h), interpolation=cv2.INTER_NEAREST)
    blotch = (128.0 + rng.normal(0.0, 10.0, (4, 5, 1)) + rng.normal(0.0, 3.0, (4, 5, 3))).clip(0, 255).astype(np.uint8)
    img = cv2.addWeighted(img, 1.0, cv2.resize(blotch, (w, h)), 1.0, -128.0)
    for _ in range(int(rng.integers(2, 7))):
        x0, top = int(rng.uniform(-0.1, 1.0) * w), int(s.horizon - rng.uniform(0.05, 0.35) * h)
        cv2.rectangle(img, (x0, top), (x0 + int(rng.uniform(0.1, 0.3) * w), s.horizon), _colour(rng, _BUILDING_RGB), -1)
    return img


def _draw_road(s: _Scene, img: np.ndarray, mask: np.ndarray) -> None:
    """A perspective road trapezoid from the horizon to the bottom edge, with lane dashes (image only)."""
    rng, h, w, y0 = s.rng, s.h, s.w, s.horizon
    vx, top_w = rng.uniform(0.4, 0.6) * w, rng.uniform(0.05, 0.15) * w
    s.road = (vx - top_w / 2, vx + top_w / 2, rng.uniform(-0.3, 0.1) * w, rng.uniform(0.9, 1.3) * w)
    tl, tr, bl, br = s.road
    poly = np.array([[tl, y0], [tr, y0], [br, h], [bl, h]], np.int32)
    cv2.fillPoly(img, [poly], _colour(rng, [(90, 90, 95)], 8))
    cv2.fillPoly(mask, [poly], ROAD)
    mid_top, mid_bottom = vx, (bl + br) / 2
    for t0 in np.arange(rng.uniform(0.0, 0.2), 1.0, 0.2):
        t = np.array([t0, t0 + 0.1])
        ys, xs, half = y0 + t * (h - y0), mid_top + t * (mid_bottom - mid_top), 0.5 + t * 0.012 * w
        dash = [[xs[0] - half[0], ys[0]], [xs[0] + half[0], ys[0]], [xs[1] + half[1], ys[1]], [xs[1] - half[1], ys[1]]]
        cv2.fillPoly(img, [np.array(dash, np.int32)], (225, 225, 220))


def _car(s: _Scene) -> Tuple[int, Draw]:
    """A box with glass and wheels, standing on the road, sized by perspective."""
    y, p = s.ground(below=0.1 if s.road is not None else 0.0)
    cw = max(3, int(s.w * 0.3 * p * s.rng.lognormal(0.0, 0.25)))
    ch = max(2, int(cw * s.rng.uniform(0.5, 0.75)))
    x0 = int(s.rng.uniform(*s.span(y)) - cw / 2)
    body, glass = _colour(s.rng, _CAR_RGB), _colour(s.rng, [(50, 60, 75)], 8)
    wheels, r = [(x0 + cw // 5, y - ch // 8), (x0 + cw - cw // 5, y - ch // 8)], max(1, ch // 6)

    def draw(img: np.ndarray, mask: np.ndarray) -> None:
        for canvas, c, tyre in ((img, body, (20, 20, 20)), (mask, CAR, CAR)):
            cv2.rectangle(canvas, (x0, y - ch), (x0 + cw, y - ch // 8), c, -1)
            for centre in wheels:
                cv2.circle(canvas, centre, r, tyre, -1)
        cv2.rectangle(img, (x0 + cw // 8, y - ch + ch // 8), (x0 + cw - cw // 8, y - ch // 2), glass, -1)
    return y, draw


def _person(s: _Scene) -> Tuple[int, Draw]:
    """An upright ellipse (body) and a circle (head)."""
    y, p = s.ground()
    ph = max(4, int(s.h * 0.45 * p * s.rng.lognormal(0.0, 0.2)))
    x, clothes, skin = int(s.rng.uniform(0, s.w)), _colour(s.rng, _CLOTHES_RGB), _colour(s.rng, _SKIN_RGB, 10)
    axes, body_centre = (max(1, int(ph * 0.13)), int(ph * 0.41)), (x, y - int(ph * 0.41))

    def draw(img: np.ndarray, mask: np.ndarray) -> None:
        for canvas, body, head in ((img, clothes, skin), (mask, PERSON, PERSON)):
            cv2.ellipse(canvas, body_centre, axes, 0, 0, 360, body, -1)
            cv2.circle(canvas, (x, y - int(ph * 0.88)), max(1, int(ph * 0.09)), head, -1)
    return y, draw


def _sign(s: _Scene) -> Tuple[int, Draw]:
    """A small disc, triangle or square on a pole (the pole is background)."""
    y, p = s.ground(below=0.0)
    r = max(2, int(s.h * 0.05 * p * s.rng.lognormal(0.0, 0.3)))
    x, shape, colour = int(s.rng.uniform(0, s.w)), int(s.rng.integers(3)), _colour(s.rng, _SIGN_RGB, 8)
    top = y - int(s.h * 0.3 * p) - r
    triangle = np.array([[x - r, top + r], [x + r, top + r], [x, top - r]], np.int32)

    def draw(img: np.ndarray, mask: np.ndarray) -> None:
        cv2.line(img, (x, y), (x, top), (110, 110, 115), max(1, r // 4))
        for canvas, c in ((img, colour), (mask, SIGN)):
            if shape == 0:
                cv2.circle(canvas, (x, top), r, c, -1)
            elif shape == 1:
                cv2.fillPoly(canvas, [triangle], c)
            else:
                cv2.rectangle(canvas, (x - r, top - r), (x + r, top + r), c, -1)
    return y, draw


def _bicycle(s: _Scene) -> Tuple[int, Draw]:
    """Two wheel rings and a frame of thin lines."""
    y, p = s.ground()
    r = max(2, int(s.h * 0.07 * p * s.rng.lognormal(0.0, 0.15)))
    x, colour, t = int(s.rng.uniform(0, s.w)), _colour(s.rng, [(40, 40, 40), (170, 30, 30)], 8), max(1, r // 4)
    hubs = [(x - int(1.3 * r), y - r), (x + int(1.3 * r), y - r)]
    frame = np.array([hubs[0], (x - r // 3, y - int(2.2 * r)), (x + int(0.6 * r), y - int(1.9 * r)), hubs[1],
                      (x + r, y - int(2.4 * r))], np.int32)

    def draw(img: np.ndarray, mask: np.ndarray) -> None:
        for canvas, c in ((img, colour), (mask, BICYCLE)):
            for hub in hubs:
                cv2.circle(canvas, hub, r, c, t)
            cv2.polylines(canvas, [frame], False, c, t)
    return y, draw


def _blob(s: _Scene, class_id: int) -> Tuple[int, Draw]:
    """A random convex polygon, for class ids past the named demo classes."""
    y, p = s.ground()
    spread = s.h * 0.08 * p + 1.0
    pts = np.array([s.rng.uniform(0, s.w), y - spread]) + s.rng.normal(0.0, spread, (6, 2))
    hull, colour = cv2.convexHull(pts.astype(np.int32)), _colour(s.rng, [(120, 120, 120)], 60)

    def draw(img: np.ndarray, mask: np.ndarray) -> None:
        cv2.fillPoly(img, [hull], colour)
        cv2.fillPoly(mask, [hull], class_id)
    return y, draw


def render_sample(seed: int, split: str, index: int, size: Size, num_classes: int = 6) -> Tuple[np.ndarray, np.ndarray]:
    """One clean sample: RGB image (H, W, 3) uint8 and mask (H, W) uint8.

    A pure function of its arguments. Splits other than "train" and "val" look like train.
    Classes with ids >= ``num_classes`` are not drawn; ids past 5 are generic blobs.
    """
    style = _STYLES.get(split, _STYLES["train"])
    rng = np.random.default_rng([seed, zlib.crc32(split.encode()), index])
    h, w = size
    scene = _Scene(rng, h, w, horizon=int(h * rng.uniform(0.35, 0.45)))
    img, mask = _background(scene), np.zeros((h, w), np.uint8)
    if ROAD < num_classes and rng.random() < style.p_road:
        _draw_road(scene, img, mask)
    counts = {_car: int(rng.poisson(style.cars)) if CAR < num_classes else 0,
              _person: int(rng.poisson(style.persons)) if PERSON < num_classes else 0,
              _sign: int(rng.poisson(style.signs)) if SIGN < num_classes else 0,
              _bicycle: int(BICYCLE < num_classes and rng.random() < style.p_bicycle)}
    if scene.road is None and CAR < num_classes:
        counts[_car] = max(counts[_car], 1)  # only the designed corruption leaves a mask empty
    objects = [make(scene) for make, n in counts.items() for _ in range(n)]
    objects += [_blob(scene, k) for k in range(6, num_classes) if rng.random() < 0.3 / (k - 5)]
    for _, draw in sorted(objects, key=lambda o: o[0]):  # far (higher) objects first, near ones over them
        draw(img, mask)
    oy, ox = (int(v) for v in rng.integers(0, 32, 2))
    img = cv2.add(img, _noise_tile(h, w)[oy:oy + h, ox:ox + w], dtype=cv2.CV_8U)
    img = cv2.convertScaleAbs(img, alpha=style.brightness * rng.uniform(0.85, 1.15))
    return img, mask


def _is(kind: str, index: int) -> bool:
    modulus, remainder = CORRUPTIONS[kind]
    return index % modulus == remainder


def _to_format(img: np.ndarray, mask: np.ndarray, image_format: str) -> Tuple[Any, Any]:
    """uint8 (H, W, 3) image and (H, W) mask -> ``image_format`` (see SyntheticSegmentationDataset)."""
    mask64 = mask.astype(np.int64)
    if image_format == "hwc_uint8":
        return img, mask64
    if image_format == "chw_uint8":
        return torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1))), torch.from_numpy(mask64)
    out = np.empty((3,) + img.shape[:2], np.float32)
    np.divide(img.transpose(2, 0, 1), np.float32(255.0), out=out)  # in numpy: cheaper than torch's small ops
    return torch.from_numpy(out), torch.from_numpy(mask64)


def _check(size: Size, num_classes: int, image_format: str, n: int = 0, seed: int = 0) -> None:
    for name, value in (("n", n), ("seed", seed)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ConfigurationError(f"`{name}` must be a non-negative int, got {value!r}")
    if len(size) != 2 or not all(isinstance(v, int) and v >= 16 for v in size):
        raise ConfigurationError(f"`size` must be (height, width), ints >= 16, got {size!r}")
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or not 2 <= num_classes <= 252:
        raise ConfigurationError(f"`num_classes` must be an int in [2, 252], got {num_classes!r}")
    if image_format not in IMAGE_FORMATS:
        raise ConfigurationError(f"`image_format` must be one of {IMAGE_FORMATS}, got {image_format!r}")


class SyntheticSegmentationDataset(Dataset):
    """``n`` street-scene samples rendered on access; ``dataset[i]`` is ``(image, mask)``.

    ``image_format``: "chw_float" (torch float32 (3, H, W) in [0, 1], default), "chw_uint8"
    (torch uint8 (3, H, W)) or "hwc_uint8" (numpy uint8 (H, W, 3)); the mask is int64 (H, W),
    numpy for "hwc_uint8", else torch. Sample ``i`` depends only on ``(seed, split, i)`` and
    the options. ``vary_size=True`` draws each sample's resolution from :func:`sample_sizes`.
    ``corrupt=True`` applies :data:`CORRUPTIONS` (see :meth:`corrupted_indices`).
    """

    def __init__(self, n: int, *, split: str = "train", size: Size = (128, 160), num_classes: int = 6,
                 seed: int = 0, corrupt: bool = True, vary_size: bool = False, image_format: str = "chw_float"):
        size = tuple(size)
        _check(size, num_classes, image_format, n, seed)
        self.n, self.split, self.size, self.num_classes, self.seed = n, split, size, num_classes, seed
        self.corrupt, self.vary_size, self.image_format = corrupt, vary_size, image_format
        self.sizes = sample_sizes(size, vary_size)
        self._split_key = zlib.crc32(split.encode())

    @property
    def class_names(self) -> List[str]:
        return (DEMO_CLASS_NAMES + [f"class_{k}" for k in range(6, self.num_classes)])[: self.num_classes]

    def corrupted_indices(self, kind: str) -> List[int]:
        """Indices carrying corruption ``kind`` ([] when ``corrupt=False``; NaN needs "chw_float")."""
        if not self.corrupt or (kind == "nan_image" and self.image_format != "chw_float"):
            return []
        return corrupted_indices(self.n, kind)

    def __len__(self) -> int:
        return self.n

    def render(self, index: int) -> Tuple[np.ndarray, np.ndarray]:
        """Sample ``index`` as uint8 (H, W, 3) image and (H, W) mask, with the mask corruptions."""
        if not 0 <= index < self.n:
            raise IndexError(f"index {index} is out of range for a dataset of {self.n} samples")
        key = [self.seed, self._split_key, index]
        size = self.sizes[int(np.random.default_rng(key + [1]).integers(len(self.sizes)))] if self.vary_size \
            else self.size
        img, mask = render_sample(self.seed, self.split, index, size, self.num_classes)
        if self.corrupt and _is("empty_mask", index):
            mask[:] = BACKGROUND
        if self.corrupt and _is("label_out_of_range", index):
            y, x = (int(v) for v in np.random.default_rng(key + [2]).integers(0, np.array(size) - 6))
            mask[y:y + 6, x:x + 6] = self.num_classes + 3
        return img, mask

    def __getitem__(self, index: int) -> Tuple[Any, Any]:
        index = index + self.n if -self.n <= index < 0 else index
        image, mask = _to_format(*self.render(index), self.image_format)
        if self.corrupt and _is("nan_image", index) and self.image_format == "chw_float":
            y, x = (int(v) for v in np.random.default_rng([self.seed, self._split_key, index, 3])
                    .integers(0, np.array(image.shape[1:]) - 8))
            image[:, y:y + 8, x:x + 8] = float("nan")
        return image, mask


def list_collate(batch: Sequence[Tuple[Any, Any]]) -> Tuple[List[Any], List[Any]]:
    """Collate samples of different sizes: ``([image, ...], [mask, ...])``."""
    return [image for image, _ in batch], [mask for _, mask in batch]


def segmentation_demo_loaders(n_train: int = 240, n_val: int = 60, batch_size: int = 8, seed: int = 0,
                              **kwargs: Any) -> Tuple[DataLoader, DataLoader]:
    """Train and val DataLoaders (unshuffled, in-process) over SyntheticSegmentationDataset.

    ``kwargs`` go to both datasets (size, num_classes, corrupt, vary_size, image_format);
    with ``vary_size=True`` batches are lists (see :func:`list_collate`).
    """
    collate = list_collate if kwargs.get("vary_size") else None
    return tuple(  # type: ignore[return-value]
        DataLoader(SyntheticSegmentationDataset(n, split=split, seed=seed, **kwargs), batch_size=batch_size,
                   shuffle=False, num_workers=0, collate_fn=collate)
        for n, split in ((n_train, "train"), (n_val, "val")))


def write_segmentation_files(root: Union[str, Path], n: int, *, split: str = "train", size: Size = (128, 160),
                             seed: int = 0, **kwargs: Any) -> Path:
    """Write ``n`` samples to ``root/split/images/00000.jpg`` (JPEG q90) and ``root/split/masks/00000.png``.

    ``kwargs`` go to SyntheticSegmentationDataset (num_classes, corrupt, vary_size). Files already
    written with the same parameters are kept (``manifest.json`` is written last). Returns ``root``.
    JPEG cannot hold NaN, so the files carry only the mask corruptions.
    """
    dataset = SyntheticSegmentationDataset(n, split=split, size=size, seed=seed, image_format="hwc_uint8", **kwargs)
    folder = Path(root) / split
    manifest = {"n": n, "split": split, "size": list(dataset.size), "seed": seed, "num_classes": dataset.num_classes,
                "corrupt": dataset.corrupt, "vary_size": dataset.vary_size}
    if (folder / "manifest.json").is_file() and json.loads((folder / "manifest.json").read_text()) == manifest:
        return Path(root)
    for sub in ("images", "masks"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    for i in range(n):
        img, mask = dataset.render(i)
        cv2.imwrite(str(folder / "images" / f"{i:05d}.jpg"), img[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 90])
        cv2.imwrite(str(folder / "masks" / f"{i:05d}.png"), mask)
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return Path(root)


class SyntheticFileSegmentationDataset(Dataset):
    """Samples written by :func:`write_segmentation_files`, read back from disk on access.

    The "files on disk read by a torch Dataset" form: ``dataset[i]`` decodes
    ``images/{i:05d}.jpg`` (OpenCV, BGR -> RGB) and ``masks/{i:05d}.png`` into the same
    formats as SyntheticSegmentationDataset.
    """

    def __init__(self, root: Union[str, Path], *, split: str = "train", image_format: str = "chw_float"):
        self.folder = Path(root) / split
        manifest_path = self.folder / "manifest.json"
        if not manifest_path.is_file():
            raise ConfigurationError(f"`root` must hold {split}/manifest.json written by write_segmentation_files, "
                                     f"got {str(root)!r} without it")
        self.manifest = json.loads(manifest_path.read_text())
        _check(tuple(self.manifest["size"]), self.manifest["num_classes"], image_format)
        self.n, self.split, self.image_format = int(self.manifest["n"]), split, image_format

    @classmethod
    def materialize(cls, root: Union[str, Path], n: int, *, split: str = "train", image_format: str = "chw_float",
                    **kwargs: Any) -> "SyntheticFileSegmentationDataset":
        """Write the files once (see :func:`write_segmentation_files`) and open them."""
        return cls(write_segmentation_files(root, n, split=split, **kwargs), split=split, image_format=image_format)

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index: int) -> Tuple[Any, Any]:
        index = index + self.n if -self.n <= index < 0 else index
        if not 0 <= index < self.n:
            raise IndexError(f"index {index} is out of range for a dataset of {self.n} samples")
        bgr = cv2.imread(str(self.folder / "images" / f"{index:05d}.jpg"), cv2.IMREAD_COLOR)
        mask = cv2.imread(str(self.folder / "masks" / f"{index:05d}.png"), cv2.IMREAD_UNCHANGED)
        if bgr is None or mask is None:
            raise FileNotFoundError(f"sample {index} is missing or unreadable under {self.folder}")
        return _to_format(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), mask, self.image_format)
