"""The training batches: counted on the host, padded to few shapes, grouped by the longer side.

- `CountingCollator` wraps `DataCollatorForSeq2Seq`: it counts a batch's rows and non-padding
  tokens while the batch is still CPU tensors and hands the count along with it (`BATCH_COUNT`),
  so the step meter never asks the GPU for a number mid-step (each `.item()` is a host-device
  sync, on exactly the launch-bound path).
- With `bucket=True` (a compiled model) it pads source and target up to a length ladder, so
  `torch.compile` sees a few dozen shapes instead of one per longest row.
- `with_length_column` gives the Trainer's length-grouped sampler the longer of source and
  target per row; on its own it groups by the source (`input_ids`) only, and our targets are
  often longer than the sources.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from emosum_tui.trainer.step_meter import IGNORE_INDEX, BatchCount

BATCH_COUNT = "emosum_batch_count"  # the key the count travels under; popped before the model sees the batch
LENGTH_COLUMN = "length"  # TrainingArguments.length_column_name's default
LADDER_STEPS_PER_OCTAVE = 4  # 64, 80, 96, 112, 128, 160, ...: at most 25% padding added, a few dozen shapes
LADDER_FLOOR = 8


def bucket_length(length: int, limit: int | None = None, multiple: int = LADDER_FLOOR) -> int:
    """`length` rounded up to the ladder: multiples of a quarter of its power of two (at least
    `multiple`), never past `limit` (the truncation length: no row is longer)."""
    if length <= multiple:
        rounded = multiple
    else:
        octave = 1 << (length - 1).bit_length()  # the power of two at or above length
        step = max(multiple, octave // (2 * LADDER_STEPS_PER_OCTAVE))
        rounded = -(-length // step) * step
    return min(rounded, limit) if limit else rounded


def count_batch(batch: Any) -> BatchCount:
    """Count a collated batch (host tensors: no device sync)."""
    ids = batch.get("input_ids")
    mask = batch.get("attention_mask")
    labels = batch.get("labels")
    tokens = int(mask.sum()) if mask is not None else 0
    tokens += int((labels != IGNORE_INDEX).sum()) if labels is not None else 0
    return BatchCount(int(ids.shape[0]) if ids is not None else 0, tokens)


def _pad_right(tensor: Any, length: int, value: int) -> Any:
    import torch

    extra = length - tensor.shape[1]
    if extra <= 0:
        return tensor
    return torch.cat([tensor, tensor.new_full((tensor.shape[0], extra), value)], dim=1)


class CountingCollator:
    """`DataCollatorForSeq2Seq`, plus the host-side count, plus (optionally) the length ladder."""

    def __init__(self, inner: Any, pad_token_id: int, bucket: bool = False, max_source: int | None = None,
                 max_target: int | None = None, before_batch: Callable[[], None] | None = None) -> None:
        self.inner = inner
        self.before_batch = before_batch  # the test faults' slow loader
        self.pad_token_id = pad_token_id
        self.bucket = bucket
        self.max_source = max_source
        self.max_target = max_target

    def __call__(self, features: list[dict[str, Any]]) -> Any:
        if self.before_batch is not None:
            self.before_batch()
        batch = self.inner(features)
        if self.bucket:
            self._to_ladder(batch)
        batch[BATCH_COUNT] = count_batch(batch)
        return batch

    def _to_ladder(self, batch: Any) -> None:
        multiple = self.inner.pad_to_multiple_of or LADDER_FLOOR
        if "input_ids" in batch:
            length = bucket_length(batch["input_ids"].shape[1], max(self.max_source or 0, batch["input_ids"].shape[1]), multiple)
            batch["input_ids"] = _pad_right(batch["input_ids"], length, self.pad_token_id)
            if "attention_mask" in batch:
                batch["attention_mask"] = _pad_right(batch["attention_mask"], length, 0)
        if "labels" in batch:
            length = bucket_length(batch["labels"].shape[1], max(self.max_target or 0, batch["labels"].shape[1]), multiple)
            batch["labels"] = _pad_right(batch["labels"], length, IGNORE_INDEX)
            if "decoder_input_ids" in batch:
                batch["decoder_input_ids"] = _pad_right(batch["decoder_input_ids"], length, self.pad_token_id)


def with_length_column(dataset: Any) -> Any:
    """The dataset with a `length` column: the longer of source and target of each row."""
    if dataset is None or LENGTH_COLUMN in dataset.column_names:
        return dataset
    lengths = [max(len(source), len(target)) for source, target in zip(dataset["input_ids"], dataset["labels"], strict=True)]
    return dataset.add_column(LENGTH_COLUMN, lengths)
