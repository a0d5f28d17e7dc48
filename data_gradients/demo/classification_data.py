"""Deterministic synthetic classification data, made by the package itself (demo and benchmark input).

Sample ``i`` of a split is a pure function of ``(seed, split, i)``: any index can be made on
its own (random access, DataLoader workers) and always comes out the same.

Images are 64 x 64 RGB: one shape (the class) in a random colour on a noisy two-colour
background. What an analysis of it should find (by design):

* 10 classes with shares falling off as 0.7**k (``circle`` ~30% of train, ``star`` ~1.2%);
* ``ring`` images are darker than the others (a brightness shortcut, see
  :data:`DARK_CLASS`);
* exact duplicates inside train: train sample ``i`` with ``i % 101 == 50`` is a copy of
  train sample ``i - 50`` (see :func:`train_duplicate_of`);
* leakage: val sample ``i`` with ``i % 53 == 7`` is a copy of train sample ``i // 53`` (see
  :func:`val_leak_of`);
* near duplicates (the image re-saved as JPEG, quality 75, see :func:`near_copy_of`): train
  sample ``i`` with ``i % 97 == 60`` is one of train sample ``i - 58``;
  val sample ``i`` with ``i % 59 == 30`` (and no exact leak) is one of train sample ``i // 59 + 5``;
* image quality (see :data:`QUALITY` and :func:`quality_problem`), in any split: sample ``i`` is
  blurred (Gaussian, sigma 3) when ``i % 89 == 20``, darkened (x 0.2) when ``i % 79 == 25``, grey
  stored as RGB when ``i % 71 == 40``, and washed out (every value within 12 of white) when
  ``i % 83 == 50``, unless it is a copy or the source of one (train 0-47 are);
  plain shapes on smooth ramps also make a few look-alikes by chance (same shape, place and light:
  e.g. val 13 and 15 near train 10 and 100), which the near-duplicate report lists with them;
* with ``multi_label=True`` an image holds 1-3 different shapes and its label is a
  multi-hot row of length ``num_classes``.
"""
from __future__ import annotations

import zlib
from typing import Any, List, Optional, Tuple

import cv2
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from data_gradients.errors import ConfigurationError

CLASSIFICATION_CLASS_NAMES = ["circle", "square", "triangle", "cross", "ring", "diamond", "hbar", "vbar",
                              "ellipse", "star"]
DARK_CLASS = 4  # "ring": drawn on darker backgrounds
DUPLICATE = (101, 50)  # train i is a copy of train i - 50 when i % 101 == 50
LEAK = (53, 7)  # val i is a copy of train i // 53 when i % 53 == 7
NEAR_DUPLICATE = (97, 60, 58)  # train i is a near copy of train i - 58 when i % 97 == 60
NEAR_LEAK = (59, 30, 5)  # val i is a near copy of train i // 59 + 5 when i % 59 == 30 (and not an exact leak)
#: kind -> (modulus, remainder): sample ``i`` of any split is changed so when ``i % modulus == remainder``
QUALITY = {"blurry": (89, 20), "dark": (79, 25), "grayscale": (71, 40), "overexposed": (83, 50)}
_DECAY = 0.7


def class_weights(num_classes: int) -> np.ndarray:
    """Probability of each class: 0.7**k, normalised."""
    p = _DECAY ** np.arange(num_classes, dtype=np.float64)
    return p / p.sum()


def train_duplicate_of(index: int) -> Optional[int]:
    """The train index that train sample ``index`` copies, or None."""
    modulus, remainder = DUPLICATE
    return index - remainder if index % modulus == remainder else None


def val_leak_of(index: int) -> Optional[int]:
    """The train index that val sample ``index`` copies, or None."""
    modulus, remainder = LEAK
    return index // modulus if index % modulus == remainder else None


def near_copy_of(split: str, index: int) -> Optional[int]:
    """The train index that sample ``index`` of ``split`` is a near copy of (re-saved as JPEG q75), or None."""
    if split == "train":
        modulus, remainder, back = NEAR_DUPLICATE
        return index - back if index % modulus == remainder else None
    if split == "val" and val_leak_of(index) is None:
        modulus, remainder, ahead = NEAR_LEAK
        return index // modulus + ahead if index % modulus == remainder else None
    return None


