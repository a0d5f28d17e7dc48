"""Analyse a (synthetic) object-detection dataset with DetectionAnalysisManager.

The data is made by the package itself, deterministically (no download): 256 x 256 images
with 1-20 boxes of 10 imbalanced classes, a darker val split with smaller boxes, and a few
bad boxes on purpose (NaN, zero width, outside the image, unknown class, duplicates).
Boxes arrive as a list of per-image (n, 5) tensors ``class, x1, y1, x2, y2`` in pixels;
the box format and scale are inferred from the first batch and stated in the report.

Run: python examples/detection_demo.py [--log-dir logs] [--train 400] [--val 100]
then: tensorboard --logdir logs
"""
import argparse

from data_gradients import DetectionAnalysisManager
from data_gradients.demo.detection_data import DETECTION_CLASS_NAMES, detection_demo_loaders


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--log-dir", default="logs")
    parser.add_argument("--train", type=int, default=400, help="train images")
    parser.add_argument("--val", type=int, default=100, help="val images")
    args = parser.parse_args(argv)

    train_loader, val_loader = detection_demo_loaders(n_train=args.train, n_val=args.val, batch_size=8, seed=0)
    report = DetectionAnalysisManager(
        train_data=train_loader,
        val_data=val_loader,
        num_classes=len(DETECTION_CLASS_NAMES),
        class_names=DETECTION_CLASS_NAMES,
        # bbox_format="xyxy", normalized_boxes=False,  # leave out to let the first batch decide
        samples_to_visualize=8,
        log_dir=args.log_dir,
        report_title="Detection demo",
    ).run()
    print("\nAssumptions:", *report.notes, sep="\n  ")
    print("Findings:", *(f"[{f.severity}] {f.title}: {f.message}" for f in report.findings), sep="\n  ")
    return report


if __name__ == "__main__":
    main()
