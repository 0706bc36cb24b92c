"""The resource sampler: CPU, RAM, disk and GPU readings as one frozen `ResourceSample`.

The console's worker calls `ResourceSampler.sample()` every second or so; widgets draw the
samples and the doctor's live rules read sequences of them (tests feed recorded sequences
instead of real hardware). A missing GPU, driver, NVML function or permission gives `gpus=()`
or None fields and a plain `gpu_note`, never an exception. Torch-free.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil

from emosum_tui.monitor.nvml import GpuReading, Nvml

TREE_SECONDS = 5.0  # how often the trainer's children (dataloader workers) are looked for again

__all__ = ["GpuReading", "ResourceSample", "ResourceSampler", "free_disk_at", "sample_from_dict", "sample_to_dict"]


@dataclass(frozen=True)
class ResourceSample:
    """The machine and the trainer process tree at one moment (bytes, percent)."""

    t: float  # time.time()
    cpu_percent: float  # whole system, 0-100
    cpu_count: int
    trainer_cpu_percent: float | None  # trainer process tree, 100 = one core busy
    trainer_rss: int | None
    ram_used: int
    ram_total: int
    disk_free: int | None  # at the output dir
    gpus: tuple[GpuReading, ...]  # every GPU on the machine; `GpuSelection.pick` finds the run's
    gpu_note: str  # "" or "no NVIDIA GPU (NVML not available: ...)"
    trainer_gpu_memory: int | None = None  # GPU memory of the trainer tree's processes, all GPUs; None = not readable


def free_disk_at(path: Path) -> int | None:
    """Free bytes on the volume that holds `path` (or its nearest existing parent)."""
    probe = Path(path).resolve()
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        return int(psutil.disk_usage(str(probe)).free)
    except OSError:
        return None


class ResourceSampler:
    """Samples the system and one trainer process tree. Not thread-safe: one worker owns it.

    CPU percentages are measured between two calls (psutil's rule), so the first `sample()`
    after construction or `set_pid()` compares with the moment of that call.
    """

    def __init__(self, disk_path: Path, pid: int | None = None) -> None:
        self.disk_path = Path(disk_path)
        self._nvml = Nvml()
        self._procs: dict[int, psutil.Process] = {}
        self._root: psutil.Process | None = None
        self._fresh: set[int] = set()
        self._tree_read = float("-inf")  # time.monotonic() of the last scan for the trainer's children
        psutil.cpu_percent(interval=None)  # start the system-wide CPU clock
        self.set_pid(pid)

    def set_pid(self, pid: int | None) -> None:
        """Follow another trainer (or none). Its children (dataloader workers) are counted too."""
        self._procs = {}
        self._root = None
        self._tree_read = float("-inf")
        if pid is None:
            return
        try:
            self._root = psutil.Process(pid)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            return
        self._tree()

    def _tree(self) -> list[psutil.Process]:
        """The live trainer tree; processes seen for the first time start their CPU clock now."""
        if self._root is None:
            return []
        try:
            members = [self._root, *self._root.children(recursive=True)]
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            return []
        alive: dict[int, psutil.Process] = {}
        for proc in members:
            known = self._procs.get(proc.pid)
            if known is None:
                try:
                    proc.cpu_percent(interval=None)
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
                known = proc
            alive[proc.pid] = known
        fresh = [p for pid, p in alive.items() if pid not in self._procs]
        self._procs = alive
        self._fresh = {p.pid for p in fresh}
        return list(alive.values())

    def _trainer(self) -> tuple[float | None, int | None]:
        if self._root is None:
            return None, None
        if not self._root.is_running():
            return None, None
        now = time.monotonic()
        if now - self._tree_read >= TREE_SECONDS:  # a scan of every process on the machine: not every second
            self._tree_read = now
            procs = self._tree()
        else:
            procs, self._fresh = list(self._procs.values()), set()
        if not procs:
            return None, None
        cpu = 0.0
        rss = 0
        for proc in procs:
            try:
                with proc.oneshot():
                    if proc.pid not in self._fresh:
                        cpu += proc.cpu_percent(interval=None)
                    rss += proc.memory_info().rss
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        return cpu, rss

    def _trainer_gpu_memory(self, gpus: tuple[GpuReading, ...]) -> int | None:
        """What NVML says the trainer tree's processes hold on every GPU; None when none of them is listed
        (a CPU run, or a container whose pids NVML cannot see)."""
        tree = set(self._procs)
        used = [b for g in gpus for pid, b in (g.process_memory or ()) if pid in tree]
        return sum(used) if used else None

    def sample(self) -> ResourceSample:
        trainer_cpu, trainer_rss = self._trainer()
        memory = psutil.virtual_memory()
        gpus = self._nvml.readings()
        return ResourceSample(
            t=time.time(),
            cpu_percent=float(psutil.cpu_percent(interval=None)),
            cpu_count=psutil.cpu_count(logical=True) or 1,
            trainer_cpu_percent=trainer_cpu,
            trainer_rss=trainer_rss,
            ram_used=int(memory.total - memory.available),
            ram_total=int(memory.total),
            disk_free=free_disk_at(self.disk_path),
            gpus=gpus,
            gpu_note=self._nvml.note,
            trainer_gpu_memory=self._trainer_gpu_memory(gpus) if self._root is not None else None,
        )

    @property
    def nvml(self) -> Nvml:
        """The NVML session, for one-off facts (driver version, CUDA version the driver supports)."""
        return self._nvml

    def close(self) -> None:
        self._nvml.close()


def sample_to_dict(sample: ResourceSample) -> dict:
    """A sample as plain JSON-ready data (for recorded sequences and `resources.jsonl`)."""
    return asdict(sample)


def sample_from_dict(body: dict) -> ResourceSample:
    """The inverse of `sample_to_dict`; GPU readings come back as `GpuReading`s (tuples, not lists)."""
    gpus = []
    for gpu in body.get("gpus", ()):
        gpu = dict(gpu)
        gpu["throttle_reasons"] = tuple(gpu.get("throttle_reasons") or ())
        if gpu.get("pids") is not None:
            gpu["pids"] = tuple(gpu["pids"])
        if gpu.get("process_memory") is not None:
            gpu["process_memory"] = tuple((int(pid), int(used)) for pid, used in gpu["process_memory"])
        gpus.append(GpuReading(**gpu))
    return ResourceSample(**{**body, "gpus": tuple(gpus)})