def quality_problem(split: str, index: int) -> Optional[str]:
    """The :data:`QUALITY` change applied to sample ``index`` of ``split``, or None. Copies (exact or
    near) and the train samples they copy keep their pixels, so every copy stays one."""
    copied = split == "train" and (index % DUPLICATE[0] == 0 or index % NEAR_DUPLICATE[0] == 2 or index < 48)
    if copied or near_copy_of(split, index) is not None or (split == "train" and train_duplicate_of(index) is not None) \
            or (split == "val" and val_leak_of(index) is not None):
        return None
    for kind, (modulus, remainder) in QUALITY.items():
        if index % modulus == remainder:
            return kind
    return None


def _degrade(img: np.ndarray, kind: Optional[str], near: bool) -> np.ndarray:
    """A near copy (the image re-saved as JPEG q75), and the quality change ``kind``."""
    if near:
        ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(img[:, :, ::-1]), [cv2.IMWRITE_JPEG_QUALITY, 75])
        img = cv2.imdecode(buf, cv2.IMREAD_COLOR)[:, :, ::-1]
    if kind == "blurry":
        img = cv2.GaussianBlur(img, (0, 0), 3)
    elif kind == "dark":
        img = (img.astype(np.uint16) // 5).astype(np.uint8)
    elif kind == "grayscale":
        img = np.repeat(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)[:, :, None], 3, axis=2)
    elif kind == "overexposed":
        img = (255 - (255 - img.astype(np.int16)) // 20).astype(np.uint8)
    return np.ascontiguousarray(img)


def _source(split: str, index: int) -> Tuple[str, int]:
    """(split, index) whose pixels and label sample (split, index) carries."""
    if split == "val" and val_leak_of(index) is not None:
        split, index = "train", val_leak_of(index)
    if split == "train" and train_duplicate_of(index) is not None:
        index = train_duplicate_of(index)  # never a duplicate itself: (i - 50) % 101 == 0
    return split, index


def _draw_shape(img: np.ndarray, k: int, cx: float, cy: float, r: float, angle: float, colour) -> None:
    """Class ``k``'s shape centred at (cx, cy) with radius ``r`` (pixels)."""
    t = max(1, int(r / 4))
    kind = CLASSIFICATION_CLASS_NAMES[k % len(CLASSIFICATION_CLASS_NAMES)]
    c = (int(cx), int(cy))

    def poly(n: int, rot: float, radii=None) -> np.ndarray:
        a = rot + np.arange(n) * 2 * np.pi / n
        rr = r if radii is None else np.asarray(radii)
        return np.stack([cx + rr * np.cos(a), cy + rr * np.sin(a)], axis=1).astype(np.int32)

    if kind == "circle":
        cv2.circle(img, c, int(r), colour, -1)
    elif kind == "square":
        cv2.fillPoly(img, [poly(4, angle + np.pi / 4)], colour)
    elif kind == "triangle":
        cv2.fillPoly(img, [poly(3, angle - np.pi / 2)], colour)
    elif kind == "cross":
        for a in (angle, angle + np.pi / 2):
            d = np.array([np.cos(a), np.sin(a)]) * r
            cv2.line(img, (int(cx - d[0]), int(cy - d[1])), (int(cx + d[0]), int(cy + d[1])), colour, t * 2)
    elif kind == "ring":
        cv2.circle(img, c, int(r), colour, t)
    elif kind == "diamond":
        cv2.fillPoly(img, [poly(4, angle, [r, 0.6 * r, r, 0.6 * r])], colour)
    elif kind == "hbar":
        cv2.rectangle(img, (int(cx - r), int(cy - r / 4)), (int(cx + r), int(cy + r / 4)), colour, -1)
    elif kind == "vbar":
        cv2.rectangle(img, (int(cx - r / 4), int(cy - r)), (int(cx + r / 4), int(cy + r)), colour, -1)
    elif kind == "ellipse":
        cv2.ellipse(img, c, (int(r), max(1, int(r / 2))), float(np.degrees(angle)), 0, 360, colour, -1)
    else:  # star
        cv2.fillPoly(img, [poly(10, angle - np.pi / 2, [r, 0.45 * r] * 5)], colour)


def render_classification_sample(seed: int, split: str, index: int, size: Tuple[int, int] = (64, 64),
                                 num_classes: int = 10, multi_label: bool = False) -> Tuple[np.ndarray, List[int]]:
    """One sample: RGB image (H, W, 3) uint8 and its sorted class ids (one unless ``multi_label``).

    Duplicates, leaks, near copies and quality changes (see the module docstring) are applied
    here, so they are a pure function of the arguments too.
    """
    problem = quality_problem(split, index)
    near = near_copy_of(split, index)
    if near is not None:
        split, index = "train", near
    split, index = _source(split, index)
    rng = np.random.default_rng([seed, zlib.crc32(split.encode()), index])
    h, w = size
    n_shapes = int(min(1 + rng.poisson(0.7), 3)) if multi_label else 1
    classes = sorted(int(c) for c in rng.choice(num_classes, size=min(n_shapes, num_classes), replace=False,
                                                p=class_weights(num_classes)))
    dark = 0.45 if DARK_CLASS in classes else 1.0
    top, bottom = (rng.uniform(60, 230, 3) * dark for _ in range(2))
    ramp = np.linspace(0.0, 1.0, h)[:, None, None]
    img = (top * (1 - ramp) + bottom * ramp) * np.ones((h, w, 3))
    img = np.clip(img + rng.normal(0.0, 8.0, (h, w, 3)), 0, 255).astype(np.uint8)
    for k in classes:
        r = rng.uniform(0.18, 0.35) * min(h, w) / (1.0 if n_shapes == 1 else 1.4)
        cx, cy = rng.uniform(r, w - r), rng.uniform(r, h - r)
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        _draw_shape(img, k, cx, cy, r, rng.uniform(0, np.pi), colour)
    if near is not None or problem is not None:
        img = _degrade(img, problem, near is not None)
    return img, classes


class SyntheticClassificationDataset(Dataset):
    """``n`` shape images rendered on access; ``dataset[i]`` is ``(image, label)``.

    The image is a torch uint8 (3, H, W) tensor; the label a torch int64 scalar (class id),
    or with ``multi_label=True`` a float32 multi-hot row of length ``num_classes``.
    """

    def __init__(self, n: int, *, split: str = "train", size: Tuple[int, int] = (64, 64), num_classes: int = 10,
                 seed: int = 0, multi_label: bool = False):
        for name, value in (("n", n), ("seed", seed)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigurationError(f"`{name}` must be a non-negative int, got {value!r}")
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or not 2 <= num_classes <= 100:
            raise ConfigurationError(f"`num_classes` must be an int in [2, 100], got {num_classes!r}")
        size = tuple(size)
        if len(size) != 2 or not all(isinstance(v, int) and v >= 16 for v in size):
            raise ConfigurationError(f"`size` must be (height, width), ints >= 16, got {size!r}")
        self.n, self.split, self.size, self.num_classes = n, split, size, num_classes
        self.seed, self.multi_label = seed, multi_label

    @property
    def class_names(self) -> List[str]:
        names = CLASSIFICATION_CLASS_NAMES + [f"class_{k}" for k in range(10, self.num_classes)]
        return names[:self.num_classes]

    def __len__(self) -> int:
        return self.n

    def render(self, index: int) -> Tuple[np.ndarray, List[int]]:
        if not 0 <= index < self.n:
            raise IndexError(f"index {index} is out of range for a dataset of {self.n} samples")
        return render_classification_sample(self.seed, self.split, index, self.size, self.num_classes,
                                            self.multi_label)

    def __getitem__(self, index: int) -> Tuple[Any, Any]:
        index = index + self.n if -self.n <= index < 0 else index
        img, classes = self.render(index)
        image = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))
        if self.multi_label:
            row = torch.zeros(self.num_classes, dtype=torch.float32)
            row[classes] = 1.0
            return image, row
        return image, torch.tensor(classes[0], dtype=torch.int64)

    def duplicate_indices(self) -> List[Tuple[int, int]]:
        """(index, index it copies) pairs inside this split (train only)."""
        if self.split != "train":
            return []
        return [(i, train_duplicate_of(i)) for i in range(self.n) if train_duplicate_of(i) is not None]

    def leaked_indices(self, n_train: int) -> List[Tuple[int, int]]:
        """(val index, train index) pairs of val images copied from a train split of ``n_train`` samples."""
        if self.split != "val":
            return []
        return [(i, val_leak_of(i)) for i in range(self.n) if val_leak_of(i) is not None and val_leak_of(i) < n_train]


def classification_demo_loaders(n_train: int = 1000, n_val: int = 250, batch_size: int = 64, seed: int = 0,
                                **kwargs: Any) -> Tuple[DataLoader, DataLoader]:
    """Train and val DataLoaders (unshuffled, in-process) over SyntheticClassificationDataset.

    ``kwargs`` go to both datasets (size, num_classes, multi_label).
    """
    return tuple(  # type: ignore[return-value]
        DataLoader(SyntheticClassificationDataset(n, split=split, seed=seed, **kwargs), batch_size=batch_size,
                   shuffle=False, num_workers=0)
        for n, split in ((n_train, "train"), (n_val, "val")))
