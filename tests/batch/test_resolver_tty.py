"""The real prompt, driven through a pseudo-terminal (stdlib ``pty``, no pexpect).

Each test runs ``resolver_app.py`` (a segmentation analysis of dict batches) in a
child process whose stdin/stdout/stderr are a pty, types answers, and checks the
printed tree, the re-asks and the run's final statistics. Every wait has a deadline
and the child is killed at the end, so no test can hang.
"""
from __future__ import annotations

import importlib.util
import json
import os
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pty = pytest.importorskip("pty")

APP = Path(__file__).with_name("resolver_app.py")
DEADLINE_S = 120.0  # generous: the child imports torch; a passing test takes a few seconds
ANSI = re.compile(r"\x1b\[[0-9;]*m")

_spec = importlib.util.spec_from_file_location("resolver_app", APP)
app = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(app)


class Terminal:
    """A child process on a pseudo-terminal: ``expect`` text, ``sendline`` answers."""

    def __init__(self, args, env):
        self.fd, slave = pty.openpty()
        self.proc = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, env=env,
                                     start_new_session=True, close_fds=True)
        os.close(slave)
        self.raw = ""
        self.pos = 0
        self.eof = False

    @property
    def text(self) -> str:
        """Everything printed so far, without colours and carriage returns."""
        return ANSI.sub("", self.raw)

    def _read(self, deadline: float) -> None:
        ready, _, _ = select.select([self.fd], [], [], max(0.0, min(1.0, deadline - time.monotonic())))
        if not ready:
            return
        try:
            data = os.read(self.fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            data = b""
        if not data:
            self.eof = True
        self.raw += data.decode("utf-8", "replace").replace("\r", "")

    def expect(self, needle: str, timeout: float = DEADLINE_S) -> str:
        """Wait until ``needle`` is printed after the previous match; return the text in between."""
        deadline = time.monotonic() + timeout
        while needle not in self.text[self.pos:]:
            if self.eof or time.monotonic() > deadline:
                why = "the program ended" if self.eof else f"{timeout}s passed"
                raise AssertionError(f"{why} before {needle!r} was printed; output:\n{self.text}")
            self._read(deadline)
        start = self.pos
        self.pos = self.text.index(needle, self.pos) + len(needle)
        return self.text[start:self.pos]

    def sendline(self, answer: str) -> None:
        os.write(self.fd, answer.encode() + b"\n")

    def finish(self, timeout: float = DEADLINE_S) -> int:
        """Read to the end; the exit code."""
        deadline = time.monotonic() + timeout
        while not self.eof and time.monotonic() < deadline:
            self._read(deadline)
        return self.proc.wait(timeout=max(1.0, deadline - time.monotonic()))

    def result(self) -> dict:
        line = next(x for x in self.text.splitlines() if x.startswith("RESULT "))
        return json.loads(line[len("RESULT "):])

    def close(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        os.close(self.fd)


@pytest.fixture
def run_app(tmp_path):
    """``run_app(scenario, *flags, colour=False)`` -> a Terminal running resolver_app.py."""
    terminals = []

    def start(scenario, *flags, colour=False):
        env = dict(os.environ, DATA_GRADIENTS_CACHE_DIR=str(tmp_path / "cache"), TERM="xterm", PYTHONUNBUFFERED="1")
        env.pop("NO_COLOR", None)
        if not colour:
            env["NO_COLOR"] = "1"
        t = Terminal([sys.executable, str(APP), scenario, str(tmp_path / "logs"), *flags], env)
        terminals.append(t)
        return t

    yield start
    for t in terminals:
        t.close()


def expected_pixels(scenario: str):
    return np.bincount(app.all_masks(scenario).ravel(), minlength=app.NUM_CLASSES).tolist()


def check_statistics(t: Terminal, scenario: str, images_key: str, labels_key: str) -> None:
    assert t.finish() == 0, t.text
    res = t.result()
    assert res["samples"] == 10 and res["batches"] == 3
    assert res["pixels"] == expected_pixels(scenario)
    assert res["classes_present"] == 3  # class 3 never appears in the data
    assert res["extraction"] == {"images": f'images_key="{images_key}"', "labels": f'labels_key="{labels_key}"'}


def test_tree_reasks_and_statistics_past_ten_leaves(run_app):
    t = run_app("many")
    tree = t.expect("Which item is your images? (1, 8, 9 or 12; Enter for 1): ")
    assert "batch  dict" in tree
    assert re.search(r"├── \[1\] image +torch\.Tensor +\(4, 3, 12, 16\) +float32 +images/labels", tree)
    assert re.search(r"│   ├── \[2\] file +list of 4 str +\['img_0_0.png', .*\]", tree)
    assert re.search(r"    ├── \[11\] boxes +list of 4 torch\.Tensor +\(2, 4\) +float32\n", tree)
    assert re.search(r"    ├── \[12\] masks +torch\.Tensor +\(4, 12, 16\) +int64 +images/labels", tree)
    assert re.search(r"    └── \[13\] iscrowd +list of 4 int +\[0, 0, 0, 0\]", tree)
    assert "\x1b[" not in t.raw  # NO_COLOR is set

    t.sendline("abc")
    t.expect("'abc' is not a number; type the number in brackets, e.g. 1.")
    t.sendline("14")
    t.expect("There is no item 14; the items are numbered 1 to 13.")
    t.sendline("7")
    t.expect("[7] meta.source cannot be the images of a segmentation dataset: it is str 'synthetic'")
    t.sendline("[1]")
    t.expect("Which item is your labels? (8, 9 or 12; Enter for 12): ")
    t.sendline("1")
    t.expect("[1] image is already your images; choose another item for the labels.")
    t.sendline("11")
    t.expect("[11] target.boxes cannot be the labels")
    t.sendline("12")
    t.expect('Using images_key="image", labels_key="target.masks" for every batch of this run.')
    t.expect('pass to the manager:\n    images_key="image", labels_key="target.masks"')
    check_statistics(t, "many", "image", "target.masks")


def test_colours_on_a_terminal(run_app):
    t = run_app("many", colour=True)
    t.expect("Which one of the yellow items is your images?")
    assert "\x1b[33m" in t.raw and "\x1b[2m" in t.raw  # candidates yellow, the rest dimmed
    assert re.search(r"\x1b\[2m[^\n]*\[7\] source", t.raw)
    t.sendline("")  # Enter: the suggested item 1
    t.expect("Which one of the yellow items is your labels?")
    t.sendline("")
    check_statistics(t, "many", "image", "target.masks")


def test_nested_tuple_of_dict_and_tensor(run_app):
    t = run_app("tuple")
    tree = t.expect("Which item is your images?")
    assert re.search(r"├── 0  dict\n│   ├── \[1\] image ", tree)
    assert re.search(r"└── \[4\] 1 +torch\.Tensor +\(4, 12, 16\) +int64", tree)
    t.sendline("1")
    t.expect("Which item is your labels?")
    t.sendline("4")
    t.expect('images_key="0.image", labels_key="1"')
    check_statistics(t, "tuple", "0.image", "1")


def test_list_of_per_image_dicts(run_app):
    t = run_app("records")
    tree = t.expect("Which item is your images?")
    assert "batch  list of 4 dicts, each:" in tree
    assert re.search(r"├── \[1\] image +list of 4 torch\.Tensor +\(3, 12, 16\) +float32", tree)
    t.sendline("1")
    t.expect("Which item is your labels?")
    t.sendline("2")
    t.expect('images_key="*.image", labels_key="*.mask"')
    check_statistics(t, "records", "*.image", "*.mask")  # the last batch has 2 samples, not 4


def answer_first_run(run_app, scenario="many"):
    t = run_app(scenario)
    t.expect("Which item is your images?")
    t.sendline("1")
    t.expect("Which item is your labels?")
    t.sendline("12" if scenario == "many" else "")
    assert t.finish() == 0, t.text


def test_second_run_asks_nothing_and_reset_asks_again(run_app, tmp_path):
    answer_first_run(run_app)
    t = run_app("many", "--verbose")
    t.expect('using the stored answer for this batch structure: images_key="image", labels_key="target.masks"')
    t.expect(f"To choose again, pass reset_resolver=True or delete {tmp_path / 'cache' / 'batch_resolver.json'}")
    check_statistics(t, "many", "image", "target.masks")
    assert "Which" not in t.text

    t = run_app("many", "--reset")
    t.expect("Which item is your images?")
    t.sendline("1")
    t.expect("Which item is your labels?")
    t.sendline("12")
    check_statistics(t, "many", "image", "target.masks")


def test_changed_structure_asks_again(run_app):
    answer_first_run(run_app)
    t = run_app("changed")
    t.expect("Which item is your images?")
    t.sendline("")
    t.expect("Which item is your labels?")
    t.sendline("")
    t.expect('labels_key="target.segmentation"')
    check_statistics(t, "changed", "image", "target.segmentation")


def test_no_terminal_and_no_answer_exits_with_the_paths(tmp_path):
    env = dict(os.environ, DATA_GRADIENTS_CACHE_DIR=str(tmp_path / "cache"))
    # stdin is a pipe that stays open: a program that waited for input would never end
    out_path, err_path = tmp_path / "out.txt", tmp_path / "err.txt"
    with open(out_path, "wb") as out_f, open(err_path, "wb") as err_f:
        proc = subprocess.Popen([sys.executable, str(APP), "many", str(tmp_path / "logs")], env=env,
                                stdin=subprocess.PIPE, stdout=out_f, stderr=err_f, start_new_session=True)
        try:
            proc.wait(timeout=DEADLINE_S)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
            pytest.fail("the program waited for an answer without a terminal")
        finally:
            proc.stdin.close()
    err = err_path.read_text()
    assert proc.returncode != 0 and "RESULT" not in out_path.read_text()
    assert "UnresolvedBatchError" in err and "cannot ask: standard input is not a terminal" in err
    assert 'Candidates for the images: "image", "meta.depth", "aux.edges", "target.masks"' in err
    assert 'Candidates for the labels: "image", "meta.depth", "aux.edges", "target.masks"' in err
    assert 'images_key="image", labels_key="target.masks"' in err
    assert "[12] masks" in err and "\x1b[" not in err
