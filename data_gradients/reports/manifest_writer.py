"""``manifest.tsv``: every sample's id (and file path) with the hashes of its image and labels.

The numbers come from the fingerprint feature's result (``result.manifest``: per split the sample
ids and their 32 bytes of hashes; ``result.manifest_paths``: the file paths, set at report time when
the data came from files); the format is :mod:`data_gradients.export.manifest`. Nothing is written
when the fingerprint feature did not run or failed.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterator, Optional

from data_gradients.export.manifest import MANIFEST_NAME, SplitManifest, write_manifest
from data_gradients.reports.report import AnalysisReport
from data_gradients.sample_id import format_sample_id

FEATURE = "fingerprint"


class ManifestWriter:
    name = "manifest"

    def write(self, report: AnalysisReport) -> Optional[Path]:
        result = report.results.get(FEATURE)
        manifest = getattr(result, "manifest", None)
        if result is None or result.failed or manifest is None:
            return None
        paths = getattr(result, "manifest_paths", None) or {}
        data = result.data
        heads = [SplitManifest(s, samples=int(data["samples"][s]), listed=len(manifest[s][0]),
                               fingerprint=data["fingerprint"][s]) for s in manifest]
        path = report.run_dir / MANIFEST_NAME
        with path.open("w", encoding="utf-8", newline="\n") as f:
            write_manifest(f, heads, _rows(manifest, paths))
        return path


def _rows(manifest: dict, paths: dict) -> Iterator[tuple]:
    for split, (ids, hashes) in manifest.items():
        split_paths = paths.get(split)
        half = hashes.shape[1] // 2
        text = hashes.tobytes().hex()
        width = 2 * hashes.shape[1]
        for k, sample_id in enumerate(ids.tolist()):
            row = text[k * width:(k + 1) * width]
            path = split_paths[k] if split_paths is not None and k < len(split_paths) else ""
            yield split, format_sample_id(sample_id), row[:2 * half], row[2 * half:], path or ""
