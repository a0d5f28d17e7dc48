"""Splits that came out empty, or far shorter than their loader promised."""
from __future__ import annotations

from data_gradients.feature_extractors.base import FeatureExtractor
from data_gradients.feature_extractors.registry import register_feature
from data_gradients.results import Finding
from data_gradients.thresholds import declare, threshold

SHORT_SHARE = 0.9  # a split with fewer than this share of the samples its loader promised is flagged
SHORT_SPLIT = declare("short_split_share", SHORT_SHARE, "samples read from a split divided by the samples its loader's "
                      "length promised, below which the split is flagged as short", minimum=0, maximum=1)


@register_feature
class SplitSizes(FeatureExtractor):
    """Samples read per split, against the number the loader's length promised (when it tells).

    The promised number is a DataLoader's dataset (or sampler) length, known before reading;
    with ``max_batches`` it is capped accordingly. The reference split (train) is what the model
    learns from: an empty one is an error there, a warning for the others.
    """

    name = "split_sizes"
    title = "Split sizes"
    description = (
        "Samples read from each split, and how many its loader promised. An empty split (a generator "
        "already used up, a wrong path, a filter that dropped everything) or one much shorter than its "
        "length says gives statistics of the wrong data without any error."
    )
    tasks = ("segmentation", "detection", "classification")
    group = "quality"
    reads_unreadable = True  # samples without pixels were read all the same (data quality lists them)

    def setup(self) -> None:
        self.add_state("samples", 0, "sum")

    def update(self, batch, split: str) -> None:
        self.state(split).samples += len(batch)

    def compute(self):
        res = self.new_result()
        splits = list(self.context.splits) + [s for s in self.splits if s not in self.context.splits]
        read = {s: int(self.state(s).samples) for s in splits}
        promised = {s: self.context.promised(s) for s in splits}
        res.scalars["samples"] = dict(read)
        empty = [s for s in splits if read[s] == 0]
        reference = self.context.reference
        if empty:
            first = reference in empty
            res.findings.append(Finding(
                key="empty_split", title="Empty splits", area="splits", severity="error" if first else "warning",
                message="no sample was read from " + ", ".join(
                    f"{s}" + (f" (its loader promised {promised[s]})" if promised[s] else "") for s in empty),
                why="every statistic of an empty split is missing; a generator that was already used (e.g. passed "
                    "again as val after train) or a loader over an empty folder gives no data without an error",
                counts={s: 1 for s in empty},
            ))
        short_share = threshold(self.context, SHORT_SPLIT)
        short = [s for s in splits if read[s] and promised[s] and read[s] < short_share * promised[s]]
        if short:
            res.findings.append(Finding(
                key="short_split", title="Splits shorter than their loader promised", area="splits",
                severity="error" if reference in short else "warning",
                message="; ".join(f"{s}: {read[s]} samples read of the {promised[s]} its length promised "
                                  f"({read[s] / promised[s]:.0%})" for s in short),
                why="the loader stopped early or dropped samples (a dataset whose __len__ is wrong, a collate_fn "
                    f"that drops samples); below {short_share:.0%} of the promised length the statistics may not "
                    "describe the dataset",
                counts={s: promised[s] - read[s] for s in short},
            ))
        return res
