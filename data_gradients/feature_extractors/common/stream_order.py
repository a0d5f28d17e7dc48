"""The order the loader yields: class shares, brightness and objects per window of the stream,
and a finding when that order is far from shuffled.

State per split: per window of the stream (``stream_windows``: at most ``WINDOWS`` windows of
a power-of-two width of consecutive stream positions, merged exactly): images, images holding
each class, the brightness sum (integer fixed point, exact) and the objects (boxes; classes present
for the other tasks). Fixed size: WINDOWS x (classes + 3) integers per split. Under torch.distributed
the manager interleaves the ranks' streams (position x world + rank, as a DistributedSampler deals the samples), so a step
counts the images read by all ranks.

The finding: for each class, a chi-square test of its images per window against its share of
the whole split (X^2 = sum_w (O_w - n_w p)^2 / (n_w p (1 - p)), df = windows - 1, p-value by the
its closed form for integer df), Bonferroni over the classes tested; a class is tested only when
it is expected at least ``MIN_EXPECTED`` times per window, present and absent.

Headline numbers along the stream (``Series.headline``): classes seen, mean brightness and
objects per image of all the images read so far; the last value is the split's number (the same
as image_brightness's mean and the class and box counts'), which TensorBoard's HParams dashboard
takes as a metric.
"""
from __future__ import annotations

import math
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from data_gradients.feature_extractors.base import FeatureExtractor
from data_gradients.feature_extractors.common.brightness import FIXED_POINT_BITS, image_luma
from data_gradients.feature_extractors.registry import register_feature
from data_gradients.feature_extractors.stream_windows import add_counts
from data_gradients.results import Finding, Series, Table
from data_gradients.thresholds import declare, threshold

MAX_SHARE_SERIES = 20  # class-share charts: the most frequent classes (and every flagged one)
MIN_EXPECTED = 2.0  # a class is tested when expected at least this often per window, present and absent
UNSHUFFLED_P = declare(
    "unshuffled_order_p", 0.001,
    "family-wise p-value below which a loader's order is reported as far from shuffled: chi-square test of "
    "each class's images per window of the stream against its share of the split, "
    "Bonferroni over the classes tested", minimum=0.0, maximum=1.0)


