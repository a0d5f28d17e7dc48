"""The demo entry point runs every task and says where the outputs are."""
from data_gradients.demo.__main__ import main


def test_demo_runs_all_tasks_and_prints_outputs(tmp_path, capsys):
    assert main(["--log-dir", str(tmp_path), "--train", "16", "--val", "8", "--samples", "2"]) == 0
    out = capsys.readouterr().out
    for task in ("segmentation", "detection", "classification"):
        assert task in out
    assert "--logdir" in out and str(tmp_path) in out
    assert "from files" in out and (tmp_path / "demo_dataset" / "annotations" / "instances_train.json").is_file()
    assert len(list(tmp_path.glob("*/*/summary.json"))) == 4
