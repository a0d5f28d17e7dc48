"""Analyse a (synthetic) street-scene segmentation dataset with SegmentationAnalysisManager.

The data is made by the package itself, deterministically (no download): road, cars,
persons, signs and a rare bicycle class over a background that is ignored, a darker
val split with more persons, and a few corrupt samples on purpose (NaN pixels,
out-of-range label ids, empty masks).

Run: python examples/segmentation_demo.py [--log-dir logs] [--train 400] [--val 100]
then: tensorboard --logdir logs
"""
import argparse

from data_gradients import SegmentationAnalysisManager
from data_gradients.demo.datasets import DEMO_CLASS_NAMES, segmentation_demo_loaders


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--log-dir", default="logs")
    parser.add_argument("--train", type=int, default=400, help="train images")
    parser.add_argument("--val", type=int, default=100, help="val images")
    args = parser.parse_args(argv)

    train_loader, val_loader = segmentation_demo_loaders(n_train=args.train, n_val=args.val, batch_size=8, seed=0)
    report = SegmentationAnalysisManager(
        train_data=train_loader,
        val_data=val_loader,
        num_classes=len(DEMO_CLASS_NAMES),
        class_names=DEMO_CLASS_NAMES,
        ignore_labels=[0],  # background: never counted, never shown
        samples_to_visualize=8,
        log_dir=args.log_dir,
        report_title="Segmentation demo",
    ).run()
    print("Findings:", *(f"[{f.severity}] {f.title}: {f.message}" for f in report.findings), sep="\n  ")
    print("Normalise with (train):", report["image_channel_stats"].tables[0].rows[0][1])
    return report


if __name__ == "__main__":
    main()
