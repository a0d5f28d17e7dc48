"""One producer of extractor state: a full set of extractors fed by one thread.

A worker thread, and later a torch.distributed rank, is one producer. Producers never
share an extractor; their states meet only in :meth:`Producer.merge`, which relies on
the extractors' own ``merge`` (proved per extractor by the test harness to equal one
extractor that saw all the data). Nothing in the merged result depends on which
producer saw which batch.
"""
from __future__ import annotations

import logging
import traceback
from pathlib import Path
from typing import Dict, Iterable, List, Tuple, Type

from data_gradients.context import AnalysisContext
from data_gradients.feature_extractors.base import FeatureExtractor

logger = logging.getLogger("data_gradients")


class Producer:
    """Extractors of one producer, and the first failure of each (by batch sequence number).

    ``errors`` maps a feature name to ``(sequence number of the failing batch, message)``;
    a failed extractor is not updated again, as in a single-threaded run.
    """

    def __init__(self, feature_classes: Iterable[Type[FeatureExtractor]], context: AnalysisContext):
        self.extractors: Dict[str, FeatureExtractor] = {cls.name: cls(context) for cls in feature_classes}
        self.errors: Dict[str, Tuple[int, str]] = {}

    def update(self, batch, split: str, seq: int) -> None:
        """Feed one canonical batch to every extractor that has not failed; ``seq`` orders batches."""
        for name, extractor in self.extractors.items():
            if name in self.errors:
                continue
            try:
                extractor.update(batch, split)
            except Exception as e:  # one failing extractor must not stop the others
                self.errors[name] = (seq, describe_failure(e, "update"))
                logger.warning("data_gradients: feature %r failed and is skipped: %s", name, e)

    def merge(self, other: "Producer") -> "Producer":
        """Fold ``other`` into this producer. A failure anywhere fails the feature; the
        failure reported is the one of the earliest batch, whoever saw it."""
        for name, extractor in self.extractors.items():
            extractor.merge(other.extractors[name])
        for name, (seq, message) in other.errors.items():
            if name not in self.errors or seq < self.errors[name][0]:
                self.errors[name] = (seq, message)
        return self


def merge_producers(producers: List[Producer]) -> Producer:
    """All producers folded into the first, in list order (the result does not depend on it)."""
    first = producers[0]
    for other in producers[1:]:
        first.merge(other)
    return first


def describe_failure(e: BaseException, stage: str) -> str:
    """One line naming the exception, the stage and where it was raised."""
    tb = traceback.extract_tb(e.__traceback__)
    where = f" at {Path(tb[-1].filename).name}:{tb[-1].lineno}" if tb else ""
    return f"{type(e).__name__} in {stage}(){where}: {e}"
