#!/usr/bin/env bash
# Build a virtualenv with data-gradients 0.3.2 (PyPI) beside torch==2.13.0 (CPU), for the legacy suite of
# bench/bench_analysis.py (--dg032 VENV/bin/python). PyPI's torchvision does not import beside this torch,
# so the venv gets a minimal stand-in package `torchvision` with what 0.3.2 imports (see below).
# numpy, OpenCV, matplotlib, scipy, Pillow, TensorBoard, jinja2 and tqdm are pinned to the versions of this
# project's .venv (./dev setup), so both libraries run on the same numerical stack.
#
# Usage: bash bench/dg032/make_venv.sh [VENV]   (default /tmp/dg032venv; removed and rebuilt; ~3 min)
set -euo pipefail

VENV=${1:-/tmp/dg032venv}
OURS_PY=${OURS_PY:-$(cd "$(dirname "$0")/../.." && pwd)/.venv/bin/python}
[ -x "$OURS_PY" ] || { echo "make_venv.sh: $OURS_PY not found (run ./dev setup first, or set OURS_PY)" >&2; exit 1; }
WHEELS=$(mktemp -d)
CONSTRAINTS=$(mktemp)
trap 'rm -rf "$WHEELS" "$CONSTRAINTS"' EXIT
echo "torch==2.13.0" > "$CONSTRAINTS"   # never let a resolver pull a CUDA torch
python3 -m pip download -q --no-deps -d "$WHEELS" data-gradients==0.3.2
WHEEL=$(ls "$WHEELS"/data_gradients-0.3.2-*.whl)
ours() {  # name==version as installed in our .venv
    echo "$1==$("$OURS_PY" -c "import importlib.metadata as m, sys; print(m.version(sys.argv[1]))" "$1")"
}

rm -rf "$VENV"
python3 -m venv "$VENV"
PIP="$VENV/bin/pip"

"$PIP" install -q torch==2.13.0
# the package itself without its requirements (they name torch, torchvision, opencv-python, imagededup)
"$PIP" install -q --no-deps "$WHEEL"
# its remaining requirements, those it shares with us at our versions;
# opencv-python-headless instead of opencv-python (no X server needed)
"$PIP" install -q -c "$CONSTRAINTS" \
    "hydra-core>=1.2.0" "omegaconf>=2.2.3" "pygments>=2.13.0" "platformdirs>=2.5.2" \
    "$(ours numpy)" "$(ours opencv-python-headless)" "$(ours matplotlib)" "$(ours scipy)" "$(ours pillow)" \
    "$(ours tensorboard)" "$(ours jinja2)" "$(ours tqdm)" \
    rapidfuzz seaborn xhtml2pdf==0.2.11 "coverage~=5.3.1" \
    "setuptools<81"  # 0.3.2 imports pkg_resources (data_gradients/assets), gone from setuptools 81 on
# imagededup, also a requirement, is left out: only the ImageDuplicates feature imports it (inside a method),
# and none of 0.3.2's default configs has that feature (it would need the real torchvision anyway).

