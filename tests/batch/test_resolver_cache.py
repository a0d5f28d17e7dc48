"""Remembered resolver answers: where they live, what they are keyed by, reset."""
from __future__ import annotations

import builtins
import io
import json
import logging
from pathlib import Path

import numpy as np
import pytest
import torch

from data_gradients import SegmentationAnalysisManager
from data_gradients.batch import resolver as resolver_mod
from data_gradients.batch.resolver import BatchResolver
from data_gradients.batch.resolver_cache import FILE_NAME, ResolverCache, cache_dir, structure_signature
from data_gradients.errors import UnresolvedBatchError


def batch(n=2, h=16, w=16, mask_key="masks", rank=3):
    masks = torch.zeros((n, h, w) if rank == 3 else (n, 1, h, w), dtype=torch.long)
    return {"image": torch.rand(n, 3, h, w), "target": {mask_key: masks, "file": [f"f{i}" for i in range(n)]}}


def never(prompt):
    raise AssertionError(f"asked {prompt!r} although the answer is stored")


def answers(*values):
    it = iter(values)
    return lambda prompt: next(it)


def resolver(cache, input_fn=never, interactive=True, **kw):
    return BatchResolver("segmentation", cache=cache, stream=io.StringIO(), input_fn=input_fn,
                         interactive=interactive, **kw)


# ------------------------------------------------------------------------- location

