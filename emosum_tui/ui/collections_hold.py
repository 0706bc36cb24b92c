"""Keep a loaded run's objects out of Python's garbage collections while its screen is open.

What is alive once a run's history is read (modules, widgets, the history's events and points)
lives as long as the screen: scanning it again and again in full collections, and in young
collections every 700 allocations, takes CPU from the trainer. `hold()` freezes it and collects
the young generation every GC_YOUNG allocations; `release()` gives both back.
"""

from __future__ import annotations

import gc

GC_YOUNG = 7_000  # allocations between collections of Python's young objects while held (Python's default: 700)


class CollectionsHold:
    """`hold()` once the history is loaded, `release()` when the screen closes (no leak per visit)."""

    def __init__(self) -> None:
        self.threshold: tuple[int, ...] | None = None  # Python's own, while ours is set

    def hold(self) -> None:
        if self.threshold is not None:
            return
        self.threshold = gc.get_threshold()
        gc.freeze()
        gc.set_threshold(GC_YOUNG, *self.threshold[1:])

    def release(self) -> None:
        if self.threshold is None:
            return
        gc.unfreeze()
        gc.set_threshold(*self.threshold)
        self.threshold = None
