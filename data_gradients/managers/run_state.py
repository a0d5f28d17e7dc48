"""What one process read: merged extractor state, counts per split, notes, and why it stopped early.

This is what a torch.distributed rank sends to rank 0, and what the report is made of.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Set

from data_gradients.managers.producer import Producer
from data_gradients.reports.report import SplitSummary


@dataclass
class RunState:
    producer: Producer
    splits: Dict[str, SplitSummary]
    notes: Set[str] = field(default_factory=set)
    stops: List[str] = field(default_factory=list)  # why reading stopped early (Ctrl-C, an error), per process
    errors: List[str] = field(default_factory=list)  # the stops that were errors

    def partial_reason(self, max_batches: Optional[int]) -> Optional[str]:
        if self.stops:
            return "; ".join(self.stops) + "; statistics cover only what was read"
        if any(not s.complete for s in self.splits.values()):
            return f"stopped after max_batches={max_batches} batches per split"
        return None


def merge_states(states: List[RunState]) -> RunState:
    """One state from several processes' (in a fixed order; the result does not depend on it)."""
    first = states[0]
    for other in states[1:]:
        first.producer.merge(other.producer)
        for name, theirs in other.splits.items():
            mine = first.splits.setdefault(name, SplitSummary(name))
            mine.samples += theirs.samples
            mine.batches += theirs.batches
            mine.complete = mine.complete and theirs.complete
        first.notes |= other.notes
        first.stops += other.stops
        first.errors += other.errors
    return first
