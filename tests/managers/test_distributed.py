"""torch.distributed: two gloo processes on 127.0.0.1 give one report, identical to one process."""
from __future__ import annotations

import pickle
import time

import pytest
import torch.distributed
import torch.multiprocessing as mp
from conftest import free_port, isclose_tree
from distributed_helpers import FAIL_AT, N_SAMPLES, rank_main, report_tree, run_task

from data_gradients import SegmentationAnalysisManager
from data_gradients.errors import ConfigurationError

SCENARIOS = ("segmentation", "detection", "classification", "loader_fails", "interrupted", "dict_without_terminal",
             "dict_answer_from_rank_0")  # in this order: the last one stores an answer on rank 0
DEADLINE_S = 240



@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    """Both ranks' outcomes of every scenario, run once in one process group."""
    out_dir = tmp_path_factory.mktemp("dist")
    ctx = mp.start_processes(rank_main, args=(2, free_port(), str(out_dir), SCENARIOS), nprocs=2, join=False,
                             start_method="spawn")
    deadline = time.monotonic() + DEADLINE_S
    try:
        while not ctx.join(timeout=5):
            assert time.monotonic() < deadline, f"the two ranks did not finish within {DEADLINE_S} s"
    finally:
        for p in ctx.processes:
            if p.is_alive():
                p.kill()
    return [pickle.loads((out_dir / f"rank{r}.pkl").read_bytes()) for r in range(2)], out_dir


@pytest.mark.parametrize("task", ["segmentation", "detection", "classification"])
def test_two_ranks_equal_one_process(task, outcomes, tmp_path):
    (rank0, rank1), _ = outcomes
    assert rank0[task][0] == "ok", rank0[task]
    assert rank1[task][0] == "ok", rank1[task]
    tree0, outputs0 = rank0[task][1]
    tree1, outputs1 = rank1[task][1]
    single = report_tree(run_task(task, tmp_path, distributed=False))
    assert single["splits"]["train"] == (N_SAMPLES, 6, True)
    assert tree0["splits"]["train"][0] == N_SAMPLES  # rank 1's padding repeat is not counted
    assert tree0["splits"]["train"][1] == 6  # 3 batches per rank
    single["splits"] = tree0["splits"] = tree1["splits"] = None  # batch counts differ by design
    # so does the order: the ranks' DistributedSampler shuffles, the one-process loader does not
    single["stream_order"] = tree0["stream_order"] = tree1["stream_order"] = None
    for tree in (single, tree0, tree1):  # every value along the stream, too; the split's numbers stay
        for feature in tree.values():
            if not isinstance(feature, dict):
                continue
            feature["series"] = None
            for h in feature.get("histograms", []):
                h["stream_steps"] = h["stream_counts"] = None
    isclose_tree(single, tree0, rel=1e-9)
    isclose_tree(tree0, tree1, rel=0)
    assert outputs0 == outputs1 and any(p.endswith("summary.json") for p in outputs0)


def test_findings_hold_dataset_indices(outcomes, tmp_path):
    (rank0, _), _ = outcomes
    tree = rank0["segmentation"][1][0]
    ids = [i for f in tree["data_quality"]["findings"] for i in f["sample_ids"].get("train", [])]
    assert {7, 13} <= set(ids)  # the demo corrupts these: a label out of range (7), NaN pixels (13)


def test_only_rank_0_writes(outcomes):
    (rank0, _), out_dir = outcomes
    runs = list((out_dir / "logs" / "segmentation").glob("*/*"))
    assert len(runs) == 1 and (runs[0] / "summary.json").exists()


def test_a_failing_loader_fails_every_rank_naming_rank_and_batch(outcomes):
    (rank0, rank1), out_dir = outcomes
    assert rank1["loader_fails"][:2] == ("error", "DataLoaderError")
    assert f"cannot read sample {FAIL_AT}" in rank1["loader_fails"][3]  # the user's exception is chained
    assert rank0["loader_fails"][:2] == ("error", "DistributedError")
    message = rank0["loader_fails"][2]
    assert "rank 1" in message and "the train loader raised at batch" in message
    partial = list((out_dir / "logs" / "loader_fails").glob("*/*/summary.json"))
    assert len(partial) == 1 and "rank 1" in partial[0].read_text()


def test_ctrl_c_on_one_rank_gives_a_partial_report_on_every_rank(outcomes):
    (rank0, rank1), _ = outcomes
    assert rank0["interrupted"][0] == "ok" and rank1["interrupted"] == rank0["interrupted"]
    tree = rank0["interrupted"][1]
    assert "rank 1: interrupted (Ctrl-C)" in tree["partial_reason"]
    samples, _, complete = tree["splits"]["train"]
    assert not complete and samples < N_SAMPLES


def test_the_resolver_answer_of_rank_0_reaches_every_rank(outcomes):
    (rank0, rank1), _ = outcomes
    assert rank0["dict_answer_from_rank_0"][0] == "ok", rank0["dict_answer_from_rank_0"]
    assert rank1["dict_answer_from_rank_0"] == rank0["dict_answer_from_rank_0"]
    assert rank0["dict_answer_from_rank_0"][1]["splits"]["train"][0] == N_SAMPLES


def test_dict_batches_without_a_terminal_fail_on_every_rank(outcomes):
    (rank0, rank1), _ = outcomes
    for outcome in (rank0["dict_without_terminal"], rank1["dict_without_terminal"]):
        assert outcome[:2] == ("error", "UnresolvedBatchError"), outcome
        assert "standard input is not a terminal" in outcome[2]


def test_distributed_true_needs_a_process_group(tmp_path):
    assert not torch.distributed.is_initialized()
    with pytest.raises(ConfigurationError, match="`distributed=True` needs an initialised torch.distributed"):
        SegmentationAnalysisManager([], num_classes=2, distributed=True, log_dir=tmp_path)


@pytest.mark.parametrize("bad, message", [("yes", "`distributed` must be None, True or False"),
                                          (0, "`timeout` must be a positive number of seconds")])
def test_bad_distributed_arguments(bad, message, tmp_path):
    kw = {"distributed": bad} if message.startswith("`distributed`") else {"timeout": bad}
    with pytest.raises(ConfigurationError, match=message):
        SegmentationAnalysisManager([], num_classes=2, log_dir=tmp_path, **kw)
