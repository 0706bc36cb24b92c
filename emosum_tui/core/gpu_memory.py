"""When GPU memory counts as full, and how much of it a plan may be sized to take.

The preflight checks (before a run) and the live rules (during one) share these, so a card
that one calls full the other calls full too.
"""

from __future__ import annotations

VRAM_FULL = 0.95  # share of VRAM that counts as full: past it Windows drivers spill into system RAM
VRAM_HEADROOM = 0.8  # share of VRAM a larger micro-batch may be planned to reach (activations vary by batch)


def vram_full(used: int | None, total: int | None) -> bool:
    """True when `used` of `total` bytes is at or past VRAM_FULL; False when either is unknown."""
    return bool(used and total and used / total >= VRAM_FULL)
