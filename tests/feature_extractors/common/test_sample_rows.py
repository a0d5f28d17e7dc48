import pickle

import numpy as np

from data_gradients.feature_extractors.common.sample_rows import SampleRows


def test_rows_of_32_bytes_keep_the_smallest_ids_whatever_the_order_and_merge():
    rng = np.random.default_rng(0)
    rows = rng.integers(0, 256, (12, 32), dtype=np.uint8)
    ids = np.array([5, 3, 3, 9, 0, 7, 1, 11, 3, 2, 8, 4])  # id 3 three times: ties broken by the rows' bytes
    expected = sorted(zip(ids.tolist(), [r.tobytes() for r in rows]))[:6]
    for perm in (np.arange(12), rng.permutation(12), rng.permutation(12)):
        whole = SampleRows(6, (32,), np.uint8)
        for k in perm:
            whole.add(rows[[k]], ids[[k]])
        a, b = SampleRows(6, (32,), np.uint8), SampleRows(6, (32,), np.uint8)
        a.add(rows[perm[:5]], ids[perm[:5]])
        b.add(rows[perm[5:]], ids[perm[5:]])
        for index in (whole, a + b, b + a, pickle.loads(pickle.dumps(a + b))):
            got_rows, got_ids = index.arrays()
            assert list(zip(got_ids.tolist(), [r.tobytes() for r in got_rows])) == expected
    assert whole.wanted(np.array([2, 3, 4])).tolist() == [True, False, False]  # ids up to the largest kept
    empty_rows, empty_ids = SampleRows(3, (32,), np.uint8).arrays()
    assert empty_rows.shape == (0, 32) and empty_ids.shape == (0,)