# ---- the torchvision stand-in: only what 0.3.2 imports at import time and on the managers' code paths
SITE=$("$VENV/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
TV="$SITE/torchvision"
mkdir -p "$TV/ops" "$TV/transforms" "$TV/datasets"

cat > "$TV/__init__.py" <<'EOF'
"""Minimal stand-in for torchvision (PyPI's torchvision does not import beside torch 2.13.0 here).

Only what data-gradients 0.3.2 imports at module import time:
  torchvision.ops.box_iou (used by DetectionBoundingBoxIoU; written here in torch),
  torchvision.transforms.transforms.Compose (evaluated in a default argument of BDDDataset),
  torchvision.datasets.CocoDetection and torchvision.datasets.utils.download_and_extract_archive
  (dataset classes the in-memory benchmark never builds: they raise if called).
"""
__version__ = "0.0.0+dg032standin"

from torchvision import datasets, ops, transforms  # noqa: E402,F401
EOF

cat > "$TV/ops/__init__.py" <<'EOF'
"""box_iou: intersection over union of every pair of two sets of (x1, y1, x2, y2) boxes."""
import torch


def box_iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """(N, 4) and (M, 4) boxes -> (N, M) IoU, computed in float32 (float64 if either input is)."""
    dtype = torch.float64 if torch.float64 in (a.dtype, b.dtype) else torch.float32
    a, b = a.to(dtype), b.to(dtype)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    width = (torch.minimum(a[:, None, 2], b[None, :, 2]) - torch.maximum(a[:, None, 0], b[None, :, 0])).clamp(min=0)
    height = (torch.minimum(a[:, None, 3], b[None, :, 3]) - torch.maximum(a[:, None, 1], b[None, :, 1])).clamp(min=0)
    overlap = width * height
    return overlap / (area_a[:, None] + area_b[None, :] - overlap)
EOF

cat > "$TV/transforms/__init__.py" <<'EOF'
from torchvision.transforms import transforms  # noqa: F401
from torchvision.transforms.transforms import Compose  # noqa: F401
EOF

cat > "$TV/transforms/transforms.py" <<'EOF'
class Compose:
    """Applies the given callables in turn (torchvision.transforms.Compose)."""

    def __init__(self, transforms):
        self.transforms = transforms

    def __call__(self, img):
        for t in self.transforms:
            img = t(img)
        return img
EOF

cat > "$TV/datasets/__init__.py" <<'EOF'
from torchvision.datasets import utils  # noqa: F401


class CocoDetection:
    """Stub: the torchvision stand-in has no dataset classes (only 0.3.2's COCO dataset wrappers use it)."""

    def __init__(self, *args, **kwargs):
        raise NotImplementedError("torchvision stand-in: CocoDetection is not available")
EOF

cat > "$TV/datasets/utils.py" <<'EOF'
def download_and_extract_archive(*args, **kwargs):
    raise NotImplementedError("torchvision stand-in: no downloads (no internet here)")
EOF

# a dist-info so that importlib.metadata / pip see a torchvision (and do not try to install one)
DI="$SITE/torchvision-0.0.0+dg032standin.dist-info"
mkdir -p "$DI"
printf 'Metadata-Version: 2.1\nName: torchvision\nVersion: 0.0.0+dg032standin\nSummary: minimal local stand-in\n' > "$DI/METADATA"
echo "dg032-standin" > "$DI/INSTALLER"
( cd "$SITE" && find torchvision -type f -name '*.py' | sed 's/$/,,/' ; echo "${DI##*/}/METADATA,,"; echo "${DI##*/}/INSTALLER,,"; echo "${DI##*/}/RECORD,," ) > "$DI/RECORD"

# ---- compatibility patch of 0.3.2 for numpy 2 (our .venv's stack): np.count_nonzero now returns
# np.int64, which 0.3.2's write_json cannot serialise (summary.json: SummaryStats' images_without_annotation),
# so run() crashed before writing the report. write_json gets a default= that turns numpy scalars/arrays into
# Python values; nothing else changes.
"$VENV/bin/python" - "$SITE/data_gradients/utils/utils.py" <<'PYEOF'
import sys

path = sys.argv[1]
src = open(path).read()
old = "        json.dump(json_dict, f, indent=4)\n"
new = "        json.dump(json_dict, f, indent=4, default=_numpy_to_python)  # dg032venv: numpy 2 compat\n"
helper = """

def _numpy_to_python(o):  # dg032venv patch: numpy 2 returns numpy scalars where numpy 1 gave Python ints
    import numpy as _np

    if isinstance(o, (_np.generic, _np.ndarray)):
        return o.tolist()
    raise TypeError(f"Object of type {o.__class__.__name__} is not JSON serializable")
"""
assert src.count(old) == 1, "write_json changed?"
open(path, "w").write(src.replace(old, new) + helper)
print("patched", path)
PYEOF


# ---- check
cd /tmp
DG_VENV="$VENV" "$VENV/bin/python" - <<'EOF'
import os
import data_gradients, torch, torchvision
from data_gradients.managers.segmentation_manager import SegmentationAnalysisManager  # noqa: F401
from data_gradients.managers.detection_manager import DetectionAnalysisManager  # noqa: F401
from data_gradients.managers.classification_manager import ClassificationAnalysisManager  # noqa: F401
from torchvision.ops import box_iou
b = torch.tensor([[0.0, 0, 10, 10], [5, 5, 15, 15]])
assert abs(box_iou(b, b)[0, 1].item() - 25 / 175) < 1e-6
assert data_gradients.__version__ == "0.3.2", data_gradients.__version__
assert data_gradients.__file__.startswith(os.environ["DG_VENV"] + "/"), data_gradients.__file__
print("data_gradients", data_gradients.__version__, data_gradients.__file__, "| torch", torch.__version__,
      "| torchvision", torchvision.__version__)
EOF
