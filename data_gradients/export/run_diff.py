"""What changed between two runs' datasets, from their manifests: ``diff_runs(run_a, run_b)``.

Per split (a split present in one run only is all added or all removed):

- **by path** when every sample of both runs has a file path: the same path is the same sample;
  its image changed when the image hash differs, else its labels changed when the label hash does;
- **by content** otherwise: samples of identical image and labels are paired first, then samples
  with the same image (their labels changed), then what is left by sample id (same id, other
  image: the image changed); the rest is removed (run A) or added (run B).

Hashes are 16 bytes of SHA-256 (see :mod:`data_gradients.feature_extractors.common.fingerprint`),
so two different images or labels pass for equal with probability about 2**-128.
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from data_gradients.export.manifest import Manifest, SplitManifest, read_manifest

FIRST_IDS = 10  # ids listed per kind in the summary


@dataclass(frozen=True)
class SampleRef:
    """A sample of one run: its id as written in the reports, and its file path ("" unknown)."""

    id: str
    path: str = ""

    def __str__(self) -> str:
        return f"{self.id} ({self.path})" if self.path else self.id


@dataclass
class SplitDiff:
    """Differences in one split. ``label_changed`` and ``image_changed`` hold (run A sample, run B sample)."""

    split: str
    matched_by: str  # "path" or "content"
    samples_a: int = 0
    samples_b: int = 0
    fingerprint_a: str = ""
    fingerprint_b: str = ""
    added: List[SampleRef] = field(default_factory=list)
    removed: List[SampleRef] = field(default_factory=list)
    label_changed: List[Tuple[SampleRef, SampleRef]] = field(default_factory=list)
    image_changed: List[Tuple[SampleRef, SampleRef]] = field(default_factory=list)
    unchanged: int = 0
    complete: bool = True  # False when a manifest lists fewer samples than were read (its cap)

    @property
    def identical(self) -> bool:
        return not (self.added or self.removed or self.label_changed or self.image_changed) and \
            self.fingerprint_a == self.fingerprint_b and self.samples_a == self.samples_b

    def counts(self) -> Dict[str, int]:
        return {"added": len(self.added), "removed": len(self.removed), "label_changed": len(self.label_changed),
                "image_changed": len(self.image_changed), "unchanged": self.unchanged}


@dataclass
class RunDiff:
    """``splits`` maps each split of either run to its :class:`SplitDiff` (run A's order, then B's new splits)."""

    run_a: str
    run_b: str
    splits: Dict[str, SplitDiff] = field(default_factory=dict)

    @property
    def identical(self) -> bool:
        return all(s.identical for s in self.splits.values())

    def to_dict(self, first: Optional[int] = None) -> Dict[str, Any]:
        """Plain JSON-able form; ``first`` caps the listed samples per kind (None: all)."""
        def refs(items: list) -> list:
            items = items[:first] if first is not None else items
            return [[vars(x[0]), vars(x[1])] if isinstance(x, tuple) else vars(x) for x in items]
        return {"run_a": self.run_a, "run_b": self.run_b, "identical": self.identical, "splits": {
            name: {"matched_by": s.matched_by, "samples_a": s.samples_a, "samples_b": s.samples_b,
                   "fingerprint_a": s.fingerprint_a, "fingerprint_b": s.fingerprint_b, "complete": s.complete,
                   "counts": s.counts(), "added": refs(s.added), "removed": refs(s.removed),
                   "label_changed": refs(s.label_changed), "image_changed": refs(s.image_changed)}
            for name, s in self.splits.items()}}

    def summary(self, first: int = FIRST_IDS) -> str:
        lines = [f"data_gradients diff\n  A: {self.run_a}\n  B: {self.run_b}"]
        for s in self.splits.values():
            same = "same fingerprint" if s.fingerprint_a == s.fingerprint_b else "fingerprints differ"
            lines.append(f"{s.split} (matched by {s.matched_by}): {s.samples_a} -> {s.samples_b} samples, {same}"
                         + ("" if s.complete else " (a manifest lists only part of the split: its cap)"))
            for title, items in (("added", s.added), ("removed", s.removed),
                                 ("labels changed, same image", s.label_changed), ("image changed", s.image_changed)):
                if items:
                    shown = ", ".join(_ref_text(x) for x in items[:first])
                    more = f", ... (+{len(items) - first})" if len(items) > first else ""
                    lines.append(f"  {title}: {len(items)} (first: {shown}{more})")
                else:
                    lines.append(f"  {title}: 0")
            lines.append(f"  unchanged: {s.unchanged}")
        lines.append("no difference" if self.identical else "the datasets differ")
        return "\n".join(lines)


def _ref_text(x: Any) -> str:
    if isinstance(x, tuple):
        a, b = x
        return str(b) if a.id == b.id and a.path == b.path else f"{a} -> {b}"
    return str(x)


def diff_runs(run_a: Any, run_b: Any) -> RunDiff:
    """Compare the datasets of two runs (run folders, or their ``manifest.tsv`` files)."""
    a, b = read_manifest(run_a), read_manifest(run_b)
    return diff_manifests(a, b, str(a.source), str(b.source))


def diff_manifests(a: Manifest, b: Manifest, name_a: str = "A", name_b: str = "B") -> RunDiff:
    out = RunDiff(name_a, name_b)
    for split in list(a.splits) + [s for s in b.splits if s not in a.splits]:
        sa, sb = a.splits.get(split, SplitManifest(split)), b.splits.get(split, SplitManifest(split))
        by_path = sa.has_paths and sb.has_paths
        d = SplitDiff(split, "path" if by_path else "content", samples_a=sa.samples, samples_b=sb.samples,
                      fingerprint_a=sa.fingerprint, fingerprint_b=sb.fingerprint,
                      complete=sa.complete and sb.complete)
        (_by_path if by_path else _by_content)(_entries(sa), _entries(sb), d)
        out.splits[split] = d
    return out


Entry = Tuple[SampleRef, str, str]  # (sample, image hash, label hash)


def _entries(s: SplitManifest) -> List[Entry]:
    paths = s.paths if len(s.paths) == len(s.ids) else [""] * len(s.ids)
    return [(SampleRef(i, p), im, lb) for i, p, im, lb in zip(s.ids, paths, s.images, s.labels)]


def _by_path(a: List[Entry], b: List[Entry], d: SplitDiff) -> None:
    in_b = {ref.path: (ref, im, lb) for ref, im, lb in b}
    seen = set()
    for ref, im, lb in a:
        other = in_b.get(ref.path)
        if other is None:
            d.removed.append(ref)
            continue
        seen.add(ref.path)
        if other[1] != im:
            d.image_changed.append((ref, other[0]))
        elif other[2] != lb:
            d.label_changed.append((ref, other[0]))
        else:
            d.unchanged += 1
    d.added = [ref for ref, _, _ in b if ref.path not in seen]


def _by_content(a: List[Entry], b: List[Entry], d: SplitDiff) -> None:
    left_a, left_b = list(a), list(b)
    # 1. identical image and labels; 2. same image (labels changed); 3. same id (image changed)
    for key, kind in ((lambda e: (e[1], e[2]), None), (lambda e: e[1], "label"), (lambda e: e[0].id, "image")):
        pool: Dict[Any, List[Entry]] = defaultdict(list)
        for e in reversed(left_a):
            pool[key(e)].append(e)  # popped from the end: run A's order
        rest_b = []
        for e in left_b:
            candidates = pool.get(key(e))
            if not candidates:
                rest_b.append(e)
                continue
            mine = candidates.pop()
            if kind is None:
                d.unchanged += 1
            elif kind == "label":
                d.label_changed.append((mine[0], e[0]))
            else:
                d.image_changed.append((mine[0], e[0]))
        paired = {id(e) for es in pool.values() for e in es}
        left_a, left_b = [e for e in left_a if id(e) in paired], rest_b
    d.removed = [e[0] for e in left_a]
    d.added = [e[0] for e in left_b]
    for items in (d.label_changed, d.image_changed):
        items.sort(key=lambda ab: _id_order(ab[1].id))


def _id_order(sample_id: str) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", sample_id))
