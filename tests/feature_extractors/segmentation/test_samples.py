import pickle

import numpy as np

from data_gradients.batch import SegmentationBatchBuilder
from data_gradients.context import AnalysisContext
from data_gradients.feature_extractors.segmentation import samples as samples_module
from data_gradients.feature_extractors.segmentation.samples import SegmentationSamples, overlay, palette, thumbnail


def ctx(k, num_classes=3):
    return AnalysisContext(task="segmentation", num_classes=num_classes, class_ids=tuple(range(num_classes)),
                           samples_to_visualize=k)


def dataset(n, h=6, w=8, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 3, h, w), dtype=np.uint8), rng.integers(0, 3, (n, h, w), dtype=np.int64)


def feed(ext, images, masks, batch_size, split="train", first_id=0):
    for i in range(0, len(images), batch_size):
        for b in SegmentationBatchBuilder(3, (0, 1, 2), ()).build(images[i:i + batch_size], masks[i:i + batch_size],
                                                                  first_id + i):
            ext.update(b, split)
    return ext


def picked(ext, split="train"):
    return sorted(p[0] for _, p in ext.state(split).reservoir)


def test_same_picks_in_one_batch_or_five_or_merged():
    images, masks = dataset(50)
    one = feed(SegmentationSamples(ctx(5)), images, masks, 50)
    five = feed(SegmentationSamples(ctx(5)), images, masks, 10)
    a = feed(SegmentationSamples(ctx(5)), images[25:], masks[25:], 7, first_id=25)
    merged = pickle.loads(pickle.dumps(a)).merge(feed(SegmentationSamples(ctx(5)), images[:25], masks[:25], 3))
    assert len(picked(one)) == 5
    assert picked(one) == picked(five) == picked(merged)
    r1, r5 = one.compute().images[0], five.compute().images[0]
    assert r1.captions == r5.captions
    assert all(np.array_equal(x, y) for x, y in zip(r1.images["train"], r5.images["train"]))


def test_picks_are_the_smallest_keys_and_spread_over_the_dataset():
    images, masks = dataset(200, h=2, w=2)
    ext = feed(SegmentationSamples(ctx(10)), images, masks, 16)
    keys = {i: ext.sample_key("train", i) for i in range(200)}
    assert picked(ext) == sorted(sorted(keys, key=keys.get)[:10])
    assert picked(ext) != list(range(10)) and max(picked(ext)) >= 100
    other_seed = SegmentationSamples(AnalysisContext(task="segmentation", num_classes=3, class_ids=(0, 1, 2),
                                                     samples_to_visualize=10, seed=1))
    assert picked(feed(other_seed, images, masks, 16)) != picked(ext)


def test_thumbnails_only_for_candidates(monkeypatch):
    calls = []

    def counting(image, mask, **kw):
        calls.append(1)
        return thumbnail(image, mask, **kw)

    monkeypatch.setattr(samples_module, "thumbnail", counting)
    images, masks = dataset(1000, h=2, w=2)
    feed(SegmentationSamples(ctx(5)), images, masks, 20)
    assert 5 <= len(calls) < 100  # ~ k (1 + ln(n / k)) expected entries, not n


