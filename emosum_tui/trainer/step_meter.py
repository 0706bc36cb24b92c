"""What one optimizer step did: raw loss, samples, non-padding tokens, grad norm.

The Trainer's own logs average the loss over `logging_steps` and hide NaN/inf behind that
average (`logging_nan_inf_filter`); its callbacks never see a step's loss. So a small
`Seq2SeqTrainer` subclass (see `recording_trainer`) feeds each micro-batch into this meter and
the event callback reads and resets it at the end of each optimizer step.

No host-device sync per micro-batch: rows and tokens arrive counted on the host by the
collator (`BatchCount`), and the loss is summed as a device tensor and read once per optimizer
step (`take`). A batch that comes without a count is summed on the device and read at `take` too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

IGNORE_INDEX = -100  # a label the loss skips (padding): not a token the step trained on


@dataclass(frozen=True)
class BatchCount:
    """Rows and non-padding tokens (source attention mask + labels that are not IGNORE_INDEX)."""

    samples: int
    tokens: int


@dataclass
class StepTotals:
    """One optimizer step's sums over its micro-batches."""

    loss: float | None
    samples: int
    tokens: int
    micro_batches: int
    grad_norm: float | None


def _number(value: Any) -> float:
    return float(value.item() if hasattr(value, "item") else value)


class StepMeter:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._loss: Any = None
        self._device_tokens: Any = None  # tokens of batches that came without a host count
        self.samples = 0
        self.tokens = 0
        self.micro_batches = 0
        self._grad_norm: Any = None

    def add_batch(self, inputs: dict[str, Any], count: BatchCount | None = None) -> None:
        """Count one micro-batch: the collator's host count, else device sums read at `take`."""
        self.micro_batches += 1
        if count is not None:
            self.samples += count.samples
            self.tokens += count.tokens
            return
        ids = inputs.get("input_ids")
        self.samples += int(ids.shape[0]) if ids is not None else 0
        mask = inputs.get("attention_mask")
        labels = inputs.get("labels")
        for part in (mask.sum() if mask is not None else None, (labels != IGNORE_INDEX).sum() if labels is not None else None):
            if part is not None:
                self._device_tokens = part if self._device_tokens is None else self._device_tokens + part

    def add_loss(self, loss: Any) -> None:
        """The detached micro-batch loss as `training_step` returns it (already divided for
        gradient accumulation), so the sum over the step is the step's loss."""
        self._loss = loss if self._loss is None else self._loss + loss

    def set_grad_norm(self, value: Any) -> None:
        """Kept as given (a device tensor is read once, at `take`)."""
        if value is not None:
            self._grad_norm = value

    @property
    def grad_norm(self) -> float | None:
        return None if self._grad_norm is None else _number(self._grad_norm)

    def take(self) -> StepTotals:
        """The step's totals (the one read of device numbers per optimizer step); then reset."""
        loss = None if self._loss is None else _number(self._loss)
        tokens = self.tokens + (int(_number(self._device_tokens)) if self._device_tokens is not None else 0)
        totals = StepTotals(loss, self.samples, tokens, self.micro_batches, self.grad_norm)
        self.reset()
        return totals


def finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)
