"""The safe speed switches, decided once per run from the preset and the device.

Each is a preset key a user can turn off, and each is on by default only where it pays:
- `train.tf32`: TF32 matmuls on GPUs that have them (compute capability 8.0+, Ampere and newer);
  fp32 accuracy for training, several times the fp32 matmul rate.
- `train.fused_optimizer`: `adamw_torch_fused` on CUDA (one kernel launch per step instead of
  several per parameter tensor; the launch-bound path is where mT5's small layers lose time).
- `train.pad_to_multiple_of`: 0 = 8 on a GPU (tensor cores want multiples of 8), none on a CPU.
- `train.compile`: `torch.compile` the model; "auto" = on a GPU, off on a CPU (on a CPU the
  compile costs minutes and the step gains little; see docs/performance.md). A compiled run pads
  lengths to a ladder (`batching.bucket_length`) so it compiles a few shapes, not one per batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from emosum_tui.core.presets import Preset

GPU_PAD_MULTIPLE = 8
TF32_MIN_CAPABILITY = (8, 0)


@dataclass(frozen=True)
class SpeedChoice:
    """What this run switches on, and why (one line each, for the event log)."""

    compile: bool
    tf32: bool
    optimizer: str  # the TrainingArguments `optim`
    pad_to_multiple_of: int | None
    bucket_lengths: bool
    notes: tuple[str, ...] = ()


def choose_speed(preset: Preset, on_gpu: bool, gpu_capability: tuple[int, int] | None = None) -> SpeedChoice:
    """The switches for this preset on this device (pure: the device facts are passed in)."""
    notes = []
    compile_key = preset["train.compile"]
    compile_on = compile_key == "on" or (compile_key == "auto" and on_gpu)
    if compile_key == "auto":
        notes.append(f"compile auto: {'on (a GPU)' if on_gpu else 'off (a CPU: the compile costs more than it saves)'}")
    has_tf32 = on_gpu and gpu_capability is not None and gpu_capability >= TF32_MIN_CAPABILITY
    tf32 = bool(preset["train.tf32"]) and has_tf32
    if preset["train.optimizer"] == "adafactor":
        optimizer = "adafactor"
    else:
        optimizer = "adamw_torch_fused" if preset["train.fused_optimizer"] and on_gpu else "adamw_torch"
    pad = preset["train.pad_to_multiple_of"]
    if pad == 0:
        pad = GPU_PAD_MULTIPLE if on_gpu else 1
    return SpeedChoice(
        compile=compile_on,
        tf32=tf32,
        optimizer=optimizer,
        pad_to_multiple_of=pad if pad > 1 else None,
        bucket_lengths=compile_on,
        notes=tuple(notes),
    )


def speed_arguments(choice: SpeedChoice) -> dict[str, Any]:
    """The `Seq2SeqTrainingArguments` the switches set. TF32 is None when off: torch's own default
    (the Trainer refuses `tf32=True` without a GPU that has it)."""
    return {"optim": choice.optimizer, "tf32": True if choice.tf32 else None, "torch_compile": choice.compile}


def device_speed_facts() -> tuple[bool, tuple[int, int] | None]:
    """(on a GPU, its compute capability) as torch sees it."""
    import torch

    if not torch.cuda.is_available():
        return False, None
    return True, tuple(torch.cuda.get_device_capability(0))  # type: ignore[return-value]


def apply_tf32(choice: SpeedChoice) -> None:
    """Set torch's TF32 switches for matmuls and cuDNN (process-wide, as the Trainer's `tf32` does)."""
    if not choice.tf32:
        return
    import torch

    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True


def describe(choice: SpeedChoice) -> str:
    """One line for the event log: what runs."""
    pad = choice.pad_to_multiple_of or "none"
    parts = [f"compile {'on' if choice.compile else 'off'}", f"TF32 {'on' if choice.tf32 else 'off'}",
             f"optimizer {choice.optimizer}", f"pad to multiple of {pad}"]
    if choice.bucket_lengths:
        parts.append("lengths bucketed")
    return ", ".join(parts) + ("; " + "; ".join(choice.notes) if choice.notes else "")
