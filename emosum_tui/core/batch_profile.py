"""The mean cost of one micro-batch, from real token lengths padded the way the Trainer pads.

`DataCollatorForSeq2Seq` pads each batch to its longest row, so the cost of a run depends on
which rows share a batch: batches are drawn (seeded) as the Trainer's sampler draws them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from emosum_tui.core.model_flops import forward_flops, train_flops
from emosum_tui.core.model_shapes import ModelShape

# transformers' LengthGroupedSampler sorts mega-batches of this many batches by length.
LENGTH_GROUP_BATCHES = 50


@dataclass(frozen=True)
class BatchProfile:
    """Mean cost of one micro-batch, averaged over batches drawn like the Trainer draws them."""

    batch: int
    source: float  # mean padded source length (DataCollatorForSeq2Seq pads to the longest row)
    target: float
    tokens: float  # mean non-padding tokens per batch
    forward_flops: float
    train_flops: float
    peak_source: int  # the longest row: the batch that sets peak memory
    peak_target: int


def _draw_batches(rows: list[tuple[int, int]], batch: int, group_by_length: bool, seed: int,
                  draws: int) -> list[list[tuple[int, int]]]:
    """`draws` full batches from seeded shuffles of the rows, as the random sampler makes them."""
    rng = random.Random(seed)
    batches: list[list[tuple[int, int]]] = []
    while len(batches) < draws:
        order = list(rows)
        rng.shuffle(order)
        if group_by_length:
            mega = LENGTH_GROUP_BATCHES * batch
            order = [r for i in range(0, len(order), mega) for r in sorted(order[i:i + mega], key=sum, reverse=True)]
        batches += [order[i:i + batch] for i in range(0, len(order), batch) if len(order[i:i + batch]) == min(batch, len(rows))]
    return batches[:draws]


def batch_profile(shape: ModelShape, rows: list[tuple[int, int]], batch: int, checkpointing: bool = False,
                  group_by_length: bool = False, seed: int = 42, draws: int = 600) -> BatchProfile:
    """Shuffle the rows (seeded, as the Trainer's random sampler does), cut them into batches,
    pad each to its longest row, and average the cost. `group_by_length` sorts mega-batches
    by length first, as transformers' LengthGroupedSampler does."""
    if not rows:
        rows = [(1, 1)]
    batches = _draw_batches(rows, batch, group_by_length, seed, draws)
    fwd = tr = src = tgt = tok = 0.0
    for group in batches:
        s = max(r[0] for r in group)
        t = max(r[1] for r in group)
        n = len(group)
        src += s
        tgt += t
        tok += sum(a + b for a, b in group)
        fwd += forward_flops(shape, n, s, t)
        tr += train_flops(shape, n, s, t, checkpointing)
    k = len(batches)
    return BatchProfile(batch, src / k, tgt / k, tok / k, fwd / k, tr / k, max(r[0] for r in rows), max(r[1] for r in rows))
