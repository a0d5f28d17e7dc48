"""hwc_copy: the bytes of numpy's HWC copy, always a new array."""
import numpy as np
import pytest

from data_gradients.feature_extractors.common.hwc import hwc_copy


@pytest.mark.parametrize("shape, dtype", [((3, 480, 640), np.uint8), ((3, 1, 7), np.uint8), ((3, 5, 1), np.uint8),
                                          ((1, 20, 30), np.uint8), ((4, 9, 11), np.uint8), ((3, 0, 4), np.uint8),
                                          ((3, 16, 16), np.float32), ((3, 33, 17), np.uint16)])
def test_same_bytes_as_numpys_copy_and_never_a_view(shape, dtype):
    rng = np.random.default_rng(sum(shape))
    image = rng.integers(0, 255, shape).astype(dtype)
    got = hwc_copy(image)
    assert got.dtype == image.dtype and got.shape == image.shape[1:] + image.shape[:1]
    assert np.array_equal(got, image.transpose(1, 2, 0))
    assert not np.shares_memory(got, image)


def test_a_strided_view_of_a_batch():
    batch = np.random.default_rng(1).integers(0, 256, (4, 3, 40, 60), dtype=np.uint8)
    view = batch[2, :, ::2, 1::3]  # no plane of it is contiguous
    got = hwc_copy(view)
    assert np.array_equal(got, view.transpose(1, 2, 0)) and not np.shares_memory(got, batch)
