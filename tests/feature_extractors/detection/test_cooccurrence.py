"""Known answers for the class co-occurrence matrix."""
import numpy as np
import pytest
from detection_helpers import batch, context

from data_gradients.feature_extractors.detection.cooccurrence import DetectionClassCooccurrence


def test_matrix_conditional_shares_and_top_pairs():
    ex = DetectionClassCooccurrence(context(names={0: "a", 1: "b", 2: "c"}))
    # images: {a, b} (a twice), {a}, {b, c}, {}
    ex.update(batch([[[0, 1, 1, 5, 5], [0, 2, 2, 6, 6], [1, 1, 1, 5, 5]], [[0, 1, 1, 5, 5]],
                     [[1, 1, 1, 5, 5], [2, 1, 1, 5, 5]], []]), "train")
    st = ex.state("train")
    assert st.together.tolist() == [[2, 1, 0], [1, 2, 1], [0, 1, 1]]
    res = ex.compute()
    joint, conditional = res.heatmaps
    assert np.allclose(joint.maps["train"]["images with both"], np.array([[2, 1, 0], [1, 2, 1], [0, 1, 1]]) / 4)
    cond = conditional.maps["train"]["P(column | row)"]
    assert cond[0, 1] == pytest.approx(0.5) and cond[2, 1] == pytest.approx(1.0) and cond[0, 2] == 0.0
    rows = res.tables[0].rows
    assert [r[0] for r in rows] == ["a + b", "b + c"]  # a + c never together: not listed
    assert rows[0][1:] == [1, 0.5, 0.5]
    assert rows[1][1:] == [1, 0.5, 1.0]


def test_splits_are_kept_apart():
    ex = DetectionClassCooccurrence(context())
    ex.update(batch([[[0, 1, 1, 5, 5], [1, 1, 1, 5, 5]]]), "train")
    ex.update(batch([[[2, 1, 1, 5, 5]]]), "val")
    assert ex.state("train").together[0, 1] == 1 and ex.state("val").together.sum() == 1
    res = ex.compute()
    assert res.tables[0].rows[0][0] == "0 + 1"
    assert res.tables[0].rows[0][4:] == [0, None, None]
