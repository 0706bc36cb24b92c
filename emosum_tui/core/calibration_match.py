"""Which cached calibration answers for a preset: the same speed, not the same file.

A calibration times micro-batches of one shape on this machine; the cost model then rescales it
to a preset's own padding by FLOPs and composes `grad_accum x micro-batch + update`. So what a
calibration must share with the preset is what changes the speed of a micro-batch: the model
shape, micro-batch, optimizer, precision, checkpointing and speed switches, the eval batch and
whether eval generates. What does not change it is left out of the match: the learning rate,
seed, epochs, row count, grad-accum, and the exact rows drawn (a recount of the same data with
the real tokenizer, or a subsample, draws other rows of about the same lengths). Lengths are
matched loosely instead: the nearest calibration whose mean source and target lengths are each
within `LENGTH_TOLERANCE` of the preset's.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from emosum_tui.core.calibration import CalibrationSpec

# Fields of a CalibrationSpec that do not change the speed of a micro-batch (or are matched loosely).
SPEED_NEUTRAL = ("micro_batches", "warmup", "budget_seconds", "learning_rate", "seed", "rows", "eval_rows", "grad_accum")
LENGTH_TOLERANCE = 1.5  # a mean length within x1.5 either way: the FLOPs rescaling covers the rest
SPEED_KEY = "speed_key"  # stored beside a cached calibration
MEAN_LENGTHS = "mean_lengths"


def speed_key(spec: CalibrationSpec) -> str:
    """A digest of what makes a micro-batch of this spec as fast as it is."""
    body = asdict(spec)
    for name in SPEED_NEUTRAL:
        body.pop(name, None)
    body["generate_tokens"] = bool(body.get("generate_tokens"))  # generate or not; the count is priced per token
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]


def mean_lengths(rows: list[tuple[int, int]]) -> tuple[float, float]:
    if not rows:
        return 0.0, 0.0
    return sum(r[0] for r in rows) / len(rows), sum(r[1] for r in rows) / len(rows)


def match_fields(spec: CalibrationSpec) -> dict[str, Any]:
    """What is stored with a calibration so a later preset can be matched to it."""
    return {SPEED_KEY: speed_key(spec), MEAN_LENGTHS: list(mean_lengths(spec.rows))}


def _distance(wanted: tuple[float, float], stored: Any) -> float | None:
    """Log-distance of mean lengths; None when outside the tolerance (or not recorded)."""
    if not (isinstance(stored, list) and len(stored) == 2):
        return None
    total = 0.0
    for a, b in zip(wanted, stored, strict=True):
        if a <= 0 or not isinstance(b, (int, float)) or b <= 0:
            return None
        gap = abs(math.log(a / b))
        if gap > math.log(LENGTH_TOLERANCE):
            return None
        total += gap
    return total


def nearest(entries: dict[str, Any], prefix: str, spec: CalibrationSpec) -> dict[str, Any] | None:
    """The cached calibration (under keys starting with `prefix`: this machine) of the same speed
    key and the nearest mean lengths within tolerance; None when there is none."""
    key, wanted = speed_key(spec), mean_lengths(spec.rows)
    best: tuple[float, dict[str, Any]] | None = None
    for name, body in entries.items():
        if not name.startswith(prefix) or not isinstance(body, dict) or body.get(SPEED_KEY) != key:
            continue
        distance = _distance(wanted, body.get(MEAN_LENGTHS))
        if distance is not None and (best is None or distance < best[0]):
            best = (distance, body)
    return best[1] if best else None
