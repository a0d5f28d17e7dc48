"""How sample ids are written: a dataset index or stream position, or ``rank:position``.

On a torch.distributed rank, a sample of a loader that does not tell dataset indices gets
the id ``(rank + 1) << RANK_SHIFT`` plus its position in that rank's stream; every output
writes it as ``rank:position``.
"""
from __future__ import annotations

RANK_SHIFT = 40  # positions below 2**40 (a trillion samples per rank)
POSITION_MASK = (1 << RANK_SHIFT) - 1


def rank_position_id(rank: int, position: int) -> int:
    """The id of the sample at ``position`` of rank ``rank``'s stream."""
    return ((int(rank) + 1) << RANK_SHIFT) + int(position)


def format_sample_id(sample_id: int) -> str:
    """``"123"`` for a dataset index or a position in one process, ``"1:123"`` for a position on rank 1."""
    sample_id = int(sample_id)
    if sample_id >> RANK_SHIFT:
        return f"{(sample_id >> RANK_SHIFT) - 1}:{sample_id & POSITION_MASK}"
    return str(sample_id)


def sample_id_cell(sample_id: int):
    """A table cell for a sample id: the int itself, or the ``rank:position`` text."""
    sample_id = int(sample_id)
    return format_sample_id(sample_id) if sample_id >> RANK_SHIFT else sample_id
