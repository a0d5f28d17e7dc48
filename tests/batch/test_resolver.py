"""The batch resolver in-process: candidate rules, the tree, the questions, the refusal."""
from __future__ import annotations

import builtins
import io
import re

import numpy as np
import pytest
import torch
from PIL import Image

from data_gradients import SegmentationAnalysisManager
from data_gradients.batch import resolver as resolver_mod
from data_gradients.batch.extraction import BatchSplitter
from data_gradients.batch.resolver import BatchResolver, Style, build_tree, render_tree, rules_for
from data_gradients.batch.resolver_cache import ResolverCache
from data_gradients.batch.structure import format_path, get_path, iter_leaves, parse_path
from data_gradients.errors import UnresolvedBatchError


def scripted(*answers):
    """An ``input`` replacement answering in turn; records the prompts; EOF when out of answers."""
    prompts = []

    def ask(prompt):
        prompts.append(prompt)
        if len(prompts) > len(answers):
            raise EOFError
        return answers[len(prompts) - 1]

    ask.prompts = prompts
    return ask


def make_resolver(tmp_path, task="segmentation", answers=(), **kw):
    out = io.StringIO()
    r = BatchResolver(task, cache=ResolverCache(tmp_path / "answers.json"), stream=out,
                      input_fn=scripted(*answers), interactive=True, verbose=False, **kw)
    return r, out


