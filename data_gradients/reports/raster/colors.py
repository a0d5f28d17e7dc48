"""The colours of the splits in every plot."""
from __future__ import annotations

from typing import Dict, Iterable

# six colours told apart in print and by most colour-blind readers: blue, orange, green, purple, red, teal
PALETTE = ["#2b6cb0", "#dd6b20", "#2f855a", "#805ad5", "#c53030", "#0f9fb5"]
SPLIT_COLORS = {"train": PALETTE[0], "val": PALETTE[1]}


def split_colors(splits: Iterable[str]) -> Dict[str, str]:
    """A colour per split, distinct for up to six: train blue and val orange wherever they are, the
    other splits the remaining colours in order (then the palette again)."""
    splits = list(splits)
    free = [c for c in PALETTE if c not in {SPLIT_COLORS[s] for s in splits if s in SPLIT_COLORS}]
    out, k = {}, 0
    for s in splits:
        if s in SPLIT_COLORS:
            out[s] = SPLIT_COLORS[s]
        else:
            out[s] = free[k] if k < len(free) else PALETTE[k % len(PALETTE)]
            k += 1
    return out
