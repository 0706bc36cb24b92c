"""How fast this machine does each kind of work, and the seconds a micro-batch takes before any calibration.

The prior prices FLOPs at the matmul probe's rate and bytes at its memory rate; on a GPU a
micro-batch also cannot be faster than one Python thread launching its kernels. The figures
behind these constants are in the README's performance notes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from emosum_tui.core.batch_profile import BatchProfile
from emosum_tui.core.model_flops import param_count
from emosum_tui.core.model_shapes import ModelShape
from emosum_tui.core.run_bytes import FP32
from emosum_tui.i18n import N_
from emosum_tui.i18n.phrase import Translatable

if TYPE_CHECKING:
    from emosum_tui.core.calibration import DeviceProfile
    from emosum_tui.core.presets import Preset

# With nothing measured on this machine: a modest CPU, said so in every basis that uses it.
ASSUMED_FLOPS = 20e9
ASSUMED_MEMORY_BPS = 5e9
ASSUMED_DISK_BPS = 200e6
# One Python thread launches every kernel of a micro-batch; with mT5's small micro-batches the
# GPU waits for it, so a micro-batch takes at least this long per layer, forward + backward,
# whatever its FLOPs. A host with faster cores launches faster: calibration measures this one.
GPU_LAYER_DISPATCH_S = 6.3e-3
CHECKPOINTING_DISPATCH_FACTOR = 4 / 3  # gradient checkpointing launches the forward a second time
# Bytes the optimizer update moves per parameter: read/write weights, grads and moments, zero grads, clip.
ADAMW_UPDATE_BYTES_PER_PARAM = 36
ADAFACTOR_UPDATE_BYTES_PER_PARAM = 20
# Logits traffic of a training micro-batch, in fp32 logit-sized passes (forward, softmax, backward).
TRAIN_LOGITS_PASSES = 6


@dataclass(frozen=True)
class Speed:
    """How fast this machine does each kind of work, and what that rests on."""

    matmul_flops: float
    memory_bps: float
    disk_bps: float
    device: str
    basis: str

    @property
    def on_gpu(self) -> bool:
        """A GPU's figures (the probe names a CPU "cpu (N threads)"; "unknown" = nothing probed)."""
        return not self.device.startswith("cpu") and self.device != "unknown"

    @classmethod
    def from_profile(cls, profile: DeviceProfile | None) -> Speed:
        if profile is None:
            return cls(ASSUMED_FLOPS, ASSUMED_MEMORY_BPS, ASSUMED_DISK_BPS, "unknown",
                       Translatable(N_("assumed {gflops} GFLOP/s (no probe of this machine yet)"),
                                    gflops=f"{ASSUMED_FLOPS / 1e9:.0f}"))
        return cls(profile.matmul_flops, profile.memory_bps, profile.disk_bps, profile.device,
                   Translatable(N_("matmul probe of {device}: {gflops} GFLOP/s"), device=profile.device,
                                gflops=f"{profile.matmul_flops / 1e9:.1f}"))


def dispatch_floor(shape: ModelShape, checkpointing: bool) -> float:
    """Seconds a GPU micro-batch takes at least: its layers' kernels launched one by one
    (a recomputed forward with gradient checkpointing: a third more)."""
    layers = shape.num_layers + shape.num_decoder_layers
    return layers * GPU_LAYER_DISPATCH_S * (CHECKPOINTING_DISPATCH_FACTOR if checkpointing else 1.0)


def prior_step_seconds(shape: ModelShape, profile: BatchProfile, preset: Preset, speed: Speed) -> tuple[float, float]:
    """(seconds per micro-batch, seconds of the optimizer update) from FLOPs and bytes moved."""
    logits_bytes = TRAIN_LOGITS_PASSES * profile.batch * profile.target * shape.vocab_size * FP32
    micro = profile.train_flops / speed.matmul_flops + logits_bytes / speed.memory_bps
    if speed.on_gpu:
        micro = max(micro, dispatch_floor(shape, preset["model.gradient_checkpointing"]))
    per_param = ADAMW_UPDATE_BYTES_PER_PARAM if preset["train.optimizer"] == "adamw" else ADAFACTOR_UPDATE_BYTES_PER_PARAM
    update = param_count(shape) * per_param / speed.memory_bps
    return micro, update
