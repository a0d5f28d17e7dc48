"""The compiled loops over mask runs give what numpy's ways give, on every view property, and refuse bad input."""
import threading

import cv2
import numpy as np
import pytest

from data_gradients.batch import run_kernels
from data_gradients.batch.segmentation_view import SegmentationView
from data_gradients.feature_extractors.segmentation.convexity import run_hull_lengths, run_perimeters
from data_gradients.feature_extractors.segmentation.heatmap import _run_cell_counts

KERNELS = run_kernels.KERNELS
IGNORE = 255


def test_the_extension_is_built():
    assert KERNELS is not None, "data_gradients.batch._run_kernels is not built (or stale): ./dev setup with a C compiler"
    assert KERNELS.VERSION == run_kernels.VERSION


def _scenes(rng, n, h, w, k):
    """Blocky label images (uint8, IGNORE not counted): bands, boxes, thin poles, speckles; runs longer and
    shorter than the 16 and 8 bytes the scan compares at a time."""
    out = np.empty((n, h, w), dtype=np.uint8)
    for i in range(n):
        m = np.zeros((h, w), dtype=np.uint8)
        m[: h // 3] = 1
        for _ in range(int(rng.integers(3, 12))):
            x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
            cv2.rectangle(m, (x, y), (x + int(rng.integers(1, w // 2 + 2)), y + int(rng.integers(1, h // 2 + 2))),
                          int(rng.integers(0, k)), -1)
        m[:, int(rng.integers(0, w))] = IGNORE  # a pole of pixels not counted
        cv2.circle(m, (int(rng.integers(0, w)), int(rng.integers(0, h))), int(rng.integers(1, h // 3 + 2)),
                   int(rng.integers(0, k)), -1)
        speckle = rng.random((h, w)) < 0.01
        m[speckle] = rng.choice([*range(k), IGNORE], int(speckle.sum()))
        out[i] = m
    return out


def _cases():
    rng = np.random.default_rng(3)
    cases = [rng.choice([0, 1, 2, IGNORE], (int(rng.integers(1, 4)), int(rng.integers(1, 12)),
                                            int(rng.integers(1, 40)))).astype(np.uint8) for _ in range(60)]
    cases += [_scenes(rng, 3, h, w, 5) for h, w in ((48, 80), (31, 97), (64, 17), (5, 300))]
    cases += [np.full((2, 7, 33), 2, np.uint8), np.full((1, 4, 4), IGNORE, np.uint8)]
    return cases


def _table(k=254):
    table = np.full(256, -1, dtype=np.int32)
    table[:k] = np.arange(k)
    return table


def _both(make):
    """(compiled view, numpy view) of one batch."""
    assert KERNELS is not None
    compiled = make()
    try:
        run_kernels.KERNELS = None
        plain = make()
        _read_all(plain)
    finally:
        run_kernels.KERNELS = KERNELS
    _read_all(compiled)
    return compiled, plain


def _read_all(v):
    v.runs, v.components, v.run_survives, v.component_survives, v.pairs4, v.pairs_diag  # noqa: B018 - built now
    v.__dict__["_perimeters"] = run_perimeters(v)
    v.__dict__["_hulls"] = run_hull_lengths(v)


def _pair_set(pairs):
    return sorted(zip(pairs[0].tolist(), pairs[1].tolist()))


def _assert_same(a, b):
    for key in ("row", "x0", "x1", "cls", "image"):
        np.testing.assert_array_equal(a.runs[key], b.runs[key], err_msg=key)
        assert a.runs[key].dtype == b.runs[key].dtype, key
    assert _pair_set(a.pairs4) == _pair_set(b.pairs4)
    assert _pair_set(a.pairs_diag) == _pair_set(b.pairs_diag)
    np.testing.assert_array_equal(a.run_component, b.run_component)
    for key in b.components:
        np.testing.assert_array_equal(a.components[key], b.components[key], err_msg=key)
        assert a.components[key].dtype == b.components[key].dtype, key
    np.testing.assert_array_equal(a.run_survives, b.run_survives)
    np.testing.assert_array_equal(a.component_survives, b.component_survives)
    np.testing.assert_array_equal(a.class_pixels(8), b.class_pixels(8))
    np.testing.assert_array_equal(a.__dict__["_perimeters"], b.__dict__["_perimeters"])
    np.testing.assert_array_equal(a.__dict__["_hulls"], b.__dict__["_hulls"])
    k = int(b.runs["cls"].max()) + 1 if len(b.runs["cls"]) else 1
    for grid in (32, 7, 1):  # cells narrower than a pixel, cells of several columns, one cell
        np.testing.assert_array_equal(run_kernels.cell_counts(a.runs, k, grid, a.h, a.w),
                                      _run_cell_counts(b.runs, k, grid, b.h, b.w))


@pytest.mark.parametrize("case", range(len(_cases())))
def test_views_from_label_lookups_equal_numpys(case):
    labels = _cases()[case]
    table = _table(3 if case % 2 else 254)  # every other case: labels above 2 not counted either
    a, b = _both(lambda: SegmentationView(None, lookup=(labels, table)))
    _assert_same(a, b)
    np.testing.assert_array_equal(a.label_values(), b.label_values())
    flagged = np.zeros(256, dtype=bool)
    flagged[[1, IGNORE]] = True
    np.testing.assert_array_equal(a.label_pixels(flagged), b.label_pixels(flagged))


@pytest.mark.parametrize("case", range(len(_cases())))
def test_views_from_int32_ids_equal_numpys(case):
    labels = _cases()[case]
    ids = np.where(labels == IGNORE, -1, labels.astype(np.int32) * (1000 if case % 3 == 0 else 1)).astype(np.int32)
    a, b = _both(lambda: SegmentationView(ids))
    _assert_same(a, b)


def test_components_and_erosion_match_opencv_per_class():
    rng = np.random.default_rng(5)
    labels = _scenes(rng, 2, 60, 90, 4)
    v = SegmentationView(None, lookup=(labels, _table(4)))
    for i in range(2):
        for c in range(4):
            binary = (labels[i] == c).astype(np.uint8)
            k, lab, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
            eroded = cv2.erode(binary, np.ones((3, 3), np.uint8), borderType=cv2.BORDER_CONSTANT, borderValue=0)
            sel = (v.components["cls"] == c) & (v.components["image"] == i)
            assert sorted(v.components["area"][sel].tolist()) == sorted(stats[1:, cv2.CC_STAT_AREA].tolist())
            survivors = set(np.unique(lab[eroded > 0]).tolist())
            assert int(v.component_survives[sel].sum()) == len(survivors)


def test_mask_runs_counts_again_when_its_guess_is_short(monkeypatch):
    labels = _cases()[-3].reshape(-1, _cases()[-3].shape[-1])  # (15, 300): many runs a row
    expected = run_kernels.mask_runs(labels, 5, _table())
    monkeypatch.setattr(run_kernels, "RUNS_PER_ROW_GUESS", 1)
    again = run_kernels.mask_runs(labels, 5, _table())
    assert len(again["row"]) > labels.shape[0]  # more runs than the room first made
    for key in ("row", "x0", "x1", "value", "label"):
        np.testing.assert_array_equal(again[key], expected[key])
    for key in expected["counted"]:
        np.testing.assert_array_equal(again["counted"][key], expected["counted"][key])


def test_mask_runs_are_the_maximal_stretches_of_each_row():
    labels = np.array([[3, 3, 3, 7, IGNORE, IGNORE, 3], [1] * 7], dtype=np.uint8)
    runs = run_kernels.mask_runs(labels, 1, _table(10))
    assert runs["row"].tolist() == [0, 0, 0, 0, 1]
    assert runs["x0"].tolist() == [0, 3, 4, 6, 0]
    assert runs["x1"].tolist() == [2, 3, 5, 6, 6]
    assert runs["value"].tolist() == [3, 7, -1, 3, 1]
    assert runs["label"].tolist() == [3, 7, IGNORE, 3, 1]
    assert runs["counted"]["image"].tolist() == [0, 0, 0, 1]
    assert runs["counted"]["cls"].tolist() == [3, 7, 3, 1]


def test_bad_arguments_are_refused():
    labels = np.zeros((4, 5), dtype=np.uint8)
    with pytest.raises(ValueError, match="256 entries"):
        run_kernels.mask_runs(labels, 2, np.zeros(10, dtype=np.int32))
    with pytest.raises(ValueError, match="int32 ids"):  # int64 ids would be cut to 32 bits
        run_kernels.mask_runs(labels.astype(np.int64), 2)
    with pytest.raises(ValueError, match="whole number"):
        run_kernels.mask_runs(labels, 3, _table())
    with pytest.raises(ValueError, match="one length"):
        run_kernels.run_pairs(np.zeros(3), np.zeros(3), np.zeros(2), np.zeros(3), 2)
    with pytest.raises(IndexError, match="out of range"):
        run_kernels.run_components(3, (np.array([0]), np.array([3])))
    buf = np.zeros(4, dtype=np.int32)
    with pytest.raises(ValueError, match="too short"):  # the C checks lengths itself too
        KERNELS.mask_runs(labels, 1, 4, 5, 1, _table(), buf, buf, buf, np.zeros(4, np.uint8), buf, buf, buf, buf,
                          buf, np.zeros(2, np.int32))
    with pytest.raises(ValueError, match="out of range"):
        KERNELS.component_boxes(np.array([5]), buf[:1], buf[:1], buf[:1], *(np.zeros(2, np.int64) for _ in range(4)))
    one = np.zeros(1, dtype=np.int64)
    with pytest.raises(ValueError, match="out of range"):  # a pair naming run 1 of a single run
        run_kernels.perimeter_counts(one, 1, buf[:1], buf[:1], (one, one + 1), (one, one))
    with pytest.raises(ValueError, match="outside the image or the classes"):  # class 2 of a 2-class grid
        run_kernels.cell_counts({"row": buf[:1], "x0": buf[:1], "x1": buf[:1], "cls": buf[:1] + 2}, 2, 4, 3, 5)
    with pytest.raises(ValueError, match="outside its component"):  # the run's row 3 is not the component's row 0
        run_kernels.hull_parts(one, np.array([3], np.int32), buf[:1], buf[:1], one, one + 1)


def test_hull_chains_drop_every_point_not_beyond_its_neighbours():
    # one component: rows 0..4 of a diamond with a dent on the right: right ends 2, 3, 1, 3, 2; left 2, 1, 0, 1, 2
    x0 = np.array([2, 1, 0, 1, 2], np.int32)
    x1 = np.array([2, 3, 1, 3, 2], np.int32)
    row = np.arange(5, dtype=np.int32)
    comp = np.zeros(5, np.int64)
    ends, right, left = run_kernels.hull_parts(comp, row, x0, x1, np.zeros(1, np.int64), np.array([5], np.int64))
    assert ends.tolist() == [0]  # one-pixel first and last rows
    # right chain (2,0) (3,1) (3,3) (2,4): the dent at row 2 goes; left chain (2,0) (0,2) (2,4) (mirrored)
    assert right[0] == pytest.approx(2 * np.sqrt(2) + 2)
    assert left[0] == pytest.approx(4 * np.sqrt(2))


def test_threads_each_keep_their_own_scratch():
    rng = np.random.default_rng(9)
    batches = [_scenes(rng, 2, 40, 70, 5) for _ in range(4)]
    expected = [SegmentationView(None, lookup=(b, _table())).components["area"] for b in batches]
    results, errors = {}, []

    def work(k):
        try:
            for _ in range(20):
                got = SegmentationView(None, lookup=(batches[k], _table())).components["area"]
                assert np.array_equal(got, expected[k])
            results[k] = True
        except Exception as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors and len(results) == 4
