"""Exception tree of data_gradients.

Every error says what was wrong, what was expected and what arrived, naming the
argument when there is one.
"""


class DataGradientsError(Exception):
    """Base class of every error raised by data_gradients."""


class ConfigurationError(DataGradientsError, ValueError):
    """A manager argument is invalid (wrong type, out of range, contradictory)."""


class BatchFormatError(DataGradientsError, ValueError):
    """A batch from the loader cannot be understood (wrong rank, sizes that disagree...)."""


class UnresolvedBatchError(BatchFormatError):
    """A batch is a structure (e.g. a dict) whose images/labels items are unknown."""


class FeatureRegistryError(DataGradientsError, KeyError):
    """A feature extractor name is unknown or registered twice."""

    def __str__(self) -> str:  # KeyError quotes its message; we want plain text
        return str(self.args[0]) if self.args else ""


class FeatureComputationError(DataGradientsError, RuntimeError):
    """A feature extractor failed while updating or computing."""


class DataLoaderError(DataGradientsError, RuntimeError):
    """The user's loader, or an extractor callable, raised while a split was read (chained)."""


class DistributedError(DataGradientsError, RuntimeError):
    """Another rank of a torch.distributed analysis failed, or did not answer in time."""
