"""Subsampling as a view: which rows to use, never a rewrite of the file.

A preset says `train_samples = 5000` or `train_fraction = 0.8` plus a seed, and the same rows
are chosen every time, by the console, the cost model and the trainer alike: training on less
data never means deleting rows from the file.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass


def subsample_indices(total: int, count: int = 0, fraction: float = 1.0, seed: int = 42) -> list[int]:
    """Sorted indices of the rows to keep: `count` rows when count > 0, else round(fraction*total).

    Deterministic for a given (total, count, fraction, seed); the original order is kept so a
    view of a view is still in file order.
    """
    keep = min(count, total) if count > 0 else round(total * fraction)
    if keep >= total:
        return list(range(total))
    return sorted(random.Random(seed).sample(range(total), keep))


def rows_for(total: int, count: int, fraction: float) -> int:
    """How many rows a view of a file with `total` rows keeps (what the cost model prices)."""
    return min(count, total) if count > 0 else min(total, round(total * fraction))


def quantile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated quantile (numpy's default method), standard library only."""
    if not values:
        return 0.0
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


@dataclass(frozen=True)
class LengthStats:
    """Distribution of one length (characters or tokens) over a set of rows."""

    count: int
    mean: float
    p50: float
    p90: float
    p99: float
    max: float

    @classmethod
    def of(cls, values: Sequence[float]) -> LengthStats:
        if not values:
            return cls(0, 0.0, 0.0, 0.0, 0.0, 0.0)
        return cls(
            count=len(values),
            mean=sum(values) / len(values),
            p50=quantile(values, 0.5),
            p90=quantile(values, 0.9),
            p99=quantile(values, 0.99),
            max=float(max(values)),
        )

    def as_dict(self) -> dict[str, float]:
        return {"count": self.count, "mean": self.mean, "p50": self.p50, "p90": self.p90, "p99": self.p99, "max": self.max}
