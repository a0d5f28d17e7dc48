"""Known answers for the shared per-batch view of segmentation masks (runs, pairs, components, erosion)."""
import cv2
import numpy as np
import pytest

from data_gradients.batch import SegmentationBatchBuilder, run_ops
from data_gradients.batch.segmentation_view import SegmentationView

pytestmark = pytest.mark.usefixtures("run_path")  # compiled loops over runs, and numpy's ways


def view(*masks):
    return SegmentationView(np.asarray(masks, dtype=np.int32))


def test_runs_are_maximal_stretches_of_one_counted_id_per_row():
    v = view([[0, 0, 1, -1, 1],
              [2, 2, 2, 2, 2]])
    r = v.runs
    assert r["row"].tolist() == [0, 0, 0, 1]
    assert r["x0"].tolist() == [0, 2, 4, 0]
    assert r["x1"].tolist() == [1, 2, 4, 4]
    assert r["cls"].tolist() == [0, 1, 1, 2]
    assert v.class_pixels(4).tolist() == [[2, 2, 5, 0]]


def test_pairs_share_a_column_or_touch_at_a_corner():
    v = view([[1, 1, 0, 0, 2],
              [0, 0, 1, 1, 2]])
    # runs: 0 = (row 0, 1 1), 1 = (row 0, 0 0), 2 = (row 0, 2), 3 = (row 1, 0 0), 4 = (row 1, 1 1), 5 = (row 1, 2)
    assert sorted(zip(*[p.tolist() for p in v.pairs4])) == [(2, 5)]
    assert sorted(zip(*[p.tolist() for p in v.pairs_diag])) == [(0, 4), (1, 3)]


def test_x_crossing_keeps_both_diagonals_connected_and_apart():
    v = view([[0, 1],
              [1, 0]])
    comp = v.components
    assert sorted(zip(comp["cls"].tolist(), comp["area"].tolist())) == [(0, 2), (1, 2)]


def test_samples_never_join_across_the_batch():
    a = np.full((3, 4), -1)
    a[-1] = 0
    b = np.full((3, 4), -1)
    b[0] = 0
    comp = view(a, b).components
    assert comp["image"].tolist() == [0, 1]
    assert comp["height"].tolist() == [1, 1]


def test_components_and_survival_match_opencv_on_random_masks():
    rng = np.random.default_rng(7)
    for _ in range(50):
        masks = rng.integers(-1, 3, (2, int(rng.integers(1, 12)), int(rng.integers(1, 12)))).astype(np.int32)
        v = SegmentationView(masks)
        for i in range(2):
            for c in range(3):
                binary = (masks[i] == c).astype(np.uint8)
                k, labels = cv2.connectedComponents(binary, connectivity=8)
                eroded = cv2.erode(binary, np.ones((3, 3), np.uint8), borderType=cv2.BORDER_CONSTANT, borderValue=0)
                sel = (v.components["cls"] == c) & (v.components["image"] == i)
                assert sel.sum() == k - 1
                assert v.component_survives[sel].sum() == len(np.unique(labels[eroded > 0]))


def test_large_ids_and_other_dtypes_give_the_same_runs():
    rng = np.random.default_rng(3)
    masks = rng.integers(-1, 400, (2, 6, 9))
    want = SegmentationView(masks.astype(np.int64)).components
    for dtype in (np.int32, np.int16):
        got = SegmentationView(masks.astype(dtype)).components
        for key in want:
            np.testing.assert_array_equal(got[key], want[key], err_msg=f"{dtype.__name__} {key}")
    small = SegmentationView(np.where(masks < 254, masks, -1).astype(np.int32))  # the OpenCV uint8 path
    assert small.class_pixels(400)[:, 254:].sum() == 0