def seg_batch(n=2, h=16, w=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    return {"image": torch.rand(n, 3, h, w, generator=g),
            "target": {"masks": torch.randint(0, 3, (n, h, w), generator=g), "name": [f"s{i}" for i in range(n)]}}


# ------------------------------------------------------------------------- rules

def roles(task, value):
    root, numbered = build_tree({"x": value, "other": "text"}, rules_for(task))
    return numbered[1].roles


@pytest.mark.parametrize("task, value, expected", [
    ("segmentation", torch.zeros(2, 3, 16, 16), ("images", "labels")),
    ("segmentation", np.zeros((16, 16), dtype=bool), ("images", "labels")),
    ("segmentation", [torch.zeros(3, 20, 10), torch.zeros(3, 12, 12)], ("images", "labels")),
    ("segmentation", Image.new("RGB", (32, 24)), ("images", "labels")),
    ("segmentation", torch.zeros(2, 4), ()),  # boxes-like: not a picture
    ("segmentation", torch.zeros(2, 3, 4, 4), ("images", "labels")),  # tiny test images are fine
    ("segmentation", torch.zeros(5), ()),
    ("segmentation", np.array(["a", "b"]), ()),
    ("segmentation", np.zeros((8, 8), dtype=np.complex64), ()),
    ("detection", torch.zeros(3, 4), ("labels",)),
    ("detection", [torch.zeros(3, 5), torch.zeros(0, 5)], ("labels",)),
    ("detection", torch.zeros(2, 7, 5), ("images", "labels")),  # padded (N, max, 5); (H, W, C)-like too
    ("detection", torch.zeros(2, 7, 3), ("images",)),
    ("detection", torch.zeros(2, 3, 16, 16), ("images",)),
    ("classification", 3, ("labels",)),
    ("classification", [0, 2, 1], ("labels",)),
    ("classification", torch.tensor([0, 2, 1]), ("labels",)),
    ("classification", torch.zeros(3, 10), ("labels",)),  # one-hot
    ("classification", [True, False], ()),
    ("classification", "cat", ()),
])
def test_candidate_rules(task, value, expected):
    assert roles(task, value) == expected


def test_detection_dicts_with_boxes_and_labels_are_numbered_containers():
    target = {"boxes": torch.zeros(2, 4), "labels": torch.tensor([1, 2])}
    batch = {"images": [torch.zeros(3, 16, 16)] * 2, "targets": [target, dict(target)]}
    root, numbered = build_tree(batch, rules_for("detection"))
    assert {n: (format_path(it.path), it.roles) for n, it in numbered.items()} == {
        1: ("images", ("images",)),
        2: ("targets", ("labels",)),  # the list of per-image dicts itself
        3: ("targets.*.boxes", ("labels",)),
        4: ("targets.*.labels", ()),
    }
    # the same structure is no labels candidate for segmentation: containers are not numbered
    assert [format_path(it.path) for it in build_tree(batch, rules_for("segmentation"))[1].values()] == [
        "images", "targets.*.boxes", "targets.*.labels"]


# ----------------------------------------------------------------- structure paths

def test_star_paths_gather_per_sample_dicts():
    records = [{"image": torch.zeros(3, 8, 8), "meta": {"id": i}} for i in range(3)]
    assert [format_path(p) for p, _ in iter_leaves(records)] == ["*.image", "*.meta.id"]
    assert get_path(records, parse_path("*.meta.id")) == [0, 1, 2]
    with pytest.raises(KeyError, match=r"path '\*.meta.nope': '\*.meta.nope' not found in dict with keys \['id'\]"):
        get_path(records, parse_path("*.meta.nope"))


def test_mixed_tuples_are_walked_and_homogeneous_lists_are_leaves():
    batch = {"pair": (torch.zeros(3, 8, 8), torch.zeros(8, 8, dtype=torch.long)),
             "images": [torch.zeros(3, 8, 8), torch.zeros(3, 9, 9)], "ids": [1, 2], "empty": []}
    assert [format_path(p) for p, _ in iter_leaves(batch)] == ["pair.0", "pair.1", "images", "ids", "empty"]


# ---------------------------------------------------------------------- the tree

def test_tree_text_exact():
    batch = {"image": torch.zeros(2, 3, 16, 16), "target": {"masks": torch.zeros(2, 16, 16, dtype=torch.int64),
                                                            "name": ["a", "b"]}}
    root, _ = build_tree(batch, rules_for("segmentation"))
    assert render_tree(root, Style(colour=False, unicode=True)) == (
        "batch  dict\n"
        "├── [1] image      torch.Tensor   (2, 3, 16, 16)  float32  images/labels\n"
        "└── target  dict\n"
        "    ├── [2] masks  torch.Tensor   (2, 16, 16)     int64    images/labels\n"
        "    └── [3] name   list of 2 str  ['a', 'b']"
    )
    assert render_tree(root, Style(colour=False, unicode=False)).splitlines()[2:4] == [
        "`-- target  dict",
        "    |-- [2] masks  torch.Tensor   (2, 16, 16)     int64    images/labels",
    ]


def test_no_colour_with_no_color_or_without_a_terminal(monkeypatch):
    class Tty(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert Style.for_stream(Tty()).colour and not Style.for_stream(io.StringIO()).colour
    monkeypatch.setenv("NO_COLOR", "1")
    assert not Style.for_stream(Tty()).colour


def test_numbers_past_ten(tmp_path):
    batch = {f"k{i:02d}": torch.zeros(4) for i in range(11)}
    batch["image"], batch["mask"] = torch.zeros(2, 3, 16, 16), torch.zeros(2, 16, 16, dtype=torch.long)
    r, out = make_resolver(tmp_path, answers=("12", "13"))
    images_fn, labels_fn = r(batch)
    assert images_fn(batch) is batch["image"] and labels_fn(batch) is batch["mask"]
    assert "[13] mask" in out.getvalue()
    assert r.input_fn.prompts == ["Which item is your images? (12 or 13; Enter for 12): ",
                                  "Which item is your labels? (13; Enter for 13): "]


# ------------------------------------------------------------------ the questions

def test_bad_answers_get_a_reason_and_the_question_again(tmp_path):
    r, out = make_resolver(tmp_path, answers=("one", "", "0", "7", "3", "1", "1", "2"))
    batch = {"p": torch.zeros(2, 3, 16, 16), "q": torch.zeros(2, 16, 16, dtype=torch.long), "r": ["a", "b"]}
    images_fn, labels_fn = r(batch)
    assert images_fn.__name__ == 'images_key="p"' and labels_fn.__name__ == 'labels_key="q"'
    tree_or_header = ("├", "└", "batch", "data_gr", "Items")
    lines = [ln for ln in out.getvalue().splitlines() if ln and not ln.startswith(tree_or_header)]
    assert lines[:6] == [
        "'one' is not a number; type the number in brackets, e.g. 1.",
        "Type the number of an item, e.g. 1.",  # no default: no name hints, two candidates
        "There is no item 0; the items are numbered 1 to 3.",
        "There is no item 7; the items are numbered 1 to 3.",
        "[3] r cannot be the images of a segmentation dataset: it is list of 2 str ['a', 'b']; expected a tensor, "
        "ndarray or PIL image of rank 3-4, or rank 2 and at least 8x8, or a list of them.",
        "[1] p is already your images; choose another item for the labels.",
    ]
    assert len(r.input_fn.prompts) == 8
    assert '    images_key="p", labels_key="q"' in out.getvalue()


def test_end_of_input_is_an_error_not_a_loop(tmp_path):
    r, _ = make_resolver(tmp_path, answers=("nope",))
    with pytest.raises(UnresolvedBatchError, match="no answer"):
        r(seg_batch())


def test_ctrl_c_at_the_question_is_an_error_with_the_paths(tmp_path):
    def interrupt(prompt):
        raise KeyboardInterrupt

    r = BatchResolver("segmentation", cache=ResolverCache(tmp_path / "a.json"), stream=io.StringIO(),
                      input_fn=interrupt, interactive=True)
    with pytest.raises(UnresolvedBatchError, match=r"(?s)the question was cancelled.*images_key=\"image\""):
        r(seg_batch())


def test_only_the_missing_role_is_asked(tmp_path):
    r, out = make_resolver(tmp_path, answers=("",))
    splitter = BatchSplitter(images_extractor="image", resolver=r)
    images, labels = splitter(seg_batch())
    assert r.input_fn.prompts == ["Which item is your labels? (1 or 2; Enter for 2): "]
    assert labels.shape == (2, 16, 16)
    assert 'pass to the manager:\n    labels_key="target.masks"' in out.getvalue()


def test_detection_torchvision_style_choice_returns_the_list_of_dicts(tmp_path):
    targets = [{"boxes": torch.rand(n, 4), "labels": torch.ones(n, dtype=torch.long)} for n in (2, 0)]
    batch = {"images": [torch.zeros(3, 20, 16), torch.zeros(3, 16, 20)], "targets": targets}
    r, out = make_resolver(tmp_path, task="detection", answers=("", "2"))
    images_fn, labels_fn = r(batch)
    assert labels_fn(batch) is not None and labels_fn(batch)[1]["boxes"].shape == (0, 4)
    assert re.search(r"└── \[2\] targets +list of 2 dicts, each: +labels\n", out.getvalue())
    assert 'images_key="images", labels_key="targets"' in out.getvalue()


def test_a_later_batch_without_the_chosen_path_names_it(tmp_path):
    r, _ = make_resolver(tmp_path, answers=("1", "2"))
    splitter = BatchSplitter(resolver=r)
    splitter(seg_batch())
    changed = {"image": torch.zeros(2, 3, 16, 16), "masks": torch.zeros(2, 16, 16)}
    with pytest.raises(UnresolvedBatchError, match=r"batch structure changed: the labels were taken from "
                                                   r"'target.masks' in the first batch.*'target' not found"):
        splitter(changed)


def test_no_terminal_lists_candidates_and_the_arguments(tmp_path):
    r = BatchResolver("segmentation", cache=ResolverCache(tmp_path / "a.json"), interactive=False,
                      input_fn=lambda p: pytest.fail("must not ask"))
    with pytest.raises(UnresolvedBatchError) as info:
        r(seg_batch())
    text = str(info.value)
    assert "cannot ask: standard input is not a terminal" in text
    assert 'Candidates for the images: "image", "target.masks"' in text
    assert 'Candidates for the labels: "image", "target.masks"' in text
    assert 'images_key="image", labels_key="target.masks"' in text
    assert "└── [3] name" in text


def test_no_candidate_at_all_is_an_error(tmp_path):
    r, _ = make_resolver(tmp_path, task="classification", answers=("1",))
    with pytest.raises(UnresolvedBatchError, match=r"(?s)no item can be the labels.*Candidates for the labels: none"):
        r({"image": torch.zeros(2, 3, 16, 16), "name": ["a", "b"]})


def test_pytest_stdin_is_not_interactive():
    assert not resolver_mod.stdin_is_interactive()  # pytest captures stdin: the refusal path, never a wait


# -------------------------------------------------------------- the manager, end to end

def dict_batches(seed=0, sizes=(3, 3, 2)):
    rng = np.random.default_rng(seed)
    out = []
    for n in sizes:
        masks = rng.integers(0, 3, size=(n, 16, 16))
        out.append({"image": torch.from_numpy(rng.random((n, 3, 16, 16), dtype=np.float32)),
                    "target": {"masks": torch.from_numpy(masks), "boxes": [torch.rand(1, 4)] * n}})
    return out


@pytest.fixture
def answering(monkeypatch, tmp_path):
    """Pretend stdin is a terminal and answer ``answers`` through ``input``."""
    monkeypatch.setenv("DATA_GRADIENTS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(resolver_mod, "stdin_is_interactive", lambda: True)

    def set_answers(*answers):
        ask = scripted(*answers)
        monkeypatch.setattr(builtins, "input", ask)
        return ask

    return set_answers


def run_manager(tmp_path, data, **kw):
    return SegmentationAnalysisManager(train_data=data, num_classes=3, log_dir=tmp_path / "logs", verbose=False,
                                       features=["segmentation_class_frequency"], **kw).run()


def check_numbers(report, data):
    masks = np.concatenate([b["target"]["masks"].numpy() for b in data])
    table = report.results["segmentation_class_frequency"].tables[0]
    assert [row[2] for row in table.rows] == np.bincount(masks.ravel(), minlength=3).tolist()
    assert report.results["segmentation_class_frequency"].scalars["classes_present"]["train"] == 3
    assert report.splits["train"].samples == 8


def test_manager_asks_once_and_applies_the_answer_to_every_batch(tmp_path, answering, capsys):
    ask = answering("1", "2")
    data = dict_batches()
    report = run_manager(tmp_path, data)
    assert len(ask.prompts) == 2
    check_numbers(report, data)
    assert report.config["batch_extraction"] == {"images": 'images_key="image"', "labels": 'labels_key="target.masks"'}
    assert 'images_key="image", labels_key="target.masks"' in capsys.readouterr().out


def test_manager_accepts_keys_and_callables(tmp_path):
    data = dict_batches()
    check_numbers(run_manager(tmp_path, data, images_key="image", labels_key="target.masks"), data)
    check_numbers(run_manager(tmp_path, data, images_extractor=lambda b: b["image"],
                              labels_key=lambda b: b["target"]["masks"]), data)


def test_manager_without_terminal_raises_instead_of_waiting(tmp_path, monkeypatch):
    monkeypatch.setenv("DATA_GRADIENTS_CACHE_DIR", str(tmp_path / "cache"))
    with pytest.raises(UnresolvedBatchError, match='labels_key="target.masks"'):
        run_manager(tmp_path, dict_batches())


def test_reset_resolver_must_be_a_bool(tmp_path):
    from data_gradients.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="`reset_resolver` must be a bool, got 'yes'"):
        run_manager(tmp_path, dict_batches(), reset_resolver="yes")
