"""Bad input over the three managers: each case ends in an error of ours (its type and a message
fragment), or a finding (its key and sample ids), or the right number, computed here independently.
Where the case is bad data (not a bad argument), the other outputs still come out: TXT and JSON are
written, no feature failed, no writer failed. Sample ids are positions in the loader's stream.

The principles (issue 10): every number is right or flagged; every error is ours and says what
happened; nothing read is lost; any user string is safe in the text outputs.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from bad_input_helpers import (
    Check,
    Equals,
    Finds,
    Raises,
    boxes,
    case,
    class_pixels,
    const,
    luma,
    masks,
    no_finding,
    noise,
    pil,
    pil16,
    raising_loader,
    run_case,
)
from PIL import Image

from data_gradients.errors import BatchFormatError, ConfigurationError, DataLoaderError, UnresolvedBatchError
from data_gradients.reports.json_writer import JsonWriter
from data_gradients.reports.tensorboard_writer import TensorBoardWriter
from data_gradients.reports.txt_writer import TxtWriter

BRIGHT = "image_brightness"
CLS_FREQ = "classification_class_frequency"
BOXQ = "detection_box_quality"


def ids(*v):
    return torch.tensor(v)


def cls(images, labels):
    return lambda: [(images, labels)]


def one_line_per_class(report):
    lines = report.outputs["txt"].read_text().splitlines()
    rows = [ln for ln in lines if ln.startswith("0 ")]
    assert rows and all("bad\\nname\\t!" in ln for ln in rows)  # the name escaped, on the class's own line
    assert not any(ln.startswith("name") for ln in lines)


# --------------------------------------------------------------------------------- classification
CLASSIFICATION = {
    # pixel scale: each image by its own type, never by a neighbour's values
    "mixed_8_and_16_bit_pil": case("classification", lambda: [(
        [pil("L", 100), pil16(100 * 257), pil("L", 50), pil16(50 * 257)], [0, 1, 2, 0])],
        Equals(BRIGHT, "mean_brightness", 75.0), Equals("duplicates", "duplicate_groups", 2),
        no_finding("data_quality", "sixteen_bit_low")),
    "float_image_beside_uint8": case("classification", lambda: [(
        [const(1, 51)[0], const(1, 0.2, dtype=np.float32)[0], const(1, 102)[0]], [0, 1, 2])],
        Equals(BRIGHT, "mean_brightness", 68.0), no_finding("data_quality", "float_0_255")),
    "sixteen_bit_values_within_255": case("classification", lambda: [([pil16(200), pil16(200 * 257)], [0, 1])],
                                          Finds("sixteen_bit_low", [0], severity="warning"),
                                          Equals(BRIGHT, "mean_brightness", 100.0)),
    "two_16_bit_batches_scaled_alike": case("classification", lambda: [
        ([pil16(40 * 257)], [0]), ([pil16(40 * 257), pil16(200 * 257)], [1, 2])],
        Equals(BRIGHT, "mean_brightness", (40 + 40 + 200) / 3)),
    "palette_image_pure_red": case("classification", cls([pil("P", (255, 0, 0))], [0]),
                                   Equals(BRIGHT, "mean_brightness", luma(255, 0, 0))),
    "palette_with_alpha": case("classification", cls([pil("PA", (0, 0, 255))], [0]),
                               Equals(BRIGHT, "mean_brightness", luma(0, 0, 255))),
    "pil_L": case("classification", cls([pil("L", 90)], [0]), Equals(BRIGHT, "mean_brightness", 90.0)),
    "pil_I16": case("classification", cls([pil("I;16", 257 * 60)], [0]), Equals(BRIGHT, "mean_brightness", 60.0)),
    "pil_1": case("classification", cls([pil("1", 1), pil("1", 0)], [0, 1]), Equals(BRIGHT, "mean_brightness", 127.5)),
    "pil_RGBA": case("classification", cls([pil("RGBA", (10, 20, 30, 40))], [0]),
                     Equals(BRIGHT, "mean_brightness", luma(10, 20, 30))),
    "pil_LA": case("classification", cls([pil("LA", (90, 7))], [0]), Equals(BRIGHT, "mean_brightness", 90.0)),
    "pil_CMYK": case("classification", cls([pil("CMYK", (0, 255, 255, 0))], [0]),
                     Equals(BRIGHT, "mean_brightness", luma(255, 0, 0))),
    "pil_F_0_1": case("classification", cls([pil("F", 0.5)], [0]), Equals(BRIGHT, "mean_brightness", 128.0)),
    "pil_F_0_255": case("classification", cls([pil("F", 30.0), pil("F", 0.5)], [0, 1]),
                        Finds("float_0_255", [0]), Equals(BRIGHT, "mean_brightness", (30 + 128) / 2)),
    "pil_I_wide_int": case("classification", cls([pil("I", 70), pil("I", 70 * 257)], [0, 1]),
                           Finds("wide_int_16_bit", [1], severity="info"), Equals(BRIGHT, "mean_brightness", 70.0)),
    "int64_images_8_and_16_bit": case("classification", cls(
        torch.cat([const(1, 100, dtype=np.int64), const(1, 100 * 257, dtype=np.int64)]), ids(0, 1)),
        Finds("wide_int_16_bit", [1]), Equals(BRIGHT, "mean_brightness", 100.0)),
    "bfloat16_images": case("classification", cls(const(2, 0.5, dtype=np.float32).bfloat16(), ids(0, 1)),
                            Equals(BRIGHT, "mean_brightness", 128.0)),
    "float_images_in_0_255": case("classification", cls(const(2, 200.0, dtype=np.float32), ids(0, 1)),
                                  Finds("float_0_255", [0, 1]), Equals(BRIGHT, "mean_brightness", 200.0)),
    "float_beyond_255": case("classification", cls(torch.stack([const(1, 900.0, dtype=np.float32)[0],
                                                                const(1, 0.25, dtype=np.float32)[0]]), ids(0, 1)),
                             Finds("above_range", [0]), Equals(BRIGHT, "mean_brightness", (255 + 64) / 2)),
    "normalised_negative_floats": case("classification", cls(const(2, [-1.0, 0.5, 0.5], dtype=np.float32), ids(0, 1)),
                                       Finds("negative", [0, 1]), Equals(BRIGHT, "mean_brightness", luma(0, 128, 128))),
    "int8_negative": case("classification", cls(const(2, -5, dtype=np.int8), ids(0, 1)), Finds("negative", [0, 1])),
    "nan_pixels": case("classification", lambda: [(torch.stack([const(1, 0.5, dtype=np.float32)[0],
                                                               torch.full((3, 8, 8), float("nan"))]), ids(0, 1))],
                       Finds("nonfinite", [1], severity="error")),
    "grayscale_NHW_batch": case("classification", cls(const(3, 40)[:, 0], ids(0, 1, 2)),
                                Equals(BRIGHT, "mean_brightness", 40.0)),
    # labels
    "label_2_5": case("classification", cls(noise(4), torch.tensor([0, 1, 2.5, 1.0])),
                      Finds("non_integer_labels", [2]), Equals(CLS_FREQ, "images", 4)),
    "label_nan": case("classification", cls(noise(3), torch.tensor([0, float("nan"), 1.0])),
                      Finds("out_of_range", [1], feature=CLS_FREQ)),
    "label_inf": case("classification", cls(noise(3), torch.tensor([float("inf"), 2.0, 1.0])),
                      Finds("out_of_range", [0], feature=CLS_FREQ)),
    "label_negative": case("classification", cls(noise(3), ids(0, -1, 1)), Finds("out_of_range", [1], feature=CLS_FREQ)),
    "label_int64_huge": case("classification", cls(noise(3), ids(0, 2 ** 40, 1)),
                             Finds("out_of_range", [1], feature=CLS_FREQ)),
    "label_uint64_huge": case("classification", cls(noise(2), np.array([2 ** 63 + 1, 1], dtype=np.uint64)),
                              Finds("out_of_range", [0], feature=CLS_FREQ)),
    "multi_label_value_2": case("classification", cls(noise(2), torch.tensor([[0, 1, 0], [2, 0, 1]])),
                                Finds("out_of_range", [1], feature=CLS_FREQ), multi_label=True),
    "labels_are_strings": case("classification", cls(noise(2), ["cat", "dog"]),
                               Raises(BatchFormatError, "`labels` must be numeric or bool, got list of 2 items (first: str)")),
    "labels_none": case("classification", cls(noise(2), None), Raises(BatchFormatError, "must be class ids")),
    "one_hot_wrong_width": case("classification", cls(noise(2), torch.zeros(2, 7)), Raises(BatchFormatError, "columns")),
    # zero-size images
    "zero_size_in_a_list": case("classification", lambda: [(
        [noise(1)[0], torch.zeros(3, 0, 8, dtype=torch.uint8), const(1, 10)[0], torch.zeros(3, 8, 0, dtype=torch.uint8)],
        ids(0, 1, 2, 0))],
        Finds("unreadable", [1, 3], severity="error"), Equals("image_resolution", "images", 2),
        Equals(BRIGHT, "share_dark_images", 0.5), Equals(CLS_FREQ, "images", 2), Equals("split_sizes", "samples", 4),
        Equals("duplicates", "duplicate_groups", 0)),
    "zero_size_batch": case("classification", lambda: [(const(2, 60), ids(0, 1)),
                                                       (torch.zeros(3, 3, 0, 5), ids(0, 1, 2))],
                            Finds("unreadable", [2, 3, 4]), Equals(BRIGHT, "mean_brightness", 60.0),
                            Equals(BRIGHT, "share_dark_images", 0.0)),
    # shapes and structures
    "two_channels": case("classification", cls(torch.zeros(2, 2, 8, 8), ids(0, 1)), Raises(BatchFormatError, "channels")),
    "five_channels": case("classification", cls(torch.zeros(2, 5, 8, 8), ids(0, 1)), Raises(BatchFormatError, "channels")),
    "one_d_images": case("classification", cls(torch.zeros(8), ids(0)), Raises(BatchFormatError, "rank")),
    "complex_images": case("classification", cls(np.zeros((2, 3, 8, 8), complex), ids(0, 1)),
                           Raises(BatchFormatError, "must hold numbers")),
    "batch_sizes_disagree": case("classification", lambda: [(noise(2), ids(0, 1)), (noise(3), ids(0, 1))],
                                 Raises(BatchFormatError, "train batch 1: images and labels disagree")),
    "empty_batch_in_between": case("classification", lambda: [(noise(4), ids(0, 1, 2, 0)),
                                                               (torch.zeros(0, 3, 8, 8), torch.zeros(0)),
                                                               (noise(4, seed=1), ids(0, 1, 2, 0))],
                                   Equals("split_sizes", "samples", 8), Equals(CLS_FREQ, "images", 8)),
    "string_batch": case("classification", lambda: ["not a batch"],
                         Raises(UnresolvedBatchError, "not an (images, labels) pair")),
    "nested_lists": case("classification", lambda: [([[noise(1)[0]]], [[0]])],
                         Raises(UnresolvedBatchError, "images_key=")),
    "none_batch": case("classification", lambda: [(noise(2), ids(0, 1)), None],
                       Raises(BatchFormatError, "train batch 1: the loader yielded None")),
    "tuple_then_dict": case("classification", lambda: [(noise(2), ids(0, 1)), {"image": noise(2), "label": ids(0, 1)}],
                            Raises(BatchFormatError, "the batch structure changed")),
    "loader_raises_at_batch_2": case("classification", lambda: raising_loader(
        [(noise(4), ids(0, 1, 2, 0)), (noise(4), ids(0, 1, 2, 0))], OSError("disk gone")),
        Raises(DataLoaderError, "the train loader raised at batch 2 (after 8 samples): OSError: disk gone", cause=OSError)),
    "labels_extractor_raises": case("classification", lambda: [{"x": noise(2), "y": ids(0, 1)}],
                                    Raises(DataLoaderError, "train batch 0 raised KeyError", cause=KeyError),
                                    images_extractor=lambda b: b["x"], labels_extractor=lambda b: b["label"]),
    # splits
    "empty_train": case("classification", lambda: [],
                        Finds("empty_split", None, feature="split_sizes", counts={"train": 1}, severity="error")),
    "used_up_generator_as_val": case("classification", lambda: (lambda g: {"train": g, "val": g})(
        x for x in [(noise(2), ids(0, 1))]),
        Finds("empty_split", None, feature="split_sizes", counts={"val": 1}, severity="warning"),
        Equals("split_sizes", "samples", 2)),
    # text
    "class_name_with_newline": case("classification", cls(noise(2), ids(0, 1)), Check(one_line_per_class),
                                    class_names=["bad\nname\t!", "b", "c"]),
    # bad arguments
    "num_classes_zero": case("classification", cls(noise(2), ids(0, 1)), Raises(ConfigurationError, "num_classes", partial=False),
                             num_classes=0),
}


def log_dir_is_a_file(tmp_path):
    path = tmp_path / "a_file"
    path.write_text("x")
    return path


# ----------------------------------------------------------------------------------- segmentation
def bilinear_masks():
    m = np.zeros((3, 8, 8), dtype=np.float32)
    m[0, :, 4:] = 2  # an edge: fractional values after the resize
    m[1] = 0  # nothing to interpolate: stays whole
    m[2, 2:6, 2:6] = 1
    resized = F.interpolate(torch.from_numpy(m)[:, None], size=(13, 13), mode="bilinear", align_corners=False)[:, 0]
    return [(noise(3, 13, 13), resized)]


def short_last_float_batch():
    first = masks(4, seed=1).float()
    last = torch.from_numpy(np.random.default_rng(2).integers(0, 2, (3, 8, 8))).float()  # 3 masks, values <= 1
    return [(noise(4), first), (noise(3), last)]


def short_last_pixels(report):
    first = masks(4, seed=1).numpy()
    last = np.random.default_rng(2).integers(0, 2, (3, 8, 8))
    assert class_pixels(report) == np.bincount(np.concatenate([first.ravel(), last.ravel()]), minlength=3).tolist()


def palette_mask(values):
    im = Image.fromarray(np.asarray(values, dtype=np.uint8), mode="L").convert("P")
    im.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255] + [0] * 759)
    return im


SEGMENTATION = {
    "float_masks_after_bilinear_resize": case("segmentation", bilinear_masks, Finds("non_integer_labels", [0, 2])),
    "float_id_masks_short_last_batch": case("segmentation", short_last_float_batch, Check(short_last_pixels),
                                            Equals("split_sizes", "samples", 7)),
    "float_one_hot_single_image": case("segmentation", lambda: [(noise(1), F.one_hot(masks(1)[0], 3).permute(2, 0, 1).float())],
                                       Check(lambda r: class_pixels(r) == np.bincount(masks(1).numpy().ravel(),
                                                                                      minlength=3).tolist())),
    "one_hot_NCHW": case("segmentation", lambda: [(noise(2), F.one_hot(masks(2), 3).permute(0, 3, 1, 2))],
                         Check(lambda r: class_pixels(r) == np.bincount(masks(2).numpy().ravel(), minlength=3).tolist())),
    "zero_size_batch": case("segmentation", lambda: [(noise(2), masks(2)),
                                                     (torch.zeros(2, 3, 0, 8), torch.zeros(2, 0, 8, dtype=torch.long))],
                            Finds("unreadable", [2, 3]), Equals("image_resolution", "images", 2),
                            Equals("data_quality", "empty_masks", 0), Equals("split_sizes", "samples", 4)),
    "zero_size_in_a_list": case("segmentation", lambda: [([noise(1)[0], torch.zeros(3, 0, 8)],
                                                          [masks(1)[0], torch.zeros(0, 8, dtype=torch.long)])],
                                Finds("unreadable", [1]), Equals("image_resolution", "images", 1)),
    "bool_masks": case("segmentation", lambda: [(noise(2), masks(2, classes=2) > 0)],
                       Check(lambda r: class_pixels(r) == np.bincount(masks(2, classes=2).numpy().ravel(),
                                                                      minlength=3).tolist())),
    "palette_masks_are_their_indices": case("segmentation", lambda: [([noise(1)[0]], [palette_mask(masks(1)[0])])],
                                            Check(lambda r: class_pixels(r) == np.bincount(masks(1).numpy().ravel(),
                                                                                           minlength=3).tolist())),
    "mask_of_another_size": case("segmentation", lambda: [(noise(2), masks(2, h=4, w=4))],
                                 Raises(BatchFormatError, "image and mask sizes disagree for sample 0")),
    "int64_huge_ids": case("segmentation", lambda: [(noise(2), torch.stack([masks(1)[0], torch.full((8, 8), 2 ** 40)]))],
                           Finds("out_of_range", [1]), Equals("data_quality", "out_of_range_pixels", 64)),
    "negative_ids": case("segmentation", lambda: [(noise(2), torch.stack([torch.full((8, 8), -3), masks(1)[0]]))],
                         Finds("out_of_range", [0])),
    "nan_masks": case("segmentation", lambda: [(noise(2), torch.stack([torch.full((8, 8), float("nan")), masks(1)[0].float()]))],
                      Finds("out_of_range", [0])),
    "inf_masks": case("segmentation", lambda: [(noise(2), torch.stack([masks(1)[0].float(), torch.full((8, 8), float("inf"))]))],
                      Finds("out_of_range", [1]), Equals("data_quality", "out_of_range_pixels", 64)),
    "rank_5_masks": case("segmentation", lambda: [(noise(2), torch.zeros(2, 1, 1, 8, 8))], Raises(BatchFormatError, "rank")),
    "complex_masks": case("segmentation", lambda: [(noise(2), np.zeros((2, 8, 8), complex))],
                          Raises(BatchFormatError, "masks must hold class ids")),
    "more_masks_than_images": case("segmentation", lambda: [(noise(2), masks(3))],
                                   Raises(BatchFormatError, "disagree on the batch size")),
    "mixed_8_and_16_bit_images": case("segmentation", lambda: [([const(1, 20)[0], const(1, 20 * 257, dtype=np.uint16)[0]],
                                                                masks(2))],
                                      Equals(BRIGHT, "mean_brightness", 20.0)),
    "empty_batch_in_between": case("segmentation", lambda: [(noise(2), masks(2)), (torch.zeros(0, 3, 8, 8), torch.zeros(0, 8, 8)),
                                                            (noise(2), masks(2))],
                                   Equals("split_sizes", "samples", 4)),
    "none_batch": case("segmentation", lambda: [(noise(2), masks(2)), None],
                       Raises(BatchFormatError, "train batch 1: the loader yielded None")),
    "loader_raises_at_batch_1": case("segmentation", lambda: raising_loader([(noise(4), masks(4))], ValueError("bad file")),
                                     Raises(DataLoaderError, "the train loader raised at batch 1 (after 4 samples)",
                                            cause=ValueError)),
    "log_dir_is_a_file": case("segmentation", lambda: [(noise(2), masks(2))],
                              Raises(ConfigurationError, "is a file", partial=False)),
    "log_dir_under_a_file": case("segmentation", lambda: [(noise(2), masks(2))],
                                 Raises(ConfigurationError, "cannot be used", partial=False)),
}


# -------------------------------------------------------------------------------------- detection
def det(images, *per_image):
    return lambda: [(images, list(per_image))]


NORMALISED = boxes([0, 0.1, 0.1, 0.5, 0.5])
PIXELS = boxes([1, 4, 4, 20, 24])
TB = {"writers": [TxtWriter(), JsonWriter(), TensorBoardWriter()], "samples_to_visualize": 4}

DETECTION = {
    "normalised_boxes_declared_pixels": case("detection", det(noise(2, 64, 64), NORMALISED, NORMALISED),
                                             Finds("looks_normalised", [0, 1], feature=BOXQ, severity="warning"),
                                             Equals("detection_box_counts", "boxes", 2)),
    "pixel_boxes_declared_normalised": case("detection", det(noise(2, 64, 64), PIXELS, NORMALISED),
                                            Finds("looks_pixels", [0], feature=BOXQ),
                                            Finds("fully_outside", [0], feature=BOXQ), normalized_boxes=True),
    "normalised_batch_after_inferred_pixels": case("detection", lambda: [
        (noise(2, 64, 64), [PIXELS, PIXELS]), (noise(2, 64, 64), [PIXELS, NORMALISED])],
        Finds("looks_normalised", [3], feature=BOXQ), normalized_boxes=None),
    "zero_size_batch_with_tensorboard": case("detection", lambda: [
        (noise(2, 32, 32), [PIXELS, PIXELS]), (torch.zeros(2, 3, 0, 8, dtype=torch.uint8), [PIXELS, PIXELS])],
        Finds("unreadable", [2, 3]), Equals("detection_box_counts", "boxes", 2),
        Equals("duplicates", "duplicate_groups", 0), Equals(BRIGHT, "share_dark_images", 0.0), **TB),
    "zero_size_in_a_list": case("detection", lambda: [([noise(1, 32, 32)[0], torch.zeros(3, 8, 0)], [PIXELS, PIXELS])],
                                Finds("unreadable", [1]), Equals("detection_box_counts", "boxes", 1),
                                Equals("detection_box_counts", "images", 1), **TB),
    "zero_size_first_batch_inferred_scale": case("detection", lambda: [
        ([torch.zeros(3, 0, 8), noise(1, 32, 32)[0]], [PIXELS, PIXELS])],
        Finds("unreadable", [0]), Equals("detection_box_counts", "boxes", 1), normalized_boxes=None),
    "x2_before_x1": case("detection", det(noise(2, 32, 32), boxes([0, 20, 4, 10, 24]), PIXELS),
                         Finds("degenerate", [0], feature=BOXQ), Equals("detection_box_counts", "boxes", 1)),
    "nan_box": case("detection", det(noise(2, 32, 32), PIXELS, boxes([0, float("nan"), 4, 10, 24])),
                    Finds("nonfinite", [1], feature=BOXQ)),
    "inf_box": case("detection", det(noise(2, 32, 32), boxes([0, 1, 1, float("inf"), 5]), PIXELS),
                    Finds("nonfinite", [0], feature=BOXQ)),
    "negative_class": case("detection", det(noise(2, 32, 32), boxes([-3, 1, 1, 5, 5]), PIXELS),
                           Finds("class_out_of_range", [0], feature=BOXQ)),
    "fractional_class": case("detection", det(noise(2, 32, 32), PIXELS, boxes([1.5, 1, 1, 5, 5])),
                             Finds("class_out_of_range", [1], feature=BOXQ)),
    "box_fully_outside": case("detection", det(noise(2, 32, 32), boxes([0, 40, 40, 50, 50]), PIXELS),
                              Finds("fully_outside", [0], feature=BOXQ)),
    "mixed_8_and_16_bit_images": case("detection", det([const(1, 30)[0], const(1, 30 * 257, dtype=np.uint16)[0]],
                                                       PIXELS, PIXELS), Equals(BRIGHT, "mean_brightness", 30.0)),
    "dict_labels_with_strings": case("detection", det(noise(2), {"boxes": "a", "labels": "b"}, {"boxes": "a", "labels": "b"}),
                                     Raises(BatchFormatError, "not a table of numbers")),
    "four_columns": case("detection", det(noise(2), torch.zeros(1, 4), torch.zeros(1, 4)), Raises(BatchFormatError, "(n, 5)")),
    "padded_with_four_columns": case("detection", lambda: [(noise(2), torch.ones(2, 3, 4))],
                                     Raises(BatchFormatError, "(N, max_boxes, 5)")),
    "more_labels_than_images": case("detection", det(noise(2), PIXELS, PIXELS, PIXELS),
                                    Raises(BatchFormatError, "disagree on the batch size")),
    "batch_dict_lists_disagree": case("detection", lambda: [(noise(2), {"boxes": [PIXELS[:, 1:]] * 2, "labels": [PIXELS[:, 0]]})],
                                      Raises(BatchFormatError, "as many")),
    "complex_boxes": case("detection", det(noise(2), np.zeros((1, 5), complex), np.zeros((1, 5), complex)),
                          Raises(BatchFormatError, "not a table of numbers")),
    "none_batch": case("detection", lambda: [(noise(2, 32, 32), [PIXELS, PIXELS]), None],
                       Raises(BatchFormatError, "the loader yielded None")),
    "loader_raises_at_batch_1": case("detection", lambda: raising_loader([(noise(2, 32, 32), [PIXELS, PIXELS])],
                                                                         RuntimeError("worker died")),
                                     Raises(DataLoaderError, "the train loader raised at batch 1 (after 2 samples)",
                                            cause=RuntimeError)),
    "empty_batch_in_between": case("detection", lambda: [(noise(2, 32, 32), [PIXELS, PIXELS]), (torch.zeros(0, 3, 32, 32), []),
                                                         (noise(2, 32, 32), [PIXELS, PIXELS])],
                                   Equals("split_sizes", "samples", 4), Equals("detection_box_counts", "boxes", 4)),
    "bbox_format_unknown": case("detection", det(noise(2), PIXELS, PIXELS),
                                Raises(ConfigurationError, "bbox_format", partial=False), bbox_format="xyxyxy"),
}

CASES = {**{f"classification-{k}": v for k, v in CLASSIFICATION.items()},
         **{f"segmentation-{k}": v for k, v in SEGMENTATION.items()},
         **{f"detection-{k}": v for k, v in DETECTION.items()}}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input(name, tmp_path):
    c = CASES[name]
    if name.endswith("log_dir_is_a_file"):
        c.kwargs["log_dir"] = log_dir_is_a_file(tmp_path)
    elif name.endswith("log_dir_under_a_file"):
        c.kwargs["log_dir"] = log_dir_is_a_file(tmp_path) / "below"
    run_case(c, tmp_path)


def test_there_are_at_least_60_cases_over_the_three_tasks():
    assert len(CASES) >= 60
    assert all(sum(k.startswith(t) for k in CASES) >= 15 for t in ("classification", "segmentation", "detection"))
