"""What every reader of files on disk shares: file problems, decoding, samples, collate functions.

A reader is a map-style ``torch.utils.data.Dataset``. Everything that can be checked without
decoding an image is checked when it is constructed (in the main process): label files without
an image, images without a label file, polygons with fewer than 3 points, unknown category ids,
empty or malformed annotation files. Each one becomes a :class:`FileProblem` in
``dataset.problems`` (kind, file path, sample index when the sample is still analysed, detail),
and the sample, annotation or file concerned is left out or read as documented by the reader.

Images are decoded in ``__getitem__`` (so in DataLoader worker processes). An image (or mask)
that cannot be decoded, a truncated file included, gives an *unreadable* sample: an image of
3 x 0 x 0 tensor, which the managers count and list as unreadable without reading its labels; the
report shows its path beside its id (``dataset.sample_path(index)``).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")


@dataclass(frozen=True)
class FileProblem:
    """A bad file found by a reader. ``index`` is the sample's dataset index when the sample is
    still analysed (e.g. an annotation was dropped), None when no sample was made of the file."""

    kind: str
    path: str
    index: Optional[int] = None
    detail: str = ""


class FileDataset(Dataset):
    """Base of the readers: ``paths`` (one image path per sample), ``problems``, class names and
    the manager arguments the samples need (``manager_kwargs()``)."""

    task: str = ""
    #: manager arguments the samples need, beside num_classes and class_names
    sample_kwargs: Dict[str, Any] = {}

    def __init__(self) -> None:
        self.paths: List[str] = []
        self.problems: List[FileProblem] = []
        self.class_names: List[str] = []
        self.ignore_labels: List[int] = []

    def __len__(self) -> int:
        return len(self.paths)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def sample_path(self, index: int) -> str:
        """The image file of sample ``index`` (a dataset index, as in the report's sample ids)."""
        return self.paths[index]

    def problem(self, kind: str, path: Any, index: Optional[int] = None, detail: str = "") -> None:
        self.problems.append(FileProblem(kind, str(path), index, detail))

    def manager_kwargs(self) -> Dict[str, Any]:
        """The arguments of the task's manager that describe these samples: ``num_classes``,
        ``class_names``, ``ignore_labels`` and (detection) the box layout."""
        out: Dict[str, Any] = {"num_classes": self.num_classes, "class_names": list(self.class_names)}
        if self.ignore_labels:
            out["ignore_labels"] = list(self.ignore_labels)
        return {**out, **self.sample_kwargs}

    def _index(self, index: int) -> int:
        n = len(self.paths)
        index = index + n if -n <= index < 0 else index
        if not 0 <= index < n:
            raise IndexError(f"index {index} is out of range for a dataset of {n} samples")
        return index


# ----------------------------------------------------------------------------------- decoding
def read_image(path: str) -> Optional[np.ndarray]:
    """H,W,3 uint8 RGB, or None when the file cannot be decoded (corrupt, truncated, missing)."""
    try:
        with Image.open(path) as im:
            im.load()  # a truncated file raises here
            if im.mode != "RGB":
                im = im.convert("RGB")
            return np.asarray(im)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None


def read_label_image(path: str) -> Optional[np.ndarray]:
    """H,W class ids of a mask file (palette PNGs give their palette indices), or None."""
    try:
        with Image.open(path) as im:
            im.load()
            if im.mode in ("P", "L", "I;16", "I"):
                return np.asarray(im)
            if im.mode in ("1",):
                return np.asarray(im.convert("L"))
            return None  # colour masks hold no class ids
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None


def as_tensor(array: np.ndarray) -> torch.Tensor:
    """A tensor over ``array`` (copied when read-only): tensors cross from DataLoader workers in
    shared memory, arrays would be pickled through a pipe."""
    if not array.flags.writeable:
        array = array.copy()
    return torch.from_numpy(np.ascontiguousarray(array))


def image_tensor(image: np.ndarray) -> torch.Tensor:
    """An H,W,3 image as a contiguous 3,H,W uint8 tensor (torchvision's layout). The transposing copy
    is made here, in the DataLoader's worker processes, so the analysis takes the planes as they are."""
    return torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))


def unreadable_image() -> torch.Tensor:
    """The image of an unreadable sample: no pixel (the managers count and list it as unreadable)."""
    return torch.zeros((3, 0, 0), dtype=torch.uint8)


# ------------------------------------------------------------------------------ collate functions
def collate_list(batch: Sequence[Tuple[Any, Any]]) -> Tuple[List[Any], List[Any]]:
    """Samples of different sizes: ``([image, ...], [label, ...])`` (images 3,H,W; labels as yielded)."""
    return [image for image, _ in batch], [label for _, label in batch]


def collate_classification(batch: Sequence[Tuple[Any, int]]) -> Tuple[List[Any], torch.Tensor]:
    """Images of different sizes and their class ids: ``([image, ...], tensor of ids)``."""
    return [image for image, _ in batch], torch.tensor([int(label) for _, label in batch], dtype=torch.int64)


# ------------------------------------------------------------------------------------ file lists
def list_images(folder: Path, recursive: bool = True) -> List[Path]:
    """Image files under ``folder``, sorted (by path)."""
    found: List[Path] = []
    stack = [Path(folder)]
    while stack:
        current = stack.pop()
        try:
            entries = list(os.scandir(current))
        except OSError:
            continue
        for entry in entries:
            if entry.is_dir():
                if recursive:
                    stack.append(Path(entry.path))
            elif os.path.splitext(entry.name)[1].lower() in IMAGE_EXTENSIONS:
                found.append(Path(entry.path))
    return sorted(found)


def by_stem(files: List[Path]) -> Dict[str, Path]:
    """Files by stem (the first in sorted order wins when two share a stem)."""
    out: Dict[str, Path] = {}
    for f in files:
        out.setdefault(f.stem, f)
    return out


def mask_dtype(num_values: int) -> Any:
    """The smallest unsigned dtype holding ids 0..num_values-1 (uint8 is the managers' fast path)."""
    return np.uint8 if num_values <= 256 else np.int32