def test_thumbnail_of_uint8_labels_reduced_then_looked_up_equals_the_looked_up_mask_reduced():
    rng = np.random.default_rng(3)
    table = np.full(256, -1, dtype=np.int32)
    table[[0, 1, 2, 7, 200]] = [0, 1, 2, 7, 200]
    for h, w in ((720, 1280), (301, 599), (257, 3), (1, 700), (10, 20), (256, 256), (0, 5)):
        image = rng.integers(0, 256, (3, h, w), dtype=np.uint8)
        labels = rng.choice(np.array([0, 1, 2, 7, 9, 200, 255], dtype=np.uint8), size=(h, w))
        labels[h // 3:, w // 2:] = 7  # regions as well as noise
        ids = table[labels]
        new_img, new_mask = thumbnail(image, labels, table=table)
        old_img, old_mask = thumbnail(image, ids)
        assert new_mask.dtype == np.int32 and np.array_equal(new_mask, old_mask) and np.array_equal(new_img, old_img)
        assert not np.shares_memory(new_mask, labels)


def test_payload_from_uint8_labels_equals_payload_from_masks():
    rng = np.random.default_rng(4)
    images = rng.integers(0, 256, (4, 3, 300, 500), dtype=np.uint8)
    labels = rng.integers(0, 3, (4, 300, 500)).astype(np.uint8)
    labels[:, 100:] = 255  # not a class: -1
    ext = SegmentationSamples(ctx(4))
    (from_labels,) = SegmentationBatchBuilder(3, (0, 1, 2), (255,)).build(images, labels, 0)
    (from_ids,) = SegmentationBatchBuilder(3, (0, 1, 2), (255,)).build(images, labels.astype(np.int64), 0)
    assert from_labels.label_source is not None and from_ids.label_source is None
    for i in range(4):
        (a_img, a_mask), (b_img, b_mask) = ext.payload(from_labels, i), ext.payload(from_ids, i)
        assert np.array_equal(a_img, b_img) and np.array_equal(a_mask, b_mask) and a_mask.dtype == b_mask.dtype


def test_thumbnail_equals_opencv_area_resize_of_each_plane():
    import cv2

    rng = np.random.default_rng(9)
    for h, w in ((720, 1280), (512, 1024), (1080, 1920), (600, 800), (300, 2560), (2048, 17), (514, 256)):
        image = rng.integers(0, 256, (3, h, w), dtype=np.uint8)
        image[:, : h // 2] = image[:, : h // 2] // 32 * 32
        mask = rng.integers(-1, 5, (h, w)).astype(np.int32)
        small, small_mask = thumbnail(image, mask)
        scale = 256 / max(h, w)
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        expected = np.stack([cv2.resize(p, size, interpolation=cv2.INTER_AREA) for p in image], axis=-1)
        assert small.flags.c_contiguous and np.array_equal(small, expected), (h, w)
        assert np.array_equal(small_mask, cv2.resize(mask, size, interpolation=cv2.INTER_NEAREST))


def test_thumbnail_sizes_and_nearest_mask():
    image = np.zeros((3, 300, 600), dtype=np.uint8)
    mask = np.full((300, 600), -1, dtype=np.int32)
    mask[:, 300:] = 2
    small_img, small_mask = thumbnail(image, mask)
    assert small_img.shape == (128, 256, 3) and small_img.dtype == np.uint8
    assert small_mask.shape == (128, 256) and set(np.unique(small_mask).tolist()) == {-1, 2}
    assert not np.shares_memory(small_mask, mask) and not np.shares_memory(small_img, image)
    tiny_img, tiny_mask = thumbnail(image[:, :10, :20], mask[:10, :20])
    assert tiny_img.shape == (10, 20, 3) and tiny_mask.shape == (10, 20)  # never upscaled
    assert not np.shares_memory(tiny_mask, mask)


def test_overlay_blends_class_pixels_only():
    colours = palette(3)
    image = np.full((2, 2, 3), 100, dtype=np.uint8)
    mask = np.array([[-1, 0], [2, -1]], dtype=np.int32)
    out = overlay(image, mask, colours)
    assert out[0, 0].tolist() == [100, 100, 100] and out[1, 1].tolist() == [100, 100, 100]
    for (y, x), c in (((0, 1), 0), ((1, 0), 2)):
        expected = np.rint(0.5 * 100 + 0.5 * colours[c].astype(float))
        assert np.abs(out[y, x].astype(float) - expected).max() <= 1
    assert palette(3).tolist() == colours.tolist() and len(palette(40)) == 40
    assert palette(40)[:20].tolist() == palette(20).tolist()


def test_compute_grid_with_captions_per_split():
    images, masks = dataset(12)
    ext = SegmentationSamples(ctx(4))
    feed(ext, images, masks, 5)
    feed(ext, images[:2], masks[:2], 5, split="val", first_id=0)
    (grid,) = ext.compute().images
    assert len(grid.images["train"]) == 4 and len(grid.images["val"]) == 2
    assert grid.captions["val"] == ["sample 0", "sample 1"]
    ids = [int(c.split()[1]) for c in grid.captions["train"]]
    assert ids == sorted(ids) == picked(ext)
    # the 6x8 overlay, with a legend strip below it when a class is visible
    assert all(im.shape[0] >= 6 and im.shape[1:] == (8, 3) and im.dtype == np.uint8 for im in grid.images["train"])


def test_legend_names_each_visible_class_in_its_colour():
    from data_gradients.feature_extractors.segmentation.samples import palette, with_legend

    colours = palette(3)
    image = np.zeros((40, 120, 3), dtype=np.uint8)
    out = with_legend(image, [(0, "road"), (2, "car")], colours)
    assert out.shape[1:] == (120, 3) and out.shape[0] > 40
    np.testing.assert_array_equal(out[:40], image)
    strip = out[40:].reshape(-1, 3)
    for cid in (0, 2):
        assert (strip == colours[cid]).all(axis=1).sum() >= 50  # its colour swatch
    assert (strip == colours[1]).all(axis=1).sum() == 0  # absent class: no swatch
    assert with_legend(image, [], colours) is image


def test_zero_samples_is_empty_and_keeps_no_state():
    images, masks = dataset(5)
    ext = feed(SegmentationSamples(ctx(0)), images, masks, 5)
    res = ext.compute()
    assert res.images == [] and ext.splits == ()
