"""A careful NVML wrapper: every reading is a value or None, never a crash.

Modelled on nvitop: a machine without an NVIDIA GPU, without the driver library, with an old
driver that lacks a function, or a user without permission to read power or processes must
all give "not available" readings, not exceptions. NVML is initialised once per `Nvml` and
shut down on `close()`. Torch-free: the console imports this.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from emosum_tui.i18n import N_
from emosum_tui.i18n.phrase import Translatable

T = TypeVar("T")

# Clock-event bits that mean "slower than it could be" (idle, app clocks and sync boost do not).
THROTTLE_BITS: dict[int, str] = {
    0x04: "power cap",
    0x08: "hardware slowdown",
    0x20: "thermal (software)",
    0x40: "thermal (hardware)",
    0x80: "power brake",
    0x200: "board limit",
}


@dataclass(frozen=True)
class GpuReading:
    """One NVIDIA GPU at one moment; None = NVML could not say."""

    index: int
    name: str
    util_percent: float | None
    memory_used: int | None  # bytes
    memory_total: int | None  # bytes
    temperature_c: float | None
    power_w: float | None
    power_limit_w: float | None
    throttle_reasons: tuple[str, ...] = ()
    pids: tuple[int, ...] | None = None  # compute processes on this GPU; None = not readable
    uuid: str = ""  # "GPU-<uuid>": how a run's torch device is matched to this GPU ("" = not readable)
    process_memory: tuple[tuple[int, int], ...] | None = None  # (pid, bytes) of the processes whose use NVML reports


def _text(value: Any) -> str:
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)


def _process_memory(processes: Any) -> tuple[tuple[int, int], ...] | None:
    """(pid, bytes) per compute process; Windows in WDDM mode reports no per-process use (None there)."""
    if processes is None:
        return None
    used = [(int(p.pid), p.usedGpuMemory) for p in processes]
    return tuple((pid, int(b)) for pid, b in used if isinstance(b, int) and b >= 0)


def throttle_names(mask: int) -> tuple[str, ...]:
    return tuple(name for bit, name in THROTTLE_BITS.items() if mask & bit)


class Nvml:
    """One NVML session. `available` is False (with `note` saying why) when there is no GPU to read."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._module: Any = None
        self.available = False
        self.note = ""
        try:
            import pynvml

            pynvml.nvmlInit()
        except ImportError as exc:
            self.note = Translatable(N_("no NVIDIA GPU (NVML not available: nvidia-ml-py not installed: {error})"),
                                     error=str(exc))
            return
        except Exception as exc:  # NVMLError_LibraryNotFound, DriverNotLoaded, NoPermission, ...
            self.note = Translatable(N_("no NVIDIA GPU (NVML not available: {error})"), error=_text(exc) or type(exc).__name__)
            return
        self._module = pynvml
        self.available = True
        if self.device_count() == 0:
            self.note = Translatable(N_("no NVIDIA GPU (NVML found no devices)"))

    def _call(self, fn: Callable[..., T], *args: Any) -> T | None:
        """Run one NVML call; any NVML error (not supported, no permission, GPU lost) becomes None."""
        if not self.available:
            return None
        try:
            with self._lock:
                return fn(*args)
        except Exception:
            return None

    def device_count(self) -> int:
        return self._call(lambda: self._module.nvmlDeviceGetCount()) or 0

    def driver_version(self) -> str | None:
        value = self._call(lambda: self._module.nvmlSystemGetDriverVersion())
        return None if value is None else _text(value)

    def cuda_driver_version(self) -> str | None:
        """The newest CUDA runtime the driver supports, as "12.4" (NVML encodes it as 12040)."""
        value = self._call(lambda: self._module.nvmlSystemGetCudaDriverVersion())
        if not value:
            return None
        return f"{value // 1000}.{(value % 1000) // 10}"

    def names(self) -> list[str]:
        return [self._name(i) for i in range(self.device_count())]

    def _name(self, index: int) -> str:
        handle = self._call(lambda: self._module.nvmlDeviceGetHandleByIndex(index))
        name = self._call(lambda: self._module.nvmlDeviceGetName(handle)) if handle is not None else None
        return _text(name) if name is not None else f"GPU {index}"

    def readings(self) -> tuple[GpuReading, ...]:
        return tuple(self.read(i) for i in range(self.device_count()))

    def read(self, index: int) -> GpuReading:
        m = self._module
        handle = self._call(lambda: m.nvmlDeviceGetHandleByIndex(index))
        if handle is None:
            return GpuReading(index, f"GPU {index}", None, None, None, None, None, None)
        util = self._call(lambda: m.nvmlDeviceGetUtilizationRates(handle))
        memory = self._call(lambda: m.nvmlDeviceGetMemoryInfo(handle))
        temperature = self._call(lambda: m.nvmlDeviceGetTemperature(handle, m.NVML_TEMPERATURE_GPU))
        power_mw = self._call(lambda: m.nvmlDeviceGetPowerUsage(handle))
        limit_mw = self._call(lambda: m.nvmlDeviceGetEnforcedPowerLimit(handle))
        if limit_mw is None:
            limit_mw = self._call(lambda: m.nvmlDeviceGetPowerManagementLimit(handle))
        mask = self._call(lambda: m.nvmlDeviceGetCurrentClocksEventReasons(handle))
        if mask is None:
            mask = self._call(lambda: m.nvmlDeviceGetCurrentClocksThrottleReasons(handle))
        processes = self._call(lambda: m.nvmlDeviceGetComputeRunningProcesses(handle))
        uuid = self._call(lambda: m.nvmlDeviceGetUUID(handle))
        return GpuReading(
            index=index,
            name=self._name(index),
            util_percent=float(util.gpu) if util is not None else None,
            memory_used=int(memory.used) if memory is not None else None,
            memory_total=int(memory.total) if memory is not None else None,
            temperature_c=float(temperature) if temperature is not None else None,
            power_w=power_mw / 1000.0 if power_mw is not None else None,
            power_limit_w=limit_mw / 1000.0 if limit_mw is not None else None,
            throttle_reasons=throttle_names(int(mask)) if mask is not None else (),
            pids=tuple(int(p.pid) for p in processes) if processes is not None else None,
            uuid=_text(uuid) if uuid is not None else "",
            process_memory=_process_memory(processes),
        )

    def close(self) -> None:
        if self.available:
            self._call(lambda: self._module.nvmlShutdown())
            self.available = False
