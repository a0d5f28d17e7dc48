"""Measurements behind the drift thresholds' defaults (``drift_warning``, ``drift_error``, ``drift_noise_p``).

    python bench/drift_thresholds.py [--train 400] [--draws 3]

On the demo datasets (made locally), through the real managers:
- noise: val drawn from the train distribution (other train indices), 25-200 images against
  ``--train`` (x4 for classification), ``--draws`` draws each: the largest JS distance of all rows,
  and of the rows the G-test lets through (p < drift_noise_p);
- drift: the demo's own val split, val = train darkened by 40%, val = train missing two classes:
  the top rows, brightness, colour channels and class distributions, and which pass the default thresholds.
"""
from __future__ import annotations

import argparse
import tempfile

from torch.utils.data import DataLoader, Subset

from data_gradients.demo.detection_data import detection_collate
from data_gradients.demo.shifted import DEMO_TASKS, DROPPED, Darkened, WithoutClasses
from data_gradients.drift import drift_rows
from data_gradients.thresholds import declared

KEY_FEATURES = ("image_brightness", "color_distribution")  # shown beside the top rows, with the class distributions


def rows_of(task, train, val):
    manager, _, kwargs = DEMO_TASKS[task]
    collate = detection_collate if task == "detection" else None
    loaders = {s: DataLoader(d, batch_size=16, collate_fn=collate) for s, d in (("train", train), ("val", val))}
    report = manager(splits=loaders, log_dir=tempfile.mkdtemp(), verbose=False, samples_to_visualize=0, writers=[],
                     workers=1, **kwargs).run()
    return drift_rows(report.results, "train")


def fmt(r):
    return f"{r.feature}/{r.statistic} JS {r.js:.3f} (n={r.counts}, p={r.noise_p:.2g})"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", type=int, default=400)
    parser.add_argument("--draws", type=int, default=3)
    parser.add_argument("--skip-noise", action="store_true", help="only the drift cases")
    args = parser.parse_args()
    t = {name: th.default for name, th in declared().items()}
    warn, err, max_p = t["drift_warning"], t["drift_error"], t["drift_noise_p"]
    print(f"defaults: drift_warning {warn:g}, drift_error {err:g}, drift_noise_p {max_p:g}\n")
    for task, (_, dataset, _) in DEMO_TASKS.items():
        drop = DROPPED[task]
        scale = 4 if task == "classification" else 1
        n = args.train * scale
        print(f"== {task} (train {n} images)")
        for nv in () if args.skip_noise else (25 * scale, 50 * scale, 100 * scale, 200 * scale):
            full = dataset(n + nv * args.draws, split="train", seed=0)
            rows = [r for d in range(args.draws)
                    for r in rows_of(task, Subset(full, range(n)), Subset(full, range(n + d * nv, n + (d + 1) * nv)))]
            top = max(rows, key=lambda r: r.js)
            passing = [r for r in rows if r.noise_p < max_p]
            top_passing = max(passing, key=lambda r: r.js) if passing else None
            flagged = [r for r in passing if r.js >= warn]
            print(f"  noise, val {nv:4d}: largest {fmt(top)}; largest past the G-test "
                  f"{fmt(top_passing) if top_passing else '-'}; flagged {len(flagged)}")
        train = dataset(n, split="train", seed=0)
        for label, val in (("demo val split", dataset(100 * scale, split="val", seed=0)),
                           ("val = train darkened 40%", Darkened(train, 0.6)),
                           (f"val = train without classes {drop}", WithoutClasses(train, task, drop))):
            rows = rows_of(task, train, val)
            level = lambda r: "error" if r.js >= err else "warning" if r.js >= warn else "-"  # noqa: E731
            print(f"  {label}:")
            key = [r for r in rows if r.feature in KEY_FEATURES or r.feature.endswith("_class_frequency")]
            for r in rows[:3] + [r for r in key if r not in rows[:3]]:
                print(f"    {fmt(r)} [{level(r) if r.noise_p < max_p else 'noise'}] {r.reading}")


if __name__ == "__main__":
    main()
