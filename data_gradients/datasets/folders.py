"""Folders: an image folder beside a mask folder (segmentation), and one folder per class (classification)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence, Tuple, Union

import torch

from data_gradients.datasets.base import (
    FileDataset,
    as_tensor,
    by_stem,
    image_tensor,
    list_images,
    read_image,
    read_label_image,
    unreadable_image,
)
from data_gradients.errors import ConfigurationError

PathLike = Union[str, Path]


class MaskFolderDataset(FileDataset):
    """Segmentation from ``image_dir`` and ``mask_dir``, an image and its mask paired by file stem
    (``images/0001.jpg`` with ``masks/0001.png``).

    Masks hold class ids: single-channel PNGs (8- or 16-bit), or palette PNGs whose indices are the
    ids. Samples are ``(image, mask)``, 3,H,W uint8 and H,W tensors.

    Args:
        image_dir, mask_dir: the two folders (searched recursively; stems must be unique).
        num_classes: number of classes (the files do not say); or ``class_names``.
        class_names: names of the ids 0..num_classes-1.
        ignore_labels: ids never counted (e.g. ``[255]``), passed on by :meth:`manager_kwargs`.

    Found when constructed and listed in ``problems``: an image without a mask, a mask without an
    image (no sample). A mask or image that cannot be decoded, a colour mask and a mask of another
    size than its image make the sample unreadable.
    """

    task = "segmentation"

    def __init__(self, image_dir: PathLike, mask_dir: PathLike, *, num_classes: Optional[int] = None,
                 class_names: Optional[Sequence[str]] = None, ignore_labels: Sequence[int] = ()):
        super().__init__()
        for arg, folder in (("image_dir", image_dir), ("mask_dir", mask_dir)):
            if not Path(folder).is_dir():
                raise ConfigurationError(f"`{arg}`={str(folder)!r} is not a folder")
        if class_names is None and num_classes is None:
            raise ConfigurationError("a mask folder dataset needs `num_classes` or `class_names`")
        self.class_names = [str(n) for n in class_names] if class_names is not None else \
            [str(k) for k in range(int(num_classes))]
        self.ignore_labels = [int(i) for i in ignore_labels]
        images, masks = by_stem(list_images(Path(image_dir))), by_stem(list_images(Path(mask_dir)))
        self.masks = []
        for stem in sorted(set(images) | set(masks)):
            if stem not in masks:
                self.problem("missing_label", images[stem], detail=f"no mask named {stem}.* in {mask_dir}")
            elif stem not in images:
                self.problem("orphan_label", masks[stem], detail=f"no image named {stem}.* in {image_dir}")
            else:
                self.paths.append(str(images[stem]))
                self.masks.append(str(masks[stem]))

    def label_path(self, index: int) -> str:
        """The mask file of sample ``index``."""
        return self.masks[index]

    def __getitem__(self, index: int) -> Tuple[torch.Tensor, torch.Tensor]:
        index = self._index(index)
        image, mask = read_image(self.paths[index]), read_label_image(self.masks[index])
        if image is None or mask is None or mask.shape != image.shape[:2]:
            return unreadable_image(), torch.zeros((0, 0), dtype=torch.uint8)
        return image_tensor(image), as_tensor(mask if mask.dtype.kind == "u" and mask.itemsize == 1 else mask.astype("int32"))


class ClassFolderDataset(FileDataset):
    """Classification from torchvision's ImageFolder layout, ``root/<class>/<image>``.

    Classes are the sub-folders of ``root`` in sorted order (``class_names``); images are searched
    recursively in each. Samples are ``(image, class id)``; an image that cannot be decoded gives
    an unreadable sample (its class is still known). Files directly in ``root`` are not read.
    """

    task = "classification"

    def __init__(self, root: PathLike):
        super().__init__()
        self.root = Path(root)
        if not self.root.is_dir():
            raise ConfigurationError(f"`root`={str(root)!r} is not a folder")
        self.class_names = sorted(p.name for p in self.root.iterdir() if p.is_dir())
        if not self.class_names:
            raise ConfigurationError(f"`root`={str(root)!r} holds no class folder (root/<class>/<image>)")
        self.targets = []
        for k, name in enumerate(self.class_names):
            for path in list_images(self.root / name):
                self.paths.append(str(path))
                self.targets.append(k)

    def __getitem__(self, index: int) -> Tuple[torch.Tensor, int]:
        index = self._index(index)
        image = read_image(self.paths[index])
        return (unreadable_image() if image is None else image_tensor(image)), self.targets[index]
