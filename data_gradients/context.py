"""The run's fixed facts that feature extractors need (classes, names, seed)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import numpy as np


@dataclass(frozen=True)
class AnalysisContext:
    """Read-only description of the analysis, shared by all extractors of a run.

    ``class_ids`` are the label ids that are counted and shown (ignored ids removed).
    ``n_label_ids`` is the size of the id space (``num_classes``, or 2 in the binary
    case where 0 is background and 1 the object).
    """

    task: str
    num_classes: int
    class_ids: Tuple[int, ...]
    class_names: Dict[int, str] = field(default_factory=dict)
    splits: Tuple[str, ...] = ("train", "val")
    #: the split the others are compared with (the first, usually train)
    reference: str = "train"
    samples_to_visualize: int = 10
    seed: int = 0
    #: (split, samples its loader promised) pairs, for the splits whose loader tells its length
    promised_samples: Tuple[Tuple[str, int], ...] = ()
    #: (name, value) of the findings' thresholds in force (``data_gradients.thresholds``)
    thresholds: Tuple[Tuple[str, float], ...] = ()

    @property
    def n_label_ids(self) -> int:
        return 2 if self.num_classes == 1 else self.num_classes

    @property
    def shown_ids(self) -> "np.ndarray":
        """(n_label_ids,) bool: the ids of ``class_ids`` (the classes shown), for selecting counted labels."""
        mask = np.zeros(self.n_label_ids, dtype=bool)
        mask[list(self.class_ids)] = True
        return mask

    def promised(self, split: str) -> Optional[int]:
        """Samples the loader of ``split`` promised to yield, or None when it cannot tell."""
        return dict(self.promised_samples).get(split)

    def name_of(self, class_id: int) -> str:
        return self.class_names.get(int(class_id), str(int(class_id)))

    @property
    def names(self) -> List[str]:
        return [self.name_of(c) for c in self.class_ids]
