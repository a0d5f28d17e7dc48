"""Datasets from files on disk: COCO, Pascal VOC, YOLO, mask folders and class folders.

Each reader is a map-style ``torch.utils.data.Dataset`` whose samples the task's manager takes
as they are (``dataset.manager_kwargs()`` gives the manager arguments they need); bad files are
listed in ``dataset.problems`` and reach the report with their paths (see :mod:`.base`).
"""
from data_gradients.datasets.base import FileDataset, FileProblem, collate_classification, collate_list
from data_gradients.datasets.coco import COCODataset
from data_gradients.datasets.folders import ClassFolderDataset, MaskFolderDataset
from data_gradients.datasets.loader import SeededSubset, default_loader_workers, make_loader
from data_gradients.datasets.problems import PROBLEM_KINDS
from data_gradients.datasets.voc import VOC_CLASSES, VOCDataset
from data_gradients.datasets.yolo import YOLODataset

__all__ = [
    "COCODataset",
    "ClassFolderDataset",
    "FileDataset",
    "FileProblem",
    "MaskFolderDataset",
    "PROBLEM_KINDS",
    "SeededSubset",
    "VOCDataset",
    "VOC_CLASSES",
    "YOLODataset",
    "collate_classification",
    "collate_list",
    "default_loader_workers",
    "make_loader",
]