def test_the_batch_builds_its_view_once_and_again_when_masks_change():
    masks = np.zeros((2, 4, 4), dtype=np.uint8)
    (batch,) = SegmentationBatchBuilder(2, (0, 1), ()).build(np.zeros((2, 4, 4, 3), np.uint8), masks, 0)
    first = batch.view
    assert batch.view is first
    assert first.class_pixels(2).tolist() == [[16, 0], [16, 0]]
    batch.masks = np.ones((2, 4, 4), dtype=np.int32)
    assert batch.view is not first
    assert batch.view.class_pixels(2).tolist() == [[0, 16], [0, 16]]


def test_empty_batch_and_nothing_counted():
    assert len(SegmentationView(np.zeros((0, 5, 5), np.int32)).components["cls"]) == 0
    v = SegmentationView(np.full((2, 3, 3), -1, np.int32))
    assert len(v.components["cls"]) == 0
    assert v.class_pixels(3).sum() == 0
    assert not v.run_survives.any()


def test_runs_found_on_uint8_labels_match_those_on_the_ids():
    rng = np.random.default_rng(11)
    labels = rng.integers(0, 8, (3, 9, 13)).astype(np.uint8)
    labels[labels >= 5] = 255  # ignored
    labels[0, :2] = 6  # out of range: not counted either
    (batch,) = SegmentationBatchBuilder(5, tuple(range(5)), (255,)).build(np.zeros((3, 9, 13, 3), np.uint8), labels, 0)
    assert batch.view.lookup is not None
    plain = SegmentationView(batch.masks)
    for key in ("row", "x0", "x1", "cls"):
        np.testing.assert_array_equal(batch.view.runs[key], plain.runs[key])
    for got, want in zip(batch.view.pairs4 + batch.view.pairs_diag, plain.pairs4 + plain.pairs_diag):
        np.testing.assert_array_equal(got, want)


def test_masks_looked_up_from_uint8_labels_are_built_only_when_read():

    rng = np.random.default_rng(5)
    labels = rng.choice(np.array([0, 1, 2, 7, 255], np.uint8), size=(3, 6, 9))
    builder = SegmentationBatchBuilder(3, (0, 1, 2), (255,))
    (batch,) = builder.build(np.zeros((3, 6, 9, 3), np.uint8), labels, 0)
    assert "_masks" not in batch.__dict__ or batch.__dict__["_masks"] is None
    assert batch.mask_shape == (3, 6, 9)
    pixels = batch.view.class_pixels(3)  # the features read the labels through the view
    assert batch.__dict__.get("_masks") is None
    eager = np.where(labels <= 2, labels.astype(np.int32), -1)
    for i in range(3):
        np.testing.assert_array_equal(batch.sample_mask(i), eager[i])
    assert batch.__dict__.get("_masks") is None
    np.testing.assert_array_equal(batch.masks, eager)  # built on first read, then kept
    assert batch.masks is batch.masks
    assert pixels.tolist() == [[(eager[i] == c).sum() for c in range(3)] for i in range(3)]
    batch.masks = np.zeros((3, 6, 9), np.int32)  # replaced masks: the labels no longer describe them
    assert batch.label_source is None and batch.view.lookup is None
    assert batch.view.class_pixels(3)[:, 0].tolist() == [54, 54, 54]


def test_copies_and_selections_of_a_batch_with_lazy_masks_stay_consistent():
    import dataclasses

    from data_gradients.batch.select import select_samples

    rng = np.random.default_rng(6)
    labels = rng.choice(np.array([0, 1, 2, 7, 255], np.uint8), size=(4, 5, 8))
    eager = np.where(labels <= 2, labels.astype(np.int32), -1)
    builder = SegmentationBatchBuilder(3, (0, 1, 2), (255,))
    (batch,) = builder.build(np.zeros((4, 5, 8, 3), np.uint8), labels, 0)
    other = np.zeros((4, 5, 8), np.int32)
    replaced = dataclasses.replace(batch, masks=other)  # new masks: the old labels must not be read
    assert replaced.label_source is None
    assert replaced.view.class_pixels(3)[:, 0].tolist() == [40] * 4
    plain = dataclasses.replace(batch)  # a plain copy: masks built from the labels, same numbers
    np.testing.assert_array_equal(plain.masks, eager)
    np.testing.assert_array_equal(plain.view.class_pixels(3), batch.view.class_pixels(3))
    keep = np.array([True, False, True, False])
    (fresh,) = builder.build(np.zeros((4, 5, 8, 3), np.uint8), labels, 0)
    chosen = select_samples(fresh, keep)  # drops a sampler's padding: the labels follow the samples
    assert chosen.label_source is not None and chosen.mask_shape == (2, 5, 8)
    assert fresh.__dict__.get("_masks") is None  # selecting did not build the masks
    np.testing.assert_array_equal(chosen.masks, eager[keep])
    np.testing.assert_array_equal(chosen.view.class_pixels(3), batch.view.class_pixels(3)[keep])
    np.testing.assert_array_equal(chosen.sample_ids, [0, 2])