def chi2_sf(x: float, df: int) -> float:
    """P(X >= x) for X ~ chi-square(df), integer df: the closed form of the regularised upper
    gamma function for integer and half-integer shapes (terms summed in log space; no scipy)."""
    if df <= 0 or x <= 0:
        return 1.0
    h = x / 2.0
    if df % 2 == 0:
        ks, head = [k for k in range(df // 2)], 0.0
    else:
        ks, head = [k + 0.5 for k in range((df - 1) // 2)], math.erfc(math.sqrt(h))
    return min(1.0, head + sum(math.exp(-h + k * math.log(h) - math.lgamma(k + 1)) for k in ks))


@register_feature
class StreamOrder(FeatureExtractor):
    name = "stream_order"
    title = "Order of the stream"
    description = (
        "Class shares, brightness and objects per image along the order the loader yields them (about 1/50 "
        "of a split per point). Flat lines mean a shuffled loader; steps or blocks mean the data comes sorted "
        "(by class, source or time), which hurts training when the training loader is not shuffled."
    )
    tasks = ("segmentation", "detection", "classification")
    group = "splits"

    def setup(self) -> None:
        self.add_state("class_images", np.zeros(len(self.context.class_ids), dtype=np.int64), "windows")
        self.add_state("luma", 0, "windows")
        self.add_state("objects", 0, "windows")

    # ------------------------------------------------------------------ update
    def update(self, batch: Any, split: str) -> None:
        n = len(batch)
        if n == 0:
            return
        window = self.stream_windows(batch, split)
        st = self.state(split)
        present, objects = self._labels(batch)
        _, _, luma = image_luma(batch)  # as image_brightness rounds it
        add_counts(st.luma, window, weights=np.asarray(luma, dtype=np.float64))  # < 2**53: exact
        add_counts(st.objects, window, weights=objects.astype(np.float64))
        image, cls = np.nonzero(present)
        add_counts(st.class_images, window[image], cls)

    def _labels(self, batch: Any) -> Tuple[np.ndarray, np.ndarray]:
        """(N, classes) bool: the image holds the class; (N,) objects (boxes, else classes present)."""
        ids = np.asarray(self.context.class_ids, dtype=np.int64)
        n_ids = self.context.n_label_ids
        if self.context.task == "detection":
            present = batch.class_counts(n_ids)[:, ids] > 0
            return present, np.asarray(batch.boxes_per_image, dtype=np.int64)
        if self.context.task == "segmentation":
            present = batch.view.class_pixels(n_ids)[:, ids] > 0
        else:
            present = np.asarray(batch.labels)[:, ids] > 0
        return present, present.sum(axis=1).astype(np.int64)

    # ----------------------------------------------------------------- compute
    def compute(self):
        res = self.new_result()
        names = self.context.names
        per_image = ("Boxes" if self.context.task == "detection" else "Classes") + " per image"
        shares = Series(key="class_share", title="Share of images holding each class, along the stream",
                        y_label="share of the window's images", steps={}, values={})
        brightness = Series(key="mean_brightness", title="Mean brightness along the stream",
                            y_label="mean luma (0-255)", steps={}, values={})
        objects = Series(key="objects_per_image", title=f"{per_image}, along the stream",
                         y_label="per image", steps={}, values={})
        headline = [Series(key=key, title=title, y_label=label, steps={}, values={}, headline=True) for key, title, label in (
            ("classes_seen", "Classes seen in the images read so far", "classes"),
            ("mean_brightness", "Mean brightness of the images read so far", "mean luma (0-255)"),
            ("objects_per_image", f"{per_image}, over the images read so far", "per image"))]
        flagged: Dict[str, List[int]] = {}
        rows: List[List[Any]] = []
        totals = {s: self.state(s).class_images.sum(axis=0) for s in self.splits}
        overall = sum(totals.values()) if totals else np.zeros(len(names), dtype=np.int64)
        shown = [int(i) for i in np.argsort(-overall, kind="stable")[:MAX_SHARE_SERIES]]
        unit = float(1 << FIXED_POINT_BITS)
        for s in self.splits:
            st = self.state(s)
            used, steps = self.stream_steps(s)
            n = st.stream_images[used]
            for series in (shares, brightness, objects, *headline):
                series.steps[s] = steps
            brightness.values[s] = {"mean_brightness": st.luma[used] / n / unit}
            objects.values[s] = {"objects_per_image": st.objects[used] / n}
            read = np.cumsum(n)
            seen = np.cumsum(st.class_images[used], axis=0) > 0
            headline[0].values[s] = {"classes_seen": seen.sum(axis=1)}
            headline[1].values[s] = {"mean_brightness": np.cumsum(st.luma[used]) / read / unit}
            headline[2].values[s] = {"objects_per_image": np.cumsum(st.objects[used]) / read}
            tested, smallest_p, test = self._test(st, used)
            flagged[s] = [c for c, _, _ in test]
            rows.append([s, int(st.stream_end), int(st.stream_width), len(used), tested, len(test), smallest_p])
            shares.values[s] = {names[c]: st.class_images[used, c] / n for c in sorted(set(shown) | set(flagged[s]))}
            if test:
                res.findings.append(self._finding(s, st, used, test))
            res.data[s] = {"window_width": int(st.stream_width), "images_read": int(st.stream_end)}
        res.series += [shares, brightness, objects, *headline]
        res.tables.append(Table(
            key="order_test", title=("Is the order shuffled? Chi-square test of each class's images per window against "
                                     f"its split share (p < {threshold(self.context, UNSHUFFLED_P):g} / classes tested)"),
            columns=["split", "images read", "window width", "windows", "classes tested", "classes far from shuffled",
                     "smallest p"], rows=rows))
        return res

    def _test(self, st: Any, used: np.ndarray) -> Tuple[int, Optional[float], List[Tuple[int, float, float]]]:
        """(classes tested, smallest p-value or None, (class, X^2, p) of the classes whose images per window
        are far from their split share)."""
        n = st.stream_images[used].astype(np.float64)
        total, df = n.sum(), len(used) - 1
        if df < 1:
            return 0, None, []
        counts = st.class_images[used].astype(np.float64)
        p = counts.sum(axis=0) / total
        testable = np.flatnonzero((total * p / len(used) >= MIN_EXPECTED) & (total * (1 - p) / len(used) >= MIN_EXPECTED))
        alpha = threshold(self.context, UNSHUFFLED_P) / max(len(testable), 1)
        out, smallest = [], None
        for c in testable.tolist():
            expected = n * p[c]
            x2 = float(((counts[:, c] - expected) ** 2 / (expected * (1 - p[c]))).sum())
            pv = chi2_sf(x2, df)
            smallest = pv if smallest is None else min(smallest, pv)
            if pv < alpha:
                out.append((c, x2, pv))
        return len(testable), smallest, out

    def _finding(self, split: str, st: Any, used: np.ndarray, test: List[Tuple[int, float, float]]) -> Finding:
        names, df = self.context.names, len(used) - 1
        ordered = sorted(test, key=lambda t: -t[1])
        parts = [f"class {names[c]} {blocks_text(st, used, c)}" for c, _, _ in ordered[:5]]
        more = f"; {len(ordered) - 5} more class(es)" if len(ordered) > 5 else ""
        c0, x2, pv = ordered[0]
        alpha = threshold(self.context, UNSHUFFLED_P)
        reference = split == self.context.reference
        return Finding(
            key="unshuffled_order", title=f"The {split} loader is far from shuffled",
            severity="warning" if reference else "info",
            message=(f"the {split} loader yields classes in blocks: {'; '.join(parts)}{more}. Test: chi-square of "
                     f"each class's images per window ({st.stream_width} images) against its share of the split, "
                     f"{df} degrees of freedom; strongest: {names[c0]} X^2 = {x2:.1f}, p = {pv:.2g}; "
                     f"reported when p < {alpha:g} / classes tested (threshold unshuffled_order_p)"),
            why=("batches of one class make training oscillate and forget; shuffle the training loader "
                 "(DataLoader(shuffle=True) or a shuffling sampler)" if reference else
                 "an ordered evaluation loader is normal; it only matters if this split is used for training"),
            counts={split: len(ordered)},
        )


def blocks_text(st: Any, used: np.ndarray, c: int) -> str:
    """Where class ``c`` sits: runs of windows where its share is above its split share, largest
    first until they hold 80% of its images (at most 3), as image ranges of the stream."""
    n, o = st.stream_images[used], st.class_images[used, c]
    rich = o / n > o.sum() / n.sum()
    runs, start = [], None
    for i, r in enumerate(rich.tolist() + [False]):
        if r and start is None:
            start = i
        elif not r and start is not None:
            runs.append((start, i - 1, int(o[start:i].sum())))
            start = None
    runs.sort(key=lambda r: -r[2])
    chosen, held = [], 0
    for run in runs[:3]:
        chosen.append(run)
        held += run[2]
        if held >= 0.8 * o.sum():
            break
    width, end = st.stream_width, st.stream_end
    ranges = ", ".join(f"{int(used[a]) * width:,}\u2013{min((int(used[b]) + 1) * width, end) - 1:,}"
                       for a, b, _ in sorted(chosen))
    share = held / max(int(o.sum()), 1)
    return f"only in images {ranges}" if share >= 0.99 else f"mostly in images {ranges} ({share:.0%} of its images)"
