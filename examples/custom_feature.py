"""Register your own feature extractor and run it beside the built-ins.

A feature extractor declares fixed-size state in ``setup()``, updates it from the
canonical batch in ``update()`` and turns it into renderer-neutral results in
``compute()``. ``merge()``, ``reset()`` and pickling come from the base class.

Run: python examples/custom_feature.py
"""
import numpy as np

from data_gradients import FeatureExtractor, SegmentationAnalysisManager, register_feature
from data_gradients.demo.datasets import DEMO_CLASS_NAMES, segmentation_demo_loaders
from data_gradients.results import Histogram


@register_feature
class BorderTouchingPixels(FeatureExtractor):
    """Share of labelled pixels on the image border, per class (objects cut by the frame)."""

    name = "border_pixels"
    title = "Labelled pixels on the image border"
    description = "How much of each class lies on the outermost pixel ring: objects cut by the frame."
    tasks = ("segmentation",)
    group = "labels"

    def setup(self):
        self.add_state("border", np.zeros(self.context.n_label_ids, dtype=np.int64), "sum")

    def update(self, batch, split):
        m = batch.masks
        ring = np.concatenate([m[:, 0], m[:, -1], m[:, 1:-1, 0], m[:, 1:-1, -1]], axis=1).ravel()
        counts = np.bincount(ring + 1, minlength=self.context.n_label_ids + 1)[1:]
        self.state(split).border += counts

    def compute(self):
        result = self.new_result()
        ids = list(self.context.class_ids)
        result.histograms.append(Histogram(
            key="border", title=self.title, x_label="class", categories=self.context.names,
            counts={s: self.state(s).border[ids] for s in self.splits},
        ))
        for s in self.splits:
            result.scalars.setdefault("border_pixels", {})[s] = int(self.state(s).border[ids].sum())
        return result


if __name__ == "__main__":
    train, val = segmentation_demo_loaders(n_train=64, n_val=16)
    report = SegmentationAnalysisManager(
        train, val, num_classes=len(DEMO_CLASS_NAMES), class_names=DEMO_CLASS_NAMES, ignore_labels=[0],
        features=["segmentation_class_frequency", "border_pixels"], log_dir="logs/examples",
        report_title="Custom feature example",
    ).run()
    print("border pixels (train):", report.scalar("border_pixels", "border_pixels", "train"))
