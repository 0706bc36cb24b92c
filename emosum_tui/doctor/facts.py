"""The facts preflight judges: this machine (NVML, torch in a subprocess, psutil) and the plan (cost model).

Both are plain frozen dataclasses, so recorded machines (an RTX card next to a CPU-only torch)
are test fixtures; the gathering functions are the only I/O.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emosum_tui.core.presets import Preset
from emosum_tui.doctor.torch_probe import TorchFacts, probe_torch
from emosum_tui.monitor.nvml import GpuReading, Nvml
from emosum_tui.monitor.resources import free_disk_at

if TYPE_CHECKING:
    from emosum_tui.doctor.vocabulary import TrimOffer

# The GPU torch cannot use, priced as a mid-range RTX card (RTX 3060: 12.7 TFLOP/s fp32 peak,
# 360 GB/s) at a realistic share of peak: enough to say "N x slower", not a promise.
ASSUMED_GPU_FLOPS = 8e12
ASSUMED_GPU_MEMORY_BPS = 300e9


@dataclass(frozen=True)
class MachineFacts:
    """What this machine has, as NVML, torch (in a subprocess) and psutil report it."""

    torch: TorchFacts
    gpus: tuple[GpuReading, ...] = ()
    gpu_note: str = ""
    driver_version: str | None = None
    driver_cuda: str | None = None  # newest CUDA the driver supports ("12.4")
    ram_free: int = 0
    ram_total: int = 0
    disk_free: int | None = None  # at the preset's output dir
    cpu_count: int = 1
    windows: bool = os.name == "nt"

    @property
    def device(self) -> str:
        """Where the trainer will run: cuda when torch can use it, else cpu."""
        return "cuda" if self.torch.cuda_available else "cpu"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PlanFacts:
    """The cost model's prediction for one preset on this machine (bytes, seconds)."""

    peak_memory_bytes: int | None = None
    peak_disk_bytes: int | None = None
    seconds_per_step: float | None = None
    optimizer_steps: int | None = None
    total_seconds: float | None = None
    gpu_seconds_per_step: float | None = None  # the same plan priced on the GPU NVML sees, when known
    vocab_size: int | None = None
    trim: TrimOffer | None = None  # what trimming the vocabulary would change, when the preset does not trim
    preset: str = ""
    basis: dict[str, str] = field(default_factory=dict)


def gather_machine_facts(disk_path: Path, torch_facts: TorchFacts | None = None) -> MachineFacts:
    """NVML and psutil here, torch in a subprocess (pass `torch_facts` to reuse an earlier probe)."""
    import psutil

    nvml = Nvml()
    try:
        gpus, note = nvml.readings(), nvml.note
        driver, driver_cuda = nvml.driver_version(), nvml.cuda_driver_version()
    finally:
        nvml.close()
    memory = psutil.virtual_memory()
    return MachineFacts(
        torch=torch_facts if torch_facts is not None else probe_torch(),
        gpus=gpus,
        gpu_note=note,
        driver_version=driver,
        driver_cuda=driver_cuda,
        ram_free=int(memory.available),
        ram_total=int(memory.total),
        disk_free=free_disk_at(disk_path),
        cpu_count=psutil.cpu_count(logical=True) or 1,
    )


def plan_facts(preset: Preset, facts: MachineFacts | None = None) -> PlanFacts:
    """The cost model's estimate for this preset on this machine (its probe/calibration when cached).

    When NVML sees a GPU that torch cannot use, the same plan is also priced on an assumed
    consumer GPU, so the CPU-build finding can say how much slower the CPU will be.
    A cost-model failure becomes a basis note: the other checks still run.
    """
    from emosum_tui.core import calibration as cal
    from emosum_tui.core.cost_model import estimate
    from emosum_tui.core.device_speed import ASSUMED_DISK_BPS
    from emosum_tui.core.token_stats import TokenLengths

    try:
        lengths = TokenLengths.for_preset(preset)
        profile = cal.cached_device_profile()
        try:
            calibration = cal.cached_calibration(cal.spec_for(preset, lengths))
        except Exception:  # no calibration for this shape yet
            calibration = None
        est = estimate(preset, lengths=lengths, device=profile, calibration=calibration)
        gpu_seconds = None
        if facts is not None and facts.gpus and not facts.torch.cuda_available:
            gpu = cal.DeviceProfile(device=f"{facts.gpus[0].name} (assumed)", matmul_flops=ASSUMED_GPU_FLOPS,
                                    memory_bps=ASSUMED_GPU_MEMORY_BPS, disk_bps=profile.disk_bps if profile else ASSUMED_DISK_BPS)
            gpu_seconds = estimate(preset, lengths=lengths, device=gpu).seconds_per_step
        from emosum_tui.doctor.vocabulary import trim_offer

        trim = trim_offer(preset, lengths, profile)
    except Exception as exc:  # a cost model bug must not hide the other checks
        return PlanFacts(basis={"error": f"{type(exc).__name__}: {exc}"})
    basis = {k: v if isinstance(v, str) else str(v) for k, v in est.basis.items()}  # a Translatable stays one: drawn translated
    if gpu_seconds is not None:
        basis["gpu_seconds_per_step"] = (f"assumed GPU: {ASSUMED_GPU_FLOPS / 1e12:.0f} TFLOP/s fp32 matmul, "
                                         f"{ASSUMED_GPU_MEMORY_BPS / 1e9:.0f} GB/s (a mid-range RTX card)")
    return PlanFacts(
        peak_memory_bytes=est.peak_memory_bytes,
        peak_disk_bytes=est.peak_disk_bytes,
        seconds_per_step=est.seconds_per_step,
        optimizer_steps=est.optimizer_steps,
        total_seconds=est.total_seconds,
        gpu_seconds_per_step=gpu_seconds,
        vocab_size=est.vocab_size,
        trim=trim,
        preset=preset.name,
        basis=basis,
    )
