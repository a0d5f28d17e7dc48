"""One harness over every registered extractor: batching, merge, reset and pickle
never change the result."""
from __future__ import annotations

import pickle

import numpy as np
import pytest
from conftest import TASK_DATA, canonical_batches, isclose_tree

from data_gradients.feature_extractors import get_feature, registered_features
from data_gradients.reports.json_writer import to_jsonable

CASES = [(task, name) for task in TASK_DATA for name in registered_features(task)]


def result_tree(extractor):
    result = extractor.compute()
    tree = to_jsonable(result)
    tree["images"] = [to_jsonable({s: [np.asarray(i).tolist() for i in imgs] for s, imgs in g.images.items()})
                      for g in result.images]
    return tree


def feed(extractor, batches, split="train"):
    for b in batches:
        extractor.update(b, split)
    return extractor


@pytest.fixture(params=CASES, ids=[f"{t}:{n}" for t, n in CASES])
def case(request):
    task, name = request.param
    ctx, builder, raw = TASK_DATA[task]()
    return get_feature(name), ctx, builder, raw


def test_there_are_extractors_for_every_task():
    assert set(TASK_DATA) <= {t for t, _ in CASES}
    assert len(CASES) >= 3


def test_many_batches_equal_one_batch(case):
    cls, ctx, builder, raw = case
    batched = feed(cls(ctx), canonical_batches(builder, raw))
    # the same samples in as few batches as possible: one per image size
    by_size = {}
    for images, labels in raw:
        by_size.setdefault(tuple(images.shape[-2:]), []).append((images, labels))
    whole, next_id, order = cls(ctx), 0, []
    import torch
    # keep global sample ids identical: rebuild ids in the original order
    ids = {}
    for b_index, (images, _) in enumerate(raw):
        ids[b_index] = next_id
        next_id += images.shape[0]
    for size, group in by_size.items():
        idx = [i for i, (im, _) in enumerate(raw) if tuple(im.shape[-2:]) == size]
        for built in [builder.build(torch.cat([raw[i][0] for i in idx]), torch.cat([raw[i][1] for i in idx]), 0)]:
            for b in built:
                b.sample_ids = np.concatenate([np.arange(raw[i][0].shape[0]) + ids[i] for i in idx])
                order.append(b)
    feed(whole, order)
    isclose_tree(result_tree(batched), result_tree(whole))


def test_merge_equals_single(case):
    cls, ctx, builder, raw = case
    batches = canonical_batches(builder, raw)
    single = feed(cls(ctx), batches)
    feed(single, batches[:2], split="val")
    a = feed(cls(ctx), batches[: len(batches) // 2])
    b = feed(cls(ctx), batches[len(batches) // 2:])
    feed(b, batches[:2], split="val")
    isclose_tree(result_tree(single), result_tree(a.merge(b)))


def test_reset_restores(case):
    cls, ctx, builder, raw = case
    batches = canonical_batches(builder, raw)
    fresh = feed(cls(ctx), batches[:2])
    used = feed(cls(ctx), batches)
    used.reset()
    feed(used, batches[:2])
    isclose_tree(result_tree(fresh), result_tree(used))


def test_pickle_round_trip(case):
    cls, ctx, builder, raw = case
    ext = feed(cls(ctx), canonical_batches(builder, raw))
    clone = pickle.loads(pickle.dumps(ext))
    isclose_tree(result_tree(ext), result_tree(clone))
