"""The datasets a command line names: ``--format`` and a split's ``SPEC`` -> a reader of :mod:`data_gradients.datasets`."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional

FORMATS = {
    # format -> (tasks it serves, what a split's SPEC is)
    "coco": (("detection", "segmentation"), "ANNOTATIONS.json:IMAGE_DIR"),
    "voc": (("detection", "segmentation"), "VOC_ROOT[:IMAGE_SET]"),
    "yolo": (("detection", "segmentation"), "IMAGE_DIR (labels in the sibling labels/ folder), or a .txt list"),
    "masks": (("segmentation",), "IMAGE_DIR:MASK_DIR"),
    "folders": (("classification",), "ROOT (ROOT/<class>/<image>)"),
}
SPLIT_FLAGS = ("train", "val", "test")


class UsageError(Exception):
    """A bad command line: ``flag`` names the option at fault."""

    def __init__(self, flag: str, message: str):
        super().__init__(message)
        self.flag = flag


def _pair(spec: str, flag: str, what: str) -> List[str]:
    parts = spec.split(":", 1)
    if len(parts) != 2 or not parts[0] or not parts[1]:
        raise UsageError(flag, f"expected {what}, got {spec!r}")
    return parts


def open_dataset(fmt: str, task: str, spec: str, flag: str, args: Any) -> Any:
    """The reader of one split; a wrong path or layout is a :class:`UsageError` naming ``flag``."""
    from data_gradients.datasets import ClassFolderDataset, COCODataset, MaskFolderDataset, VOCDataset, YOLODataset
    from data_gradients.errors import ConfigurationError

    tasks, what = FORMATS[fmt]
    if task not in tasks:
        raise UsageError("--format", f"format {fmt!r} serves {' and '.join(tasks)}, not --task {task}")
    try:
        if fmt == "coco":
            annotations, images = _pair(spec, flag, what)
            return COCODataset(annotations, images, task=task, include_crowd=args.include_crowd)
        if fmt == "voc":
            root, _, image_set = spec.partition(":")
            return VOCDataset(root, task=task, image_set=image_set or None)
        if fmt == "yolo":
            return YOLODataset(spec, task=task, class_names=_yolo_names(args), num_classes=args.num_classes)
        if fmt == "masks":
            images, masks = _pair(spec, flag, what)
            if args.num_classes is None and args.class_names is None:
                raise UsageError("--num-classes", "--format masks needs --num-classes (or --class-names FILE)")
            return MaskFolderDataset(images, masks, num_classes=args.num_classes,
                                     class_names=read_class_names(args.class_names))
        return ClassFolderDataset(spec)
    except ConfigurationError as e:
        raise UsageError(flag, str(e)) from None


def _yolo_names(args: Any) -> Optional[List[str]]:
    if args.class_names is not None:
        return read_class_names(args.class_names)
    if args.data is not None:
        from data_gradients.datasets.yolo import read_data_yaml, yaml_names
        from data_gradients.errors import ConfigurationError

        try:
            return yaml_names(read_data_yaml(args.data))
        except ConfigurationError as e:
            raise UsageError("--data", str(e)) from None
    if args.num_classes is None:
        raise UsageError("--class-names", "--format yolo needs --data data.yaml, --class-names FILE or --num-classes")
    return None


def open_splits(args: Any) -> Dict[str, Any]:
    """Every split the command line names, in the order train, val, test."""
    specs = {s: getattr(args, s) for s in SPLIT_FLAGS if getattr(args, s) is not None}
    if args.data is not None:
        if args.format != "yolo":
            raise UsageError("--data", "--data (a YOLO data.yaml) goes with --format yolo")
        from data_gradients.datasets.yolo import YOLODataset
        from data_gradients.errors import ConfigurationError

        try:
            from data_gradients.datasets.yolo import read_data_yaml

            config = read_data_yaml(args.data)
            for split in SPLIT_FLAGS:
                if split not in specs and config.get(split):
                    specs[split] = YOLODataset.from_yaml(args.data, split, task=args.task)
        except ConfigurationError as e:
            raise UsageError("--data", str(e)) from None
    if not specs:
        raise UsageError("--train", "give at least one split: --train SPEC (and --val, --test)" +
                         (" or --data data.yaml" if args.format == "yolo" else ""))
    out = {}
    for split in SPLIT_FLAGS:
        spec = specs.get(split)
        if spec is not None:
            out[split] = spec if not isinstance(spec, str) else open_dataset(args.format, args.task, spec,
                                                                              f"--{split}", args)
    return out


def read_class_names(path: Optional[str]) -> Optional[List[str]]:
    """One class name per line (blank lines skipped), ids in line order."""
    if path is None:
        return None
    try:
        names = [line.strip() for line in Path(path).read_text().splitlines() if line.strip()]
    except OSError as e:
        raise UsageError("--class-names", f"cannot read {path!r}: {e.strerror or e}") from None
    if not names:
        raise UsageError("--class-names", f"{path!r} holds no class name (one name per line)")
    return names


def parse_ints(text: Optional[str], flag: str) -> List[int]:
    if not text:
        return []
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise UsageError(flag, f"expected comma-separated integers, got {text!r}") from None


def parse_names(text: Optional[str]) -> Optional[List[str]]:
    return None if text is None else [v.strip() for v in text.split(",") if v.strip()]


def parse_thresholds(text: Optional[str]) -> Optional[Dict[str, float]]:
    if not text:
        return None
    out = {}
    for item in text.split(","):
        name, sep, value = item.partition("=")
        try:
            if not sep or not name.strip():
                raise ValueError
            out[name.strip()] = float(value)
        except ValueError:
            raise UsageError("--thresholds", f"expected name=value,... got {item!r}") from None
    return out
