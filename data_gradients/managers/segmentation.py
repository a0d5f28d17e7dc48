"""Segmentation analysis manager."""
from __future__ import annotations

from data_gradients.batch import SegmentationBatchBuilder
from data_gradients.managers.base import AnalysisManager


class SegmentationAnalysisManager(AnalysisManager):
    """Analyse a semantic-segmentation dataset.

    Args:
        train_data: any iterable of batches (DataLoader, generator, list). A batch is an
            ``(images, masks)`` pair unless extractors or key paths say otherwise.
        val_data: optional iterable for the validation split, shown beside train.
        splits: instead of train_data / val_data, any number of splits as a dict
            ``{"train": loader, "val": loader, "test": loader}`` (in that order everywhere).
        reference: the split the others are compared with (default: the first).
        num_classes: number of classes; 1 means binary (mask 1 = object, 0 = background).
        class_names: list of names, or dict id -> name.
        ignore_labels: label ids never counted or shown (e.g. ``[255]``).
        images_extractor / labels_extractor: callables ``batch -> images`` / ``batch -> masks``.
        images_key / labels_key: dotted key paths into dict batches (``"target.masks"``;
            ``"*.mask"`` for lists of per-sample dicts). Without them (and without
            extractors) a batch that is not an (images, labels) pair is shown as a tree and
            you are asked, once, which item is which; the answer is remembered per batch
            structure in the user's cache (``$DATA_GRADIENTS_CACHE_DIR``, else
            ``~/.cache/data_gradients``). Without a terminal this is an error listing the paths.
        reset_resolver: forget the remembered answer for this batch structure and ask again.
        samples_to_visualize: samples per split drawn in TensorBoard (0 = none).
        log_dir: outputs go to ``log_dir/<report_title>/<timestamp>/``.
        report_title: title of the report (default "Segmentation analysis").
        features / exclude_features: names of feature extractors to run / skip.
        max_batches: read at most this many batches per split (the report says so).
        hide_class_names: show class ids instead of names everywhere.
        seed: seed of the sample reservoir.
        verbose: progress bar and final summary on stderr.
        writers: output writers (default TensorBoard, TXT, JSON and the PDF report).
        workers: worker processes that analyse batches concurrently (threads where fork is
            unavailable; default: the cores this process may use, at most 8; 1 = everything in the
            calling thread). The loader is still read, and dict batches resolved, in the calling
            thread; results are identical for any value (float sums up to rounding).
        distributed: torch.distributed: None uses the default process group when it is
            initialised with more than one process (every rank analyses its shard, rank 0
            writes, every rank returns the merged report); False keeps ranks independent;
            True requires a process group.
        timeout: seconds any wait on other ranks may take before it fails (default 30 min).
        thresholds: limits of the findings by name, e.g. ``{"dark_image": 0.1}``; unknown names
            are an error listing the valid ones (``data_gradients.thresholds.declared()``).
        export: samples to write out while reading, with their overlays and ``meta.json``: a selector of
            :mod:`data_gradients.export.selectors` (e.g. ``every_n_samples(100)``) or
            ``data_gradients.export.session.Export(selector, out_dir=...)``;
            they go to ``<run folder>/export`` (None = nothing is exported; after a run see
            ``report.export_samples``).

    Images may be tensors, arrays or PIL images, NCHW or NHWC, each scaled by the rule of its
    own type (see the README); masks N,H,W class ids or N,C,H,W one-hot (a float A,H,W array is
    one one-hot mask only when the batch holds one image). ``run()`` returns an
    :class:`~data_gradients.reports.AnalysisReport`.
    """

    task = "segmentation"

    def _make_builder(self) -> SegmentationBatchBuilder:
        return SegmentationBatchBuilder(self.num_classes, self.class_ids, self.ignore_labels)
