"""Optimizer steps, evaluations and checkpoint saves, counted exactly as transformers' Trainer counts them.

A run's cost is these counts times a unit cost, so an off-by-one here is an error in every figure.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from emosum_tui.core.presets import Preset


def optimizer_steps(rows: int, batch_size: int, grad_accum: int, epochs: float, drop_last: bool = False, max_steps: int = -1) -> int:
    """Optimizer steps of a Trainer run (transformers 5 `Trainer.set_initial_training_values`).

    The dataloader has ceil(rows / batch) micro-batches (floor with `dataloader_drop_last`);
    an epoch has ceil(batches / grad_accum) optimizer steps, the last one taking the partial
    accumulation; the run has ceil(epochs x steps per epoch) of them unless max_steps > 0.
    """
    if max_steps > 0:
        return max_steps
    batches = rows // batch_size if drop_last else math.ceil(rows / batch_size)
    per_epoch = max(batches // grad_accum + int(batches % grad_accum > 0), 1)
    return math.ceil(epochs * per_epoch)


def evaluations(preset: Preset, steps: int) -> int:
    """How many times the Trainer evaluates: every `eval.steps` plus once at the end when the
    last step is not a multiple (transformers 5 DefaultFlowCallback), or once per epoch."""
    strategy = preset["eval.strategy"]
    if strategy == "no":
        return 0
    if strategy == "epoch":
        return math.ceil(preset["train.epochs"])
    return math.ceil(steps / preset["eval.steps"])


def checkpoint_saves(preset: Preset, steps: int) -> int:
    """Checkpoints written: every `save.steps`, plus one at the last step (DefaultFlowCallback)."""
    return math.ceil(steps / preset["save.steps"])
