"""Handing freed heap memory back to the operating system during long runs.

Iterating a loader allocates and frees a few MB per batch (decoded images, collated
tensors, our per-batch temporaries). glibc raises its mmap threshold after such frees,
so later blocks of that size come from the heap, and a fragmented heap keeps its pages:
measured here, the peak RSS of the same 2,400-image run varied between 280 MB and 1 GB
from run to run. ``malloc_trim(0)`` returns the free pages; it changes no allocator
setting, and is a no-op where glibc is not the C library.

Once the reading is over, the free pages go back at once (:func:`release_free_heap`), before the worker
processes' states come back, and again once they are merged: what the batches left free is not needed
again, and what follows would otherwise take its memory on top of it. Measured (``workers=2``, peak RSS
of three runs at N=500 and three at N=20000), the peak came as the states came back, on top of a heap
the reading left anywhere in the trimming margin (the longer the run, the likelier high): on 720p
segmentation 591-609 against 617-640 MB; after the trim, the writing peaked at ~440-460 MB.

When to trim: once the resident size has grown past its lowest since the last trim by twice the
largest batch seen (at least :data:`MIN_MARGIN_BYTES`). While freed batches are reused, the
resident size stays put and nothing is trimmed (a trim would hand back pages the next batch takes
again, page fault by page fault); when every batch takes new pages (glibc's heap settles in such a
layout in some runs), a trim comes every other batch. Where the resident size cannot be read (no
``/proc``), every :data:`TRIM_EVERY_BATCHES` batches.
"""
from __future__ import annotations

import os
from typing import Callable, Optional

from data_gradients.managers.heap_slack import glibc, unpark_small_chunks

MIN_MARGIN_BYTES = 16 << 20  # growth of the resident size that calls for a trim, at least
MARGIN_BATCHES = 2  # ... and at least this many of the largest batch seen
TRIM_EVERY_BATCHES = 8  # where the resident size cannot be read


def _load_trim() -> Optional[Callable[[int], int]]:
    """glibc's ``malloc_trim``; None elsewhere."""
    libc = glibc()
    return None if libc is None else libc.malloc_trim


def release_free_heap() -> bool:
    """Hand the heap's free pages back to the system now (``malloc_trim(0)``); False where that cannot be done."""
    trim = _load_trim()
    if trim is None:
        return False
    trim(0)
    return True


def resident_bytes() -> Optional[int]:
    """This process's resident set size in bytes (``/proc/self/statm``: a few microseconds), None where
    it cannot be read."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        return None


class HeapTrimmer:
    """Call ``tick(batch_bytes)`` once per batch, after it was let go: the aligned blocks' slack leaves the
    thread cache (:mod:`heap_slack`), and free heap pages go back once the resident size grew
    :data:`MARGIN_BATCHES` times the largest batch seen (at least :data:`MIN_MARGIN_BYTES`) above its
    lowest since the last trim, times ``in_flight``, the batches alive at once in the process (worker
    threads share its heap); every ``every`` batches where it cannot be read."""

    def __init__(self, every: int = TRIM_EVERY_BATCHES, rss: Callable[[], Optional[int]] = resident_bytes,
                 in_flight: int = 1):
        self.every = every
        self.in_flight = max(1, int(in_flight))  # batches alive at once in this process (worker threads, a queue)
        self.margin = MIN_MARGIN_BYTES
        self._count = 0
        self._trim = _load_trim()
        self._rss = rss
        self._floor: Optional[int] = None
        self.trims = 0

    def tick(self, batch_bytes: int = 0) -> None:
        self._count += 1
        unpark_small_chunks()  # so that the batch just freed can be reused whole (heap_slack.py)
        if self._trim is None:
            return
        self.margin = max(self.margin, MARGIN_BATCHES * self.in_flight * int(batch_bytes))
        size = self._rss() if self._rss is not None else None
        if size is None:  # no resident size here: by the count
            if self._count % self.every == 0:
                self._trim(0)
                self.trims += 1
            return
        if self._floor is None or size < self._floor:
            self._floor = size
        elif size > self._floor + self.margin:
            self._trim(0)
            self.trims += 1
            self._floor = self._rss()
