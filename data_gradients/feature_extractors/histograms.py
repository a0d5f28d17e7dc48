"""Reading fixed-bin histograms back: quantiles estimated from the counts."""
from __future__ import annotations

from typing import Optional

import numpy as np


def histogram_median(counts: np.ndarray, edges: np.ndarray, log: bool = False) -> Optional[float]:
    """Median estimated from a histogram: interpolated inside the bin holding the middle
    value (geometrically when ``log``); ``None`` for an empty histogram."""
    counts = np.asarray(counts, dtype=np.float64)
    total = counts.sum()
    if total <= 0:
        return None
    cum = np.cumsum(counts)
    k = int(np.searchsorted(cum, total / 2.0))
    frac = (total / 2.0 - (cum[k - 1] if k else 0.0)) / counts[k]
    lo, hi = float(edges[k]), float(edges[k + 1])
    if log:
        return float(10 ** (np.log10(lo) + frac * (np.log10(hi) - np.log10(lo))))
    return lo + frac * (hi - lo)
