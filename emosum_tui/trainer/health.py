"""What went wrong, in the user's words: error classification and advice.

The trainer turns any exception into an `Error` event with a classification the console can
act on (see `core.events.ERROR_CLASSES`) and advice that names the preset keys to change.
"""

from __future__ import annotations

import errno
import traceback
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from emosum_tui.core.vocab_trim import TrimError

if TYPE_CHECKING:
    from emosum_tui.core.presets import Preset

WINDOWS_DISK_FULL = (39, 112)  # ERROR_HANDLE_DISK_FULL, ERROR_DISK_FULL


class TrainingProblem(Exception):
    """A failure we recognise, carrying its classification."""

    classification = "other"


class NanLossError(TrainingProblem):
    classification = "nan-loss"

    def __init__(self, step: int, loss: float) -> None:
        super().__init__(f"the loss of optimizer step {step} is {loss} (not a finite number); training stopped")
        self.step = step
        self.loss = loss


class ModelNotAvailable(TrainingProblem):
    classification = "model-not-available"


class BadDataError(TrainingProblem):
    classification = "bad-data"


class OutputInUse(TrainingProblem):
    """Another trainer holds the output dir's lock."""

    classification = "other"


@dataclass
class Diagnosed:
    classification: str
    message: str
    type: str
    traceback_tail: str
    advice: list[str] = field(default_factory=list)


def _oom_advice(preset: Preset | None, on_gpu: bool) -> list[str]:
    advice = []
    if preset is not None:
        batch, accum = preset["train.batch_size"], preset["train.grad_accum"]
        if batch > 1:
            half = max(1, batch // 2)
            advice.append(
                f"lower train.batch_size ({batch} -> {half}) and raise train.grad_accum ({accum} -> {accum * batch // half}) "
                f"to keep the effective batch of {batch * accum}"
            )
        else:
            advice.append(f"train.batch_size is already 1: raise train.grad_accum ({accum}) only changes the effective batch")
        advice.append(
            f"shorten train.max_source_tokens / max_target_tokens ({preset['train.max_source_tokens']}/{preset['train.max_target_tokens']}): "
            "activation memory grows with sequence length"
        )
        if not preset["model.gradient_checkpointing"]:
            advice.append("set model.gradient_checkpointing = true (about 30% slower, much less activation memory)")
        if preset["train.optimizer"] == "adamw":
            advice.append("use train.optimizer = 'adafactor' (lr ~1e-3, grad_clip = 0): about half the optimizer memory of AdamW")
    else:
        advice.append("lower the batch size (raise grad-accum to keep the effective batch), shorten max lengths, use Adafactor")
    if on_gpu:
        advice.append("close other programs using the GPU (see nvidia-smi)")
    return advice


def _nan_advice(preset: Preset | None) -> list[str]:
    advice = []
    precision = preset["train.precision"] if preset is not None else ""
    if precision == "fp16":
        advice.append("mT5 overflows in fp16: set train.precision = 'bf16' (if the GPU supports it) or 'fp32'")
    else:
        advice.append("mT5 in fp16 is known to overflow to NaN: keep train.precision = 'auto' (bf16 or fp32)")
    if preset is not None:
        lr = preset["train.learning_rate"]
        advice.append(f"lower train.learning_rate ({lr:g} -> {lr / 10:g}) or add train.warmup_steps")
        if preset["train.optimizer"] == "adamw" and preset["train.grad_clip"] == 0:
            advice.append("set train.grad_clip = 1.0 (gradient clipping)")
    advice.append("resume from the last checkpoint saved before the NaN (`--resume`)")
    return advice


def _is_disk_full(exc: BaseException) -> bool:
    for item in _chain(exc):
        if isinstance(item, OSError) and (item.errno == errno.ENOSPC or getattr(item, "winerror", None) in WINDOWS_DISK_FULL):
            return True
        if "no space left on device" in str(item).lower() or "not enough space on the disk" in str(item).lower():
            return True
    return False


def _is_oom(exc: BaseException) -> bool:
    for item in _chain(exc):
        if isinstance(item, MemoryError):
            return True
        name = type(item).__name__
        if name == "OutOfMemoryError" or "out of memory" in str(item).lower():
            return True
    return False


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    item: BaseException | None = exc
    while item is not None and item not in seen:
        seen.append(item)
        item = item.__cause__ or item.__context__
    return seen


def traceback_tail(exc: BaseException, lines: int = 12) -> str:
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return "\n".join(text.rstrip().splitlines()[-lines:])


def classify(exc: BaseException, preset: Preset | None = None, on_gpu: bool = False) -> Diagnosed:
    """The classification and advice for an exception that ended a run."""
    message = str(exc) or type(exc).__name__
    if isinstance(exc, KeyboardInterrupt):
        classification, advice = "interrupted", ["resume from the last checkpoint with `--resume`"]
    elif isinstance(exc, TrainingProblem):
        classification = exc.classification
        if isinstance(exc, NanLossError):
            advice = _nan_advice(preset)
        elif isinstance(exc, ModelNotAvailable):
            advice = [
                "download the model once on a machine with internet (e.g. `huggingface-cli download google/mt5-small`) "
                "and copy the Hugging Face cache, or set model.name to a local folder",
                "the `demo` preset needs no download",
            ]
        elif isinstance(exc, BadDataError):
            advice = ["run `emosum-tui data check` to list every bad line with its reason"]
        else:
            advice = []
    elif isinstance(exc, TrimError):
        classification = "cannot-trim"
        advice = ["fix the key the message names, or set model.trim_vocabulary = false to train the whole vocabulary"]
    elif _is_disk_full(exc):
        classification = "disk-full"
        advice = [
            "free disk space at the output dir, or set save.output_dir to a bigger disk",
            "keep fewer checkpoints (save.checkpoints_kept = 1); an AdamW checkpoint of mt5-base is ~7 GB",
        ]
    elif _is_oom(exc):
        classification = "out-of-memory"
        advice = _oom_advice(preset, on_gpu)
    else:
        classification, advice = "other", ["see stderr.log in the run folder for the full traceback"]
    return Diagnosed(classification, message, type(exc).__name__, traceback_tail(exc), advice)
