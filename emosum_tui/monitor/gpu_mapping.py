"""Which of the machine's GPUs a run uses, matched to NVML's readings.

torch numbers the devices it can see (cuda:0, cuda:1, ...); NVML numbers every GPU on the machine
in PCI order. They differ as soon as CUDA_VISIBLE_DEVICES hides some GPUs ("1,3": cuda:0 is
NVML's GPU 1) or CUDA_DEVICE_ORDER is CUDA's default (fastest first). The trainer records each
torch device's UUID, which NVML reports too, so the match is by UUID. A run that recorded none
(an older run, a run not yet started) is matched by its CUDA_VISIBLE_DEVICES read as CUDA reads
it: indices or UUIDs (a unique prefix is enough), the list ending at the first entry that names
no GPU; an unset variable means every GPU. Torch-free.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from emosum_tui.core.run_facts import Environment
from emosum_tui.monitor.nvml import GpuReading

UUID_PREFIXES = ("GPU-", "MIG-")


def _find(entry: str, gpus: Sequence[GpuReading], taken: set[int]) -> GpuReading | None:
    """The GPU one CUDA_VISIBLE_DEVICES entry names, or None (CUDA then ignores it and every later entry)."""
    if entry.isdigit():
        return next((g for g in gpus if g.index == int(entry) and g.index not in taken), None)
    if entry.startswith(UUID_PREFIXES):
        matches = [g for g in gpus if g.uuid and g.uuid.startswith(entry)]
        return matches[0] if len(matches) == 1 and matches[0].index not in taken else None
    return None


def visible_gpus(visible: str | None, gpus: Sequence[GpuReading]) -> tuple[GpuReading, ...]:
    """The GPUs CUDA_VISIBLE_DEVICES = `visible` leaves to a process, in torch's order (cuda:0 first)."""
    if visible is None:
        return tuple(gpus)
    chosen: list[GpuReading] = []
    for raw in visible.split(","):
        found = _find(raw.strip(), gpus, {g.index for g in chosen})
        if found is None:
            break
        chosen.append(found)
    return tuple(chosen)


@dataclass(frozen=True)
class GpuSelection:
    """A run's GPUs: its torch devices' UUIDs in torch's order, else its CUDA_VISIBLE_DEVICES.
    The empty selection (nothing known yet) picks every GPU."""

    uuids: tuple[str, ...] = ()
    visible: str | None = None

    @classmethod
    def from_environment(cls, environment: Environment) -> GpuSelection:
        return cls(tuple(d.uuid for d in environment.devices if d.uuid), environment.cuda_visible_devices)

    @property
    def known(self) -> bool:
        return bool(self.uuids) or self.visible is not None

    def pick(self, gpus: Sequence[GpuReading]) -> tuple[GpuReading, ...]:
        """The run's GPUs among `gpus`, in torch's order: position i is cuda:i."""
        if self.uuids and any(g.uuid for g in gpus):
            by_uuid = {g.uuid: g for g in gpus if g.uuid}
            return tuple(by_uuid[u] for u in self.uuids if u in by_uuid)
        return visible_gpus(self.visible, gpus)


def visible_gpu_count() -> int:
    """How many GPUs a trainer started from here would see: NVML's, less what CUDA_VISIBLE_DEVICES hides (0 without NVML)."""
    import os

    from emosum_tui.monitor.nvml import Nvml

    nvml = Nvml()
    try:
        return len(visible_gpus(os.environ.get("CUDA_VISIBLE_DEVICES"), nvml.readings()))
    finally:
        nvml.close()
