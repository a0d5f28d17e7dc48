import pytest

from data_gradients.context import AnalysisContext
from data_gradients.errors import ConfigurationError
from data_gradients.thresholds import declare, declared, resolve_thresholds, threshold


def test_declared_defaults_are_in_force_without_user_values():
    name = declare("test_only_limit", 0.25, "a limit used by this test")
    values = dict(resolve_thresholds(None))
    assert values[name] == 0.25
    assert set(values) == set(declared())


def test_user_value_overrides_the_default_and_reaches_the_context():
    declare("test_only_limit", 0.25, "a limit used by this test")
    pairs = resolve_thresholds({"test_only_limit": 0.5})
    ctx = AnalysisContext(task="segmentation", num_classes=2, class_ids=(0, 1), thresholds=pairs)
    assert threshold(ctx, "test_only_limit") == 0.5
    assert threshold(AnalysisContext(task="segmentation", num_classes=2, class_ids=(0, 1)), "test_only_limit") == 0.25


def test_unknown_name_is_an_error_listing_the_valid_names():
    declare("test_only_limit", 0.25, "a limit used by this test")
    with pytest.raises(ConfigurationError, match="valid names: .*test_only_limit"):
        resolve_thresholds({"no_such_limit": 1})


@pytest.mark.parametrize("value", ["0.1", None, True, float("nan")])
def test_non_numbers_are_rejected(value):
    declare("test_only_limit", 0.25, "a limit used by this test")
    with pytest.raises(ConfigurationError, match="test_only_limit"):
        resolve_thresholds({"test_only_limit": value})


def test_range_is_checked():
    declare("test_only_share", 0.5, "a share used by this test", minimum=0, maximum=1)
    with pytest.raises(ConfigurationError, match=r"\[0, 1\]"):
        resolve_thresholds({"test_only_share": 1.5})


def test_conflicting_declarations_are_refused():
    declare("test_only_limit", 0.25, "a limit used by this test")
    with pytest.raises(ValueError):
        declare("test_only_limit", 0.3, "a limit used by this test")


def test_manager_rejects_unknown_threshold():
    from data_gradients import SegmentationAnalysisManager

    with pytest.raises(ConfigurationError, match="unknown threshold"):
        SegmentationAnalysisManager(train_data=[], num_classes=2, thresholds={"nope": 1}, verbose=False)
