"""The manifest file of a run: every sample's id (and file path) with a 16-byte hash of its image and of its labels.

``manifest.tsv`` in the run folder, UTF-8 text, one sample a line::

    # data_gradients manifest v1
    # split=train samples=1000 listed=1000 fingerprint=<64 hex digits>
    split<TAB>sample_id<TAB>image<TAB>label<TAB>path
    train<TAB>96<TAB><32 hex digits><TAB><32 hex digits><TAB>/data/images/000096.png

One ``# split=`` line per split: ``samples`` read, ``listed`` in the file (fewer when the split is
larger than the fingerprint's cap, see :mod:`data_gradients.feature_extractors.common.fingerprint`),
and the split's fingerprint. ``path`` is empty when the data did not come from files. Sample ids
are written as everywhere else (``rank:position`` on a distributed rank's stream). Tabs, newlines
and backslashes in paths are escaped (``\\t``, ``\\n``, ``\\\\``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterator, List, Optional, TextIO

from data_gradients.errors import ConfigurationError

MANIFEST_NAME = "manifest.tsv"
MAGIC = "# data_gradients manifest v1"
COLUMNS = ("split", "sample_id", "image", "label", "path")


@dataclass
class SplitManifest:
    """One split of a manifest: ``ids[k]`` has hashes ``images[k]`` / ``labels[k]`` (hex) and ``paths[k]`` ("" unknown)."""

    name: str
    samples: int = 0
    listed: int = 0
    fingerprint: str = ""
    ids: List[str] = field(default_factory=list)
    images: List[str] = field(default_factory=list)
    labels: List[str] = field(default_factory=list)
    paths: List[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """True when every sample read is listed."""
        return self.listed == self.samples == len(self.ids)

    @property
    def has_paths(self) -> bool:
        return bool(self.paths) and all(self.paths)


@dataclass
class Manifest:
    """Every split of a run's manifest, in the run's order."""

    splits: Dict[str, SplitManifest] = field(default_factory=dict)
    source: Optional[Path] = None


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _unescape(text: str) -> str:
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            out.append({"t": "\t", "n": "\n", "r": "\r", "\\": "\\"}.get(text[i + 1], text[i + 1]))
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def write_manifest(stream: TextIO, splits: List[SplitManifest], rows: Iterator[tuple]) -> None:
    """Write the header of ``splits`` then ``rows`` of (split, sample id text, image hex, label hex, path)."""
    stream.write(MAGIC + "\n")
    for s in splits:
        stream.write(f"# split={_escape(s.name)} samples={s.samples} listed={s.listed} fingerprint={s.fingerprint}\n")
    stream.write("\t".join(COLUMNS) + "\n")
    for split, sid, image, label, path in rows:
        stream.write(f"{_escape(split)}\t{sid}\t{image}\t{label}\t{_escape(path or '')}\n")


def find_manifest(run: object) -> Path:
    """The manifest of ``run``: a run folder holding ``manifest.tsv``, or the manifest file itself."""
    if not isinstance(run, (str, Path)) or str(run) == "":
        raise ConfigurationError(f"a run must be a run folder or a {MANIFEST_NAME} path, got {run!r}")
    path = Path(run).expanduser()
    if path.is_dir():
        path = path / MANIFEST_NAME
    if not path.is_file():
        raise ConfigurationError(f"no manifest at {str(path)!r}: pass a run folder written by data_gradients "
                                 f"(it holds {MANIFEST_NAME} unless the fingerprint feature was excluded)")
    return path


def read_manifest(run: object) -> Manifest:
    """Read the manifest of a run folder (or a manifest file)."""
    path = find_manifest(run)
    manifest = Manifest(source=path)
    with path.open(encoding="utf-8") as f:
        first = f.readline().rstrip("\n")
        if first != MAGIC:
            raise ConfigurationError(f"{str(path)!r} is not a data_gradients manifest (first line {first[:60]!r})")
        for line_no, line in enumerate(f, start=2):
            line = line.rstrip("\n")
            if line.startswith("# split="):
                fields = dict(part.split("=", 1) for part in line[2:].split(" ") if "=" in part)
                name = _unescape(fields["split"])
                manifest.splits[name] = SplitManifest(name, samples=int(fields["samples"]), listed=int(fields["listed"]),
                                                      fingerprint=fields.get("fingerprint", ""))
                continue
            if line.startswith("#") or line == "\t".join(COLUMNS) or not line:
                continue
            parts = line.split("\t")
            if len(parts) != len(COLUMNS):
                raise ConfigurationError(f"{str(path)!r} line {line_no}: expected {len(COLUMNS)} tab-separated "
                                         f"columns, got {len(parts)}")
            split = _unescape(parts[0])
            s = manifest.splits.setdefault(split, SplitManifest(split))
            s.ids.append(parts[1])
            s.images.append(parts[2])
            s.labels.append(parts[3])
            s.paths.append(_unescape(parts[4]))
    return manifest
