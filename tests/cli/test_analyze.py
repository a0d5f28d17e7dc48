"""The command line end to end, through subprocess: exit codes, printed paths, outputs, --help."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from data_gradients.cli import main
from data_gradients.datasets.examples import write_coco_example


def cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "data_gradients", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=300)


@pytest.fixture(scope="module")
def coco(tmp_path_factory):
    root = tmp_path_factory.mktemp("coco")
    train = write_coco_example(root, 20, split="train", size=(48, 64), seed=1)
    val = write_coco_example(root, 6, split="val", size=(48, 64), seed=2)
    return f"{train[0]}:{train[1]}", f"{val[0]}:{val[1]}"


def _summary(stdout):
    line = next(line for line in stdout.splitlines() if line.startswith("report: "))
    return Path(line[len("report: "):]), json.loads((Path(line[len("report: "):]) / "summary.json").read_text())


def test_help_reads_like_the_docstrings():
    console = Path(sys.executable).parent / "data-gradients"
    top = subprocess.run([str(console), "--help"], capture_output=True, text=True, timeout=300)
    assert top.returncode == 0 and "analyze" in top.stdout and "diff" in top.stdout
    sub = cli("analyze", "--help")
    assert sub.returncode == 0
    for text in ("--max-samples", "ANNOTATIONS.json:IMAGE_DIR", "later annotation", "--thresholds", "--no-pdf"):
        assert text in sub.stdout


def test_coco_detection_run_with_a_random_subset(tmp_path, coco):
    train, val = coco
    done = cli("analyze", "--task", "detection", "--format", "coco", "--train", train, "--val", val,
               "--max-samples", "10", "--seed", "3", "--workers", "2", "--log-dir", tmp_path, "--title", "cli coco",
               "--no-pdf", "--quiet", "--thresholds", "dark_image=0.2", "--samples", "2")
    assert done.returncode == 0, done.stderr
    run_dir, summary = _summary(done.stdout)
    assert run_dir.parent.parent == tmp_path and "tensorboard --logdir" in done.stdout
    assert "json: " in done.stdout and "pdf" not in {line.split(":")[0].strip() for line in done.stdout.splitlines()}
    assert summary["splits"]["train"]["samples"] == 10 and summary["splits"]["val"]["samples"] == 6
    assert summary["config"]["thresholds"]["dark_image"] == 0.2
    files = summary["features"]["dataset_files"]
    assert files["scalars"]["analysed_fraction"] == {"train": 0.5, "val": 1.0}
    subset = next(f for f in files["findings"] if f["key"] == "random_subset")
    assert "10 of 20 samples (50.00 %)" in subset["message"] and "seed 3" in subset["message"]
    assert summary["config"]["class_names"] == {"0": "car", "1": "person", "2": "bicycle", "3": "dog"}


@pytest.mark.parametrize("args, flag", [
    (["--format", "coco", "--train", "x"], "--task"),
    (["--task", "detection", "--format", "coco", "--train", "nocolon.json"], "--train"),
    (["--task", "detection", "--format", "coco", "--train", "missing.json:img"], "--train"),
    (["--task", "classification", "--format", "coco", "--train", "a:b"], "--format"),
    (["--task", "detection", "--format", "coco"], "--train"),
    (["--task", "detection", "--format", "coco", "--train", "TRAIN", "--thresholds", "bogus=1"], "--thresholds"),
    (["--task", "detection", "--format", "coco", "--train", "TRAIN", "--thresholds", "dark_image"], "--thresholds"),
    (["--task", "detection", "--format", "coco", "--train", "TRAIN", "--ignore-labels", "a,b"], "--ignore-labels"),
    (["--task", "detection", "--format", "coco", "--train", "TRAIN", "--max-samples", "0"], "--max-samples"),
    (["--task", "detection", "--format", "coco", "--train", "TRAIN", "--features", "nope"], "--features"),
    (["--task", "detection", "--format", "coco", "--train", "TRAIN", "--class-names", "/nonexistent"], "--class-names"),
    (["--task", "segmentation", "--format", "masks", "--train", "a:b"], "--num-classes"),
    (["--task", "segmentation", "--format", "masks", "--train", "a:b", "--num-classes", "3"], "--train"),
    (["--task", "detection", "--format", "yolo", "--train", "a"], "--class-names"),
    (["--task", "detection", "--format", "voc", "--train", "a", "--data", "d.yaml"], "--data"),
])
def test_usage_errors_exit_2_naming_the_flag(tmp_path, coco, capsys, args, flag):
    args = [coco[0] if a == "TRAIN" else a for a in args]
    assert main(["analyze", *args, "--log-dir", str(tmp_path)]) == 2
    assert flag in capsys.readouterr().err
    assert not list(tmp_path.glob("*/*/summary.json"))


def test_usage_error_through_the_console_script(tmp_path):
    done = cli("analyze", "--task", "detection", "--format", "voc", "--train", tmp_path / "nothing")
    assert done.returncode == 2 and "argument --train:" in done.stderr and "JPEGImages" in done.stderr


def test_a_failed_run_exits_1_with_the_partial_report(tmp_path):
    images = tmp_path / "images"
    images.mkdir()
    doc = {"images": [], "annotations": [], "categories": [{"id": 1, "name": "a"}]}
    for i in range(6):
        Image.fromarray(np.full((8, 8, 3), 40 * i, np.uint8)).save(images / f"{i}.png")
        doc["images"].append({"id": i, "file_name": f"{i}.png", "height": 8, "width": 8})
    (tmp_path / "ann.json").write_text(json.dumps(doc))
    # the disk fails while image 4 is read (simulated in the subprocess by a sitecustomize module)
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "sitecustomize.py").write_text(
        "import data_gradients.datasets.coco as coco\n"
        "read = coco.read_image\n"
        "def failing(path):\n"
        "    if path.endswith('4.png'):\n"
        "        raise RuntimeError('the disk went away')\n"
        "    return read(path)\n"
        "coco.read_image = failing\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path / "site"), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-m", "data_gradients", "analyze", "--task", "detection", "--format", "coco",
                           "--train", f"{tmp_path / 'ann.json'}:{images}", "--batch-size", "2", "--workers", "0",
                           "--log-dir", str(tmp_path / "logs"), "--no-pdf", "--quiet"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 1, done.stderr
    assert "the run failed" in done.stderr and "the disk went away" in done.stderr
    partial = Path(next(line for line in done.stdout.splitlines() if line.startswith("partial report: "))[16:])
    summary = json.loads((partial / "summary.json").read_text())
    assert summary["partial"] is True and summary["splits"]["train"]["samples"] == 4


def _png(path, h=16, w=20, seed=0, ids=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    array = rng.integers(0, 256, (h, w, 3), dtype=np.uint8) if ids is None else ids.astype(np.uint8)
    Image.fromarray(array).save(path)


def _voc(root):
    ids = np.zeros((16, 20), np.uint8)
    ids[2:9, 3:12] = 15
    ids[9, :] = 255
    for k in range(3):
        _png(root / "JPEGImages" / f"{k}.png", seed=k)
        _png(root / "SegmentationClass" / f"{k}.png", ids=ids)
    return ["--task", "segmentation", "--format", "voc", "--train", str(root)], 3


def _yolo(root):
    for k in range(4):
        _png(root / "images" / "train" / f"{k}.png", seed=k)
        (root / "labels" / "train").mkdir(parents=True, exist_ok=True)
        (root / "labels" / "train" / f"{k}.txt").write_text(f"{k % 2} 0.5 0.5 0.4 0.3\n")
    (root / "data.yaml").write_text("train: images/train\nval: images/train\nnames: [a, b]\n")
    return ["--task", "detection", "--format", "yolo", "--data", str(root / "data.yaml")], 4


def _masks(root):
    for k in range(3):
        _png(root / "im" / f"{k}.png", seed=k)
        _png(root / "ma" / f"{k}.png", ids=np.full((16, 20), k, np.uint8))
    (root / "names.txt").write_text("sky\nroad\ncar\n")
    return ["--task", "segmentation", "--format", "masks", "--train", f"{root / 'im'}:{root / 'ma'}",
            "--class-names", str(root / "names.txt"), "--ignore-labels", "0"], 3


def _folders(root):
    for k in range(5):
        _png(root / ("ab"[k % 2]) / f"{k}.png", seed=k)
    return ["--task", "classification", "--format", "folders", "--train", str(root), "--val", str(root)], 5


@pytest.mark.parametrize("write", [_voc, _yolo, _masks, _folders], ids=["voc", "yolo", "masks", "folders"])
def test_every_format_through_main(tmp_path, capsys, write):
    args, n = write(tmp_path / "data")
    assert main(["analyze", *args, "--workers", "0", "--no-pdf", "--quiet", "--samples", "0",
                 "--log-dir", str(tmp_path / "logs")]) == 0
    _, summary = _summary(capsys.readouterr().out)
    assert summary["splits"]["train"]["samples"] == n and not summary["failed_features"]
    assert summary["features"]["dataset_files"]["findings"] == []
