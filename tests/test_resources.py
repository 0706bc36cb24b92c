"""The resource sampler reads a real process tree, and a machine without NVIDIA stays calm."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
import types
from pathlib import Path

import pytest

from emosum_tui.monitor import nvml as nvml_module
from emosum_tui.monitor.nvml import Nvml, throttle_names
from emosum_tui.monitor.resources import ResourceSample, ResourceSampler, free_disk_at

# A parent that holds 200 MB and spins, with a child that holds 100 MB and spins too: a trainer and a dataloader worker.
TREE = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time\\nhold = bytearray(100 * 2**20)\\nend = time.time() + 30\\nwhile time.time() < end: pass"])
hold = bytearray(200 * 1024 * 1024)
print(child.pid, flush=True)
end = time.time() + 30
while time.time() < end:
    pass
child.kill()
"""


@pytest.fixture
def busy_tree():
    proc = subprocess.Popen([sys.executable, "-c", TREE], stdout=subprocess.PIPE, text=True)
    child_pid = int(proc.stdout.readline())
    yield proc, child_pid
    import psutil

    for pid in (child_pid, proc.pid):
        with contextlib.suppress(psutil.NoSuchProcess):
            psutil.Process(pid).kill()
    proc.wait(timeout=10)


def test_trainer_tree_cpu_and_memory_are_measured(busy_tree, tmp_path: Path) -> None:
    proc, _ = busy_tree
    sampler = ResourceSampler(tmp_path / "out" / "not-yet", pid=proc.pid)
    try:
        time.sleep(1.5)
        sample = sampler.sample()
    finally:
        sampler.close()
    assert isinstance(sample, ResourceSample)
    assert sample.trainer_rss is not None and sample.trainer_rss > 300 * 1024 * 1024  # the child counts
    # two spinning processes on a shared 2-core box: well above idle, at most all cores
    assert sample.trainer_cpu_percent is not None and 20 < sample.trainer_cpu_percent <= 100 * sample.cpu_count + 5
    assert 0 <= sample.cpu_percent <= 100
    assert sample.cpu_count >= 1
    assert 0 < sample.ram_used < sample.ram_total
    assert sample.disk_free is not None and sample.disk_free > 0


def test_gone_trainer_reads_as_none(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait(timeout=30)
    sampler = ResourceSampler(tmp_path, pid=proc.pid)
    try:
        sample = sampler.sample()
    finally:
        sampler.close()
    assert sample.trainer_cpu_percent is None and sample.trainer_rss is None


def test_no_pid_then_set_pid(busy_tree, tmp_path: Path) -> None:
    proc, _ = busy_tree
    sampler = ResourceSampler(tmp_path)
    try:
        assert sampler.sample().trainer_rss is None
        sampler.set_pid(proc.pid)
        time.sleep(0.5)
        assert (sampler.sample().trainer_rss or 0) > 200 * 1024 * 1024
    finally:
        sampler.close()


def test_this_machine_has_no_nvidia_gpu_and_says_so_plainly(tmp_path: Path) -> None:
    sampler = ResourceSampler(tmp_path)
    try:
        sample = sampler.sample()
    finally:
        sampler.close()
    assert sample.gpus == ()
    assert sample.gpu_note.startswith("no NVIDIA GPU")
    assert "Traceback" not in sample.gpu_note


def test_free_disk_at_missing_path_uses_nearest_parent(tmp_path: Path) -> None:
    free = free_disk_at(tmp_path / "a" / "b" / "c")
    assert free is not None and free > 0


class _NotSupported(Exception):
    pass


def _fake_pynvml(*, init_error: Exception | None = None) -> types.ModuleType:
    """The NVML boundary of a machine whose driver lacks power and process readings."""
    fake = types.ModuleType("pynvml")
    fake.NVML_TEMPERATURE_GPU = 0

    def init() -> None:
        if init_error is not None:
            raise init_error

    def unsupported(*_args):
        raise _NotSupported("Not Supported")

    fake.nvmlInit = init
    fake.nvmlShutdown = lambda: None
    fake.nvmlDeviceGetCount = lambda: 1
    fake.nvmlSystemGetDriverVersion = lambda: b"552.22"
    fake.nvmlSystemGetCudaDriverVersion = lambda: 12040
    fake.nvmlDeviceGetHandleByIndex = lambda i: object()
    fake.nvmlDeviceGetName = lambda h: "NVIDIA GeForce RTX 4070 Laptop GPU"
    fake.nvmlDeviceGetUtilizationRates = lambda h: types.SimpleNamespace(gpu=3, memory=1)
    fake.nvmlDeviceGetMemoryInfo = lambda h: types.SimpleNamespace(used=512 * 2**20, total=8 * 2**30, free=0)
    fake.nvmlDeviceGetTemperature = lambda h, s: 41
    fake.nvmlDeviceGetPowerUsage = unsupported
    fake.nvmlDeviceGetEnforcedPowerLimit = unsupported
    fake.nvmlDeviceGetPowerManagementLimit = unsupported
    fake.nvmlDeviceGetCurrentClocksEventReasons = unsupported
    fake.nvmlDeviceGetCurrentClocksThrottleReasons = lambda h: 0x04 | 0x01
    fake.nvmlDeviceGetComputeRunningProcesses = unsupported
    return fake


def test_missing_driver_functions_become_none(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", _fake_pynvml())
    session = Nvml()
    try:
        assert session.available and session.note == ""
        assert session.cuda_driver_version() == "12.4"
        assert session.driver_version() == "552.22"
        (gpu,) = session.readings()
    finally:
        session.close()
    assert gpu.name.startswith("NVIDIA GeForce RTX")
    assert gpu.util_percent == 3.0 and gpu.memory_total == 8 * 2**30 and gpu.temperature_c == 41.0
    assert gpu.power_w is None and gpu.power_limit_w is None and gpu.pids is None
    assert gpu.throttle_reasons == ("power cap",)  # the older throttle call answered; "idle" is not a slowdown


def test_nvml_init_failure_is_a_note(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", _fake_pynvml(init_error=_NotSupported("Driver Not Loaded")))
    session = Nvml()
    assert not session.available
    assert session.note == "no NVIDIA GPU (NVML not available: Driver Not Loaded)"
    assert session.readings() == () and session.cuda_driver_version() is None
    session.close()


def test_throttle_names() -> None:
    assert throttle_names(0x40 | 0x20) == ("thermal (software)", "thermal (hardware)")
    assert throttle_names(0x01 | 0x10) == ()
    assert nvml_module.THROTTLE_BITS
