"""Analyse one dataset from a torch.distributed job: every rank reads its shard, rank 0 writes the report.

Run on CPU, two processes on this machine (gloo):

    torchrun --standalone --nproc_per_node 2 examples/distributed_demo.py [--log-dir logs] [--train 400]

Each rank builds the usual DataLoader with a DistributedSampler, exactly as a DDP training
script does, and calls the same ``run()``. The extractor states are gathered to rank 0 and
merged; rank 0 writes TensorBoard, TXT, JSON and the PDF once, and every rank gets the same
report back. Sample ids in the report are dataset indices, and the samples the
DistributedSampler repeats to even out the shards are counted once.
"""
import argparse

import torch.distributed as dist
from torch.utils.data import DataLoader
from torch.utils.data.distributed import DistributedSampler

from data_gradients import SegmentationAnalysisManager
from data_gradients.demo.datasets import DEMO_CLASS_NAMES, SyntheticSegmentationDataset


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--log-dir", default="logs")
    parser.add_argument("--train", type=int, default=400, help="train images")
    parser.add_argument("--val", type=int, default=100, help="val images")
    args = parser.parse_args(argv)

    dist.init_process_group("gloo")  # torchrun sets RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT
    loaders = []
    for split, n in (("train", args.train), ("val", args.val)):
        dataset = SyntheticSegmentationDataset(n, split=split, image_format="chw_uint8", corrupt=True)
        loaders.append(DataLoader(dataset, batch_size=8, sampler=DistributedSampler(dataset, shuffle=True)))
    report = SegmentationAnalysisManager(
        train_data=loaders[0],
        val_data=loaders[1],
        num_classes=len(DEMO_CLASS_NAMES),
        class_names=DEMO_CLASS_NAMES,
        ignore_labels=[0],
        log_dir=args.log_dir,
        report_title="Distributed segmentation demo",
    ).run()  # the same call on every rank
    rank = dist.get_rank()
    print(f"rank {rank}: {report.splits['train'].samples} train samples in the merged report; "
          + ("outputs: " + ", ".join(str(p) for p in report.outputs.values()) if rank == 0 else "rank 0 wrote it"))
    dist.destroy_process_group()
    return report


if __name__ == "__main__":
    main()
