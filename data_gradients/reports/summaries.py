"""The TensorBoard summaries the writer needs, built from TensorBoard's protocol buffers.

They are the summaries ``torch.utils.tensorboard.summary`` builds (``text``, ``histogram_raw``,
and the session records of ``hparams``), byte for byte (a test compares them), without
importing it: that import loads most of TensorBoard (~0.13 s, in every run's writing time),
these protocol buffers ~0.02 s.
"""
from __future__ import annotations

from typing import Dict, Sequence, Tuple, Union

HPARAMS_PLUGIN = "hparams"  # tensorboard.plugins.hparams.metadata, whose import alone takes ~0.09 s
HPARAMS_VERSION = 0
SESSION_START_TAG = "_hparams_/session_start_info"
SESSION_END_TAG = "_hparams_/session_end_info"


def text_summary(tag: str, text: str):
    """A text card (``<tag>/text_summary``), as ``torch.utils.tensorboard.summary.text`` makes it."""
    from tensorboard.compat.proto.summary_pb2 import Summary, SummaryMetadata
    from tensorboard.compat.proto.tensor_pb2 import TensorProto
    from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto
    from tensorboard.plugins.text.plugin_data_pb2 import TextPluginData

    metadata = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(
        plugin_name="text", content=TextPluginData(version=0).SerializeToString()))
    tensor = TensorProto(dtype="DT_STRING", string_val=[text.encode("utf_8")],
                         tensor_shape=TensorShapeProto(dim=[TensorShapeProto.Dim(size=1)]))
    return Summary(value=[Summary.Value(tag=tag + "/text_summary", metadata=metadata, tensor=tensor)])


def histogram_summary(tag: str, *, min: float, max: float, num: float, sum: float, sum_squares: float,
                      bucket_limits: Sequence[float], bucket_counts: Sequence[float]):
    """A histogram of given buckets, as ``torch.utils.tensorboard.summary.histogram_raw`` makes it."""
    from tensorboard.compat.proto.summary_pb2 import HistogramProto, Summary

    histogram = HistogramProto(min=min, max=max, num=num, sum=sum, sum_squares=sum_squares,
                               bucket_limit=bucket_limits, bucket=bucket_counts)
    return Summary(value=[Summary.Value(tag=tag, histo=histogram)])


def hparams_session(hparams: Dict[str, Union[bool, int, float, str]]) -> Tuple[object, object]:
    """The session start (its hparams) and end (success) records that ``torch.utils.tensorboard.summary.
    hparams(hparams, {})`` returns after its experiment record. As there, a bool is a number."""
    from tensorboard.compat.proto.summary_pb2 import Summary, SummaryMetadata
    from tensorboard.plugins.hparams.api_pb2 import Status
    from tensorboard.plugins.hparams.plugin_data_pb2 import HParamsPluginData, SessionEndInfo, SessionStartInfo

    start = SessionStartInfo()
    for key, value in hparams.items():
        if value is None:
            continue
        if isinstance(value, (int, float)):
            start.hparams[key].number_value = value
        elif isinstance(value, str):
            start.hparams[key].string_value = value
        else:
            raise ValueError(f"hparam {key!r} must be an int, float, str or bool, got {value!r}")

    def record(tag: str, content) -> Summary:
        metadata = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(
            plugin_name=HPARAMS_PLUGIN, content=content.SerializeToString()))
        return Summary(value=[Summary.Value(tag=tag, metadata=metadata)])

    end = SessionEndInfo(status=Status.Value("STATUS_SUCCESS"))
    return (record(SESSION_START_TAG, HParamsPluginData(session_start_info=start, version=HPARAMS_VERSION)),
            record(SESSION_END_TAG, HParamsPluginData(session_end_info=end, version=HPARAMS_VERSION)))
