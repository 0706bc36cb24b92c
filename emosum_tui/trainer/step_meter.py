"""What one optimizer step did: raw loss, samples, non-padding tokens, grad norm.

The Trainer's own logs average the loss over `logging_steps` and hide NaN/inf behind that
average (`logging_nan_inf_filter`); its callbacks never see a step's loss. So a small
`Seq2SeqTrainer` subclass (see `recording_trainer`) feeds each micro-batch into this meter and
the event callback reads and resets it at the end of each optimizer step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

IGNORE_INDEX = -100  # a label the loss skips (padding): not a token the step trained on


@dataclass
class StepTotals:
    """One optimizer step's sums over its micro-batches."""

    loss: float | None
    samples: int
    tokens: int
    micro_batches: int
    grad_norm: float | None


class StepMeter:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._loss: Any = None
        self.samples = 0
        self.tokens = 0
        self.micro_batches = 0
        self.grad_norm: float | None = None

    def add_batch(self, inputs: dict[str, Any]) -> None:
        """Count rows and non-padding tokens (source attention mask + labels that are not IGNORE_INDEX)."""
        ids = inputs.get("input_ids")
        self.samples += int(ids.shape[0]) if ids is not None else 0
        mask = inputs.get("attention_mask")
        labels = inputs.get("labels")
        tokens = 0
        if mask is not None:
            tokens += int(mask.sum().item())
        if labels is not None:
            tokens += int((labels != IGNORE_INDEX).sum().item())
        self.tokens += tokens
        self.micro_batches += 1

    def add_loss(self, loss: Any) -> None:
        """The detached micro-batch loss as `training_step` returns it (already divided for
        gradient accumulation), so the sum over the step is the step's loss."""
        self._loss = loss if self._loss is None else self._loss + loss

    def set_grad_norm(self, value: Any) -> None:
        if value is None:
            return
        number = float(value.item() if hasattr(value, "item") else value)
        self.grad_norm = number

    def take(self) -> StepTotals:
        loss = None if self._loss is None else float(self._loss.item() if hasattr(self._loss, "item") else self._loss)
        totals = StepTotals(loss, self.samples, self.tokens, self.micro_batches, self.grad_norm)
        self.reset()
        return totals


def finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)