def _reference_run_component(v: SegmentationView) -> np.ndarray:
    """The union-find before it resolved the trees left after one round over the trees alone: every
    round over every run (kept as the oracle)."""
    n_runs = len(v.runs["row"])
    u = np.concatenate([v.pairs4[0], v.pairs_diag[0]])
    w = np.concatenate([v.pairs4[1], v.pairs_diag[1]])
    parent = np.arange(n_runs)
    while u.size:
        pu, pw = parent[u], parent[w]
        differ = pu != pw
        if not differ.any():
            break
        lo, hi = np.minimum(pu[differ], pw[differ]), np.maximum(pu[differ], pw[differ])
        np.minimum.at(parent, hi, lo)
        while not np.array_equal(parent[parent], parent):
            parent = parent[parent]
        u, w = lo, hi
    roots = parent == np.arange(n_runs)
    return (np.cumsum(roots) - 1)[parent]


def _combs_and_spirals(rng, h, w):
    """Masks whose components need several union-find rounds: combs joined at the bottom, spirals, Us."""
    m = np.full((h, w), -1, dtype=np.int32)
    m[:, ::2] = 0  # teeth of a comb
    m[-1] = 0  # joined at the bottom only
    m[: h // 2, 1::4] = 1  # another class between some teeth, joined at the top
    m[0, 1::2] = 1
    spiral = np.zeros((h, w), dtype=np.uint8)
    cv2.polylines(spiral, [np.array([[w // 2 + int(t * np.cos(t) / 2), h // 2 + int(t * np.sin(t) / 2)]
                                     for t in np.linspace(0, 6 * np.pi, 200)], dtype=np.int32)], False, 1)
    m[spiral > 0] = 2
    noise = rng.random((h, w)) < 0.02
    m[noise] = rng.integers(-1, 3, int(noise.sum()))
    return m


def test_run_components_equal_the_all_runs_union_find():
    rng = np.random.default_rng(11)
    cases = [rng.integers(-1, int(rng.integers(1, 5)), (int(rng.integers(1, 4)), int(rng.integers(1, 30)),
                                                          int(rng.integers(1, 30)))).astype(np.int32) for _ in range(40)]
    cases += [np.stack([_combs_and_spirals(rng, h, w) for _ in range(2)]) for h, w in ((40, 60), (97, 31), (64, 64))]
    for masks in cases:
        v = SegmentationView(masks)
        expected = _reference_run_component(v)
        np.testing.assert_array_equal(v.run_component, expected)
        first = np.full(len(np.unique(expected)), len(expected))
        np.minimum.at(first, expected, np.arange(len(expected)))
        np.testing.assert_array_equal(v.components["first_run"], first)
    # the structured masks do take more than one round over the runs: the comb's teeth meet only at its bottom
    for masks in cases[-3:]:
        v = SegmentationView(masks)
        u, w = np.concatenate([v.pairs4[0], v.pairs_diag[0]]), np.concatenate([v.pairs4[1], v.pairs_diag[1]])
        parent = run_ops.union(np.arange(len(v.runs["row"])), u, w, rounds=1)
        assert (parent[u] != parent[w]).any()
