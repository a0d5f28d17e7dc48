"""Findings shared by the class-frequency features of every task."""
from __future__ import annotations

from typing import Dict, List, Sequence

import numpy as np

from data_gradients.results import Finding


def missing_class_findings(counts: Dict[str, np.ndarray], ids: Sequence[int], names: Sequence[str],
                           unit: str, reference: str = "train") -> List[Finding]:
    """Classes with no ``unit`` (e.g. "labelled pixel", "box") in a split.

    ``counts[split][class_id]`` is how many ``unit``s of the class the split has. A class
    missing from every split is one "empty classes" finding; a class missing from only
    some splits gives one finding per such split.
    """
    splits = list(counts)
    missing = {s: [n for c, n in zip(ids, names) if counts[s][c] == 0] for s in splits}
    everywhere = [n for n in names if all(n in missing[s] for s in splits)]
    findings = []
    if everywhere:
        findings.append(Finding(
            key="empty_classes", title="Classes that never appear", severity="warning",
            message=f"{len(everywhere)} class(es) have no {unit} in any split: {', '.join(everywhere)}",
            why="a class without examples cannot be learned; check num_classes, the label mapping or ignore_labels",
            counts={s: len(everywhere) for s in splits},
        ))
    for s in splits:
        only_here = [n for n in missing[s] if n not in everywhere]
        if only_here:
            findings.append(Finding(
                key=f"classes_missing_{s}", title=f"Classes missing from {s}", severity="warning",
                message=f"{len(only_here)} class(es) present elsewhere have no {unit} in {s}: {', '.join(only_here)}",
                why=("metrics on this split say nothing about these classes" if s != reference
                     else "the model never sees these classes during training"),
                counts={s: len(only_here)},
            ))
    return findings