def test_cache_dir_env_var_then_xdg_then_home(monkeypatch, tmp_path):
    monkeypatch.setenv("DATA_GRADIENTS_CACHE_DIR", str(tmp_path / "explicit"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "explicit"
    assert ResolverCache().path == tmp_path / "explicit" / FILE_NAME
    monkeypatch.delenv("DATA_GRADIENTS_CACHE_DIR")
    assert cache_dir() == tmp_path / "xdg" / "data_gradients"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir() == tmp_path / "home" / ".cache" / "data_gradients"


# ------------------------------------------------------------------------ signature

def test_signature_ignores_sizes_but_not_keys_ranks_or_task():
    key, lines = structure_signature(batch(), "segmentation")
    assert lines == ["image: tensor rank 4", "target.masks: tensor rank 3", "target.file: list[str] rank 0"]
    assert structure_signature(batch(n=5, h=32, w=8), "segmentation")[0] == key
    assert structure_signature(batch(mask_key="mask"), "segmentation")[0] != key
    assert structure_signature(batch(rank=4), "segmentation")[0] != key
    assert structure_signature(batch(), "detection")[0] != key


def test_signature_of_per_sample_dicts_ignores_the_batch_size():
    records = lambda n: [{"image": torch.zeros(3, 8, 8), "mask": torch.zeros(8, 8)} for _ in range(n)]  # noqa: E731
    assert structure_signature(records(4), "segmentation") == structure_signature(records(1), "segmentation")


# ----------------------------------------------------------------------- the file

def test_put_get_forget_round_trip(tmp_path):
    cache = ResolverCache(tmp_path / "sub" / "answers.json")
    assert cache.get("k") is None and not cache.forget("k")
    assert cache.put("k", images=None, labels="target.masks", task="segmentation", structure=["a"])
    assert cache.put("k", images="image", labels=None, task="segmentation", structure=["a"])  # merged
    entry = cache.get("k")
    assert (entry["images"], entry["labels"]) == ("image", "target.masks")
    stored = json.loads(cache.path.read_text())
    assert stored["format"] == 1 and list(stored["answers"]) == ["k"]
    assert cache.forget("k") and cache.get("k") is None


def test_a_corrupt_file_is_ignored_with_a_warning(tmp_path, caplog):
    path = tmp_path / "answers.json"
    path.write_text("{not json")
    with caplog.at_level(logging.WARNING, logger="data_gradients"):
        assert ResolverCache(path).get("k") is None
    assert "unreadable resolver cache" in caplog.text
    assert ResolverCache(path).put("k", images="a", labels="b", task="t", structure=[])  # and replaced


def test_an_unwritable_cache_does_not_stop_the_answer(tmp_path, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("")
    cache = ResolverCache(blocker / "answers.json")  # its folder would be inside a file
    r = resolver(cache, input_fn=answers("1", "2"))
    with caplog.at_level(logging.WARNING, logger="data_gradients"):
        images_fn, labels_fn = r(batch())
    assert labels_fn(batch()).shape == (2, 16, 16)
    assert "could not save the resolver answer" in caplog.text
    assert "Remembered" not in r.stream.getvalue()


# -------------------------------------------------------------------- the resolver

def test_second_call_with_the_same_structure_asks_nothing(tmp_path, capsys):
    cache = ResolverCache(tmp_path / "answers.json")
    resolver(cache, input_fn=answers("1", "2"))(batch())
    images_fn, labels_fn = resolver(cache, verbose=True)(batch(n=7, h=24, w=8))  # other sizes: same structure
    assert labels_fn(batch(n=7, h=24, w=8)).shape == (7, 24, 8)
    err = capsys.readouterr().err
    assert 'using the stored answer for this batch structure: images_key="image", labels_key="target.masks"' in err
    assert f"pass reset_resolver=True or delete {cache.path}" in err


def test_a_stored_answer_works_without_a_terminal(tmp_path):
    cache = ResolverCache(tmp_path / "answers.json")
    resolver(cache, input_fn=answers("1", "2"))(batch())
    images_fn, labels_fn = resolver(cache, interactive=False)(batch())
    assert images_fn.__name__ == 'images_key="image"'


def test_a_changed_structure_asks_again(tmp_path):
    cache = ResolverCache(tmp_path / "answers.json")
    resolver(cache, input_fn=answers("1", "2"))(batch())
    asked = []
    r = resolver(cache, input_fn=lambda p: asked.append(p) or str(len(asked)))
    images_fn, labels_fn = r(batch(mask_key="segmentation"))
    assert len(asked) == 2 and labels_fn.__name__ == 'labels_key="target.segmentation"'


def test_reset_forgets_and_asks_again(tmp_path):
    cache = ResolverCache(tmp_path / "answers.json")
    resolver(cache, input_fn=answers("1", "2"))(batch())
    with pytest.raises(UnresolvedBatchError, match="not a terminal"):
        resolver(cache, interactive=False, reset=True)(batch())  # forgotten, and nobody to ask
    key, _ = structure_signature(batch(), "segmentation")
    assert cache.get(key) is None
    images_fn, labels_fn = resolver(cache, input_fn=answers("2", "1"), reset=True)(batch())
    assert images_fn.__name__ == 'images_key="target.masks"'  # the new answer replaced the old one
    assert cache.get(key)["images"] == "target.masks"


def test_a_stored_answer_for_one_role_does_not_skip_the_other(tmp_path):
    cache = ResolverCache(tmp_path / "answers.json")
    key, _ = structure_signature(batch(), "segmentation")
    cache.put(key, images=None, labels="target.masks", task="segmentation", structure=[])
    asked = []
    resolver(cache, input_fn=lambda p: asked.append(p) or ("1" if len(asked) == 1 else "2"))(batch())
    assert len(asked) == 2


# ---------------------------------------------------------------------- the manager

def dict_batches():
    rng = np.random.default_rng(3)
    return [{"image": torch.rand(2, 3, 16, 16), "target": {"masks": torch.from_numpy(rng.integers(0, 2, (2, 16, 16)))}}
            for _ in range(2)]


def test_manager_second_run_asks_nothing_and_reset_resolver_asks_again(tmp_path, monkeypatch):
    monkeypatch.setenv("DATA_GRADIENTS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(resolver_mod, "stdin_is_interactive", lambda: True)
    asked = []
    monkeypatch.setattr(builtins, "input", lambda p: asked.append(p) or ("" if "images" in p else "2"))

    def run(**kw):
        data = dict_batches()
        report = SegmentationAnalysisManager(train_data=data, num_classes=2, log_dir=tmp_path / "logs", verbose=False,
                                             features=["segmentation_class_frequency"], **kw).run()
        masks = np.concatenate([b["target"]["masks"].numpy() for b in data])
        assert [r[2] for r in report.results["segmentation_class_frequency"].tables[0].rows] == \
            np.bincount(masks.ravel(), minlength=2).tolist()

    run()
    assert len(asked) == 2 and Path(tmp_path / "cache" / FILE_NAME).is_file()
    run()
    assert len(asked) == 2  # nothing asked
    run(reset_resolver=True)
    assert len(asked) == 4
