"""Analyse a (synthetic) image-classification dataset with ClassificationAnalysisManager.

The data is made by the package itself, deterministically (no download): 64 x 64 images of
10 shape classes with a strong imbalance, darker images for one class (a shortcut), a few
exact duplicates inside train and a few train images copied into val (leakage).
Labels arrive as class ids; one-hot rows work the same. ``--multi-label`` switches to
images with 1-3 shapes and multi-hot label rows.

Run: python examples/classification_demo.py [--log-dir logs] [--train 1000] [--val 250] [--multi-label]
then: tensorboard --logdir logs
"""
import argparse

from data_gradients import ClassificationAnalysisManager
from data_gradients.demo.classification_data import CLASSIFICATION_CLASS_NAMES, classification_demo_loaders


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--log-dir", default="logs")
    parser.add_argument("--train", type=int, default=1000, help="train images")
    parser.add_argument("--val", type=int, default=250, help="val images")
    parser.add_argument("--multi-label", action="store_true", help="1-3 shapes per image, multi-hot labels")
    args = parser.parse_args(argv)

    train_loader, val_loader = classification_demo_loaders(n_train=args.train, n_val=args.val, batch_size=64,
                                                           seed=0, multi_label=args.multi_label)
    report = ClassificationAnalysisManager(
        train_data=train_loader,
        val_data=val_loader,
        num_classes=len(CLASSIFICATION_CLASS_NAMES),
        class_names=CLASSIFICATION_CLASS_NAMES,
        multi_label=args.multi_label,
        samples_to_visualize=5,
        log_dir=args.log_dir,
        report_title="Classification demo" + (" (multi-label)" if args.multi_label else ""),
    ).run()
    print("Findings:", *(f"[{f.severity}] {f.title}: {f.message}" for f in report.findings), sep="\n  ")
    return report


if __name__ == "__main__":
    main()
