"""Rows to tokenised `datasets`: the same rows the console counted, tokenised in batches.

Rows are read with `core.data.read_pairs` and chosen with `core.sampling.subsample_indices`, so
the trainer and the console agree on good/bad rows and on the subsample. Tokenising is one
batched `Dataset.map` with truncation and no padding: `DataCollatorForSeq2Seq` pads each batch
to its own longest row. Progress goes out as `Phase("tokenising", done, total)` events.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emosum_tui.core.data import Pair, PairFields, read_pairs
from emosum_tui.core.events import Phase, Warn
from emosum_tui.core.sampling import subsample_indices
from emosum_tui.trainer.health import BadDataError

if TYPE_CHECKING:
    from emosum_tui.core.presets import Preset

Emit = Callable[[Any], None]


@dataclass
class Datasets:
    train: Any  # datasets.Dataset with input_ids, attention_mask, labels
    validation: Any | None
    train_rows: int
    validation_rows: int
    validation_pairs: list[Pair] = field(default_factory=list)  # the validation rows as read (samples name them)


def _read(path: Path, fields: PairFields, emit: Emit, what: str) -> list[Pair]:
    if not path.is_file():
        raise BadDataError(f"{path}: the {what} file does not exist")
    result = read_pairs(path, fields)
    if result.file_problem:  # empty, not JSON Lines, a legacy code page: one message, not a line per row
        raise BadDataError(result.file_error())
    if result.problems:
        shown = "; ".join(str(p) for p in result.problems[:3])
        more = f" (and {len(result.problems) - 3} more)" if len(result.problems) > 3 else ""
        emit(Warn(code="bad-rows", message=f"{len(result.problems)} bad row(s) skipped in {path.name}: {shown}{more}"))
    if not result.pairs:
        raise BadDataError(f"{path}: no usable rows ({len(result.problems)} bad); first: {result.problems[0] if result.problems else 'empty file'}")
    return result.pairs


@dataclass
class Rows:
    """The chosen (source, target) pairs, before tokenising."""

    train: list[tuple[str, str]]
    validation: list[tuple[str, str]]
    validation_pairs: list[Pair] = field(default_factory=list)  # the same validation rows, with their ids


def read_rows(preset: Preset, emit: Emit) -> Rows:
    """Read and choose rows first: bad data is reported before minutes of model loading."""
    fields = PairFields.from_preset(preset)
    seed = preset["data.seed"]
    emit(Phase(name="loading_data", detail=str(preset.train_file)))
    train = _read(preset.train_file, fields, emit, "training")
    keep = subsample_indices(len(train), preset["data.train_samples"], preset["data.train_fraction"], seed)
    chosen = [(train[i].source, train[i].target) for i in keep]
    validation: list[Pair] = []
    if preset["eval.strategy"] != "no":
        validation = _read(preset.validation_file, fields, emit, "validation")
        keep = subsample_indices(len(validation), preset["data.validation_samples"], 1.0, seed)
        validation = [validation[i] for i in keep]
    return Rows(chosen, [(pair.source, pair.target) for pair in validation], validation)


def tokenise_rows(preset: Preset, rows: Rows, tokenizer: Any, emit: Emit) -> Datasets:
    import datasets

    datasets.disable_progress_bars()
    total = len(rows.train) + len(rows.validation)
    progress = {"done": 0}
    max_source, max_target = preset["train.max_source_tokens"], preset["train.max_target_tokens"]
    emit(Phase(name="tokenising", done=0, total=total))

    def tokenise(batch: dict[str, list[str]]) -> dict[str, Any]:
        encoded = tokenizer(batch["source"], max_length=max_source, truncation=True)
        encoded["labels"] = tokenizer(text_target=batch["target"], max_length=max_target, truncation=True)["input_ids"]
        progress["done"] += len(batch["source"])
        emit(Phase(name="tokenising", done=progress["done"], total=total))
        return encoded

    batch_size = max(32, total // 20)  # about twenty progress events, whatever the size

    def build(pairs: list[tuple[str, str]]) -> Any:
        table = datasets.Dataset.from_dict({"source": [s for s, _ in pairs], "target": [t for _, t in pairs]})
        return table.map(tokenise, batched=True, batch_size=batch_size, remove_columns=["source", "target"])

    train = build(rows.train)
    validation = build(rows.validation) if rows.validation else None
    return Datasets(train, validation, len(rows.train), len(rows.validation), rows.validation_pairs)
