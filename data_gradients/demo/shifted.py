"""The demo datasets with a known shift, for the drift ranking's known answers (tests) and the
measurements behind its thresholds (``bench/drift_thresholds.py``): a darkened copy of a split,
and a split without some classes."""
from __future__ import annotations

import torch
from torch.utils.data import Dataset

from data_gradients.demo.classification_data import CLASSIFICATION_CLASS_NAMES, SyntheticClassificationDataset
from data_gradients.demo.datasets import DEMO_CLASS_NAMES, SyntheticSegmentationDataset
from data_gradients.demo.detection_data import DETECTION_CLASS_NAMES, SyntheticDetectionDataset
from data_gradients.managers.classification import ClassificationAnalysisManager
from data_gradients.managers.detection import DetectionAnalysisManager
from data_gradients.managers.segmentation import SegmentationAnalysisManager

#: per task: the manager, the demo dataset and the manager's arguments for it
DEMO_TASKS = {
    "segmentation": (SegmentationAnalysisManager, SyntheticSegmentationDataset,
                     dict(num_classes=6, class_names=DEMO_CLASS_NAMES, ignore_labels=[0])),
    "detection": (DetectionAnalysisManager, SyntheticDetectionDataset,
                  dict(num_classes=len(DETECTION_CLASS_NAMES), class_names=DETECTION_CLASS_NAMES)),
    "classification": (ClassificationAnalysisManager, SyntheticClassificationDataset,
                       dict(num_classes=len(CLASSIFICATION_CLASS_NAMES), class_names=CLASSIFICATION_CLASS_NAMES)),
}
#: two classes each task's shifted split loses (seg: person, sign; det: car, bicycle; cls: square, triangle)
DROPPED = {"segmentation": (3, 4), "detection": (1, 2), "classification": (1, 2)}


class Darkened(Dataset):
    """Every image multiplied by ``factor`` (uint8 images rounded back to uint8)."""

    def __init__(self, ds, factor):
        self.ds, self.factor = ds, factor

    def __len__(self):
        return len(self.ds)

    def __getitem__(self, i):
        image, label = self.ds[i]
        if image.dtype == torch.uint8:
            return (image.float() * self.factor).round().to(torch.uint8), label
        return image * self.factor, label  # float in 0..1


class WithoutClasses(Dataset):
    """Seg: the classes' pixels become background (ignored); det: their boxes are dropped; cls: their images."""

    def __init__(self, ds, task, drop):
        self.ds, self.task, self.drop = ds, task, list(drop)
        self.index = [i for i in range(len(ds)) if task != "classification" or int(ds[i][1]) not in self.drop]

    def __len__(self):
        return len(self.index)

    def __getitem__(self, i):
        image, label = self.ds[self.index[i]]
        if self.task == "segmentation":
            label = label.clone()
            label[torch.isin(label, torch.tensor(self.drop))] = 0
        elif self.task == "detection":
            label = label[~torch.isin(label[:, 0], torch.tensor(self.drop, dtype=label.dtype))]
        return image, label
