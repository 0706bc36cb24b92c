"""Preflight checks on recorded machines, and `emosum-tui doctor --json` on this one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from emosum_tui.core.presets import load_preset
from emosum_tui.doctor.preflight import (
    MachineFacts,
    PlanFacts,
    check_data,
    check_disk,
    check_memory,
    check_model_available,
    check_precision,
    check_torch_build,
    plan_facts,
    run_preflight,
)
from emosum_tui.doctor.torch_probe import TorchDevice, TorchFacts, probe_torch
from emosum_tui.monitor.nvml import GpuReading

GIB = 2**30
RTX = GpuReading(0, "NVIDIA GeForce RTX 3060", 2.0, int(0.4 * GIB), 12 * GIB, 40.0, 18.0, 170.0)
CPU_TORCH = TorchFacts(torch_version="2.5.1+cpu", build="cpu", executable="C:\\Users\\me\\venv\\Scripts\\python.exe")
CUDA_TORCH = TorchFacts(torch_version="2.5.1+cu124", build="cuda", cuda_built="12.4", cuda_available=True, cuda_runtime="12.4",
                        devices=(TorchDevice(0, "NVIDIA GeForce RTX 3060", 12 * GIB, 11 * GIB, "8.6", True),))
# The user's workstation: an RTX card and a CPU-only wheel of torch.
USER_BOX = MachineFacts(torch=CPU_TORCH, gpus=(RTX,), driver_version="552.22", driver_cuda="12.4", ram_free=20 * GIB,
                        ram_total=32 * GIB, disk_free=300 * GIB, cpu_count=16, windows=True)


def test_rtx_gpu_with_cpu_torch_is_the_first_finding(home: Path) -> None:
    """NVML sees an RTX card, torch is CPU-only, the plan costs ~100 s/step: say that first, with the fix."""
    preset = load_preset("full")
    plan = PlanFacts(peak_memory_bytes=13 * GIB, peak_disk_bytes=9 * GIB, seconds_per_step=105.95, gpu_seconds_per_step=1.6,
                     optimizer_steps=4945, total_seconds=4945 * 105.95, preset="full")
    findings = run_preflight(preset, USER_BOX, plan)
    first = findings[0]
    assert first.code == "cpu-torch-with-gpu" and first.severity == "error"
    assert "RTX 3060" in first.evidence and "torch 2.5.1+cpu (cpu build)" in first.evidence
    assert "106.0 s/step on the CPU vs 1.60 s/step on the GPU (~66x slower)" in first.evidence
    assert "download.pytorch.org/whl/cu124" in first.fix and "Scripts\\python.exe" in first.fix


def test_slowdown_without_a_gpu_price_uses_the_typical_range() -> None:
    (finding,) = check_torch_build(USER_BOX, PlanFacts(seconds_per_step=100.0, total_seconds=3600 * 145, preset="full"))
    assert "typically 20-100x slower" in finding.evidence and "100.0 s/step on the CPU (145.0 h in all)" in finding.evidence


def test_cuda_build_too_new_for_the_driver() -> None:
    torch = replace(CUDA_TORCH, torch_version="2.8.0+cu128", cuda_built="12.8", cuda_available=False, devices=())
    (finding,) = check_torch_build(replace(USER_BOX, torch=torch))
    assert finding.code == "cuda-driver-too-old"
    assert "built for CUDA 12.8" in finding.evidence and "supports CUDA 12.4" in finding.evidence
    assert "whl/cu124" in finding.fix


def test_wheel_tag_follows_the_driver() -> None:
    (finding,) = check_torch_build(replace(USER_BOX, driver_cuda="12.9"))
    assert "whl/cu128" in finding.fix


def test_torch_missing_is_an_error() -> None:
    (finding,) = check_torch_build(replace(USER_BOX, torch=TorchFacts(error="import torch failed: ModuleNotFoundError")))
    assert finding.code == "torch-missing" and "ModuleNotFoundError" in finding.evidence


def test_vram_overflow_on_windows_says_spill(home: Path) -> None:
    preset = load_preset("full")
    facts = replace(USER_BOX, torch=CUDA_TORCH)
    (finding,) = check_memory(preset, facts, PlanFacts(peak_memory_bytes=13 * GIB))
    assert finding.code == "memory-over-vram"
    assert "13.0 GiB > 11.0 GiB free VRAM" in finding.evidence and "shared system memory" in finding.evidence
    assert "train.batch_size = 1 with train.grad_accum = 8 (same effective batch 8)" in finding.fix
    (ok,) = check_memory(preset, facts, PlanFacts(peak_memory_bytes=5 * GIB))
    assert ok.severity == "ok" and "5.0 GiB of 11.0 GiB" in ok.evidence


# An H100 80GB machine: its torch facts and the matmul probe it gave (bench/bench_gpu.py).
H100_TORCH = TorchFacts(torch_version="2.11.0+cu130", build="cuda", cuda_built="13.0", cuda_available=True, cuda_runtime="13.0",
                        devices=(TorchDevice(0, "NVIDIA H100 80GB HBM3", 85_017_493_504, 84_465_090_560, "9.0", True),))
H100_BOX = MachineFacts(torch=H100_TORCH, driver_version="580.159.04", driver_cuda="13.0", ram_free=120 * GIB,
                        ram_total=128 * GIB, disk_free=60 * GIB, cpu_count=16)
H100_PROBE = {"device": "NVIDIA H100 80GB HBM3", "matmul_flops": 51.6e12, "memory_bps": 2.5e12, "disk_bps": 1.367e9}


def test_a_big_gpu_is_told_its_micro_batches_can_grow_and_a_12_gib_card_is_not(home: Path) -> None:
    """`full` at 2 x 4 leaves an H100 waiting on kernel launches (8 x 1 steps about three times
    faster): preflight names 8 x 1 before the run. On the user's 12 GiB card 2 x 4 already fills it."""
    from emosum_tui.core import calibration as cal

    cal.store_device_profile(cal.DeviceProfile.from_dict(H100_PROBE))  # as if this were that machine's probe
    preset = load_preset("full")
    found = {f.code: f for f in run_preflight(preset, H100_BOX, plan_facts(preset, H100_BOX))}
    finding = found["small-micro-batches"]
    assert finding.severity == "info"
    assert finding.fix.startswith("train.batch_size = 8 with train.grad_accum = 1 (same effective batch 8)")
    assert "H100" in finding.evidence and "2 x 4: est. 0.6" in finding.evidence
    rtx = replace(H100_BOX, torch=replace(CUDA_TORCH), gpus=(RTX,))
    cal.store_device_profile(cal.DeviceProfile("NVIDIA GeForce RTX 3060", 12e12, 360e9, 1e9))
    assert "small-micro-batches" not in {f.code for f in run_preflight(preset, rtx, plan_facts(preset, rtx))}
    assert "small-micro-batches" not in {f.code for f in run_preflight(load_preset("demo"), USER_BOX, None)}  # no CUDA torch


def test_cpu_memory_and_disk_checks_cite_numbers(home: Path) -> None:
    preset = load_preset("full")
    facts = replace(USER_BOX, ram_free=8 * GIB, disk_free=5 * GIB)
    (memory,) = check_memory(preset, facts, PlanFacts(peak_memory_bytes=13 * GIB))
    assert memory.code == "memory-over-ram" and "13.0 GiB > 8.0 GiB free RAM" in memory.evidence
    (disk,) = check_disk(preset, facts, PlanFacts(peak_disk_bytes=9 * GIB))
    assert disk.code == "disk-full" and "9.0 GiB > 5.0 GiB free" in disk.evidence
    assert "save.checkpoints_kept = 1" in disk.fix


def test_precision_checks(home: Path, tmp_path: Path) -> None:
    fp16 = tmp_path / "fp16.toml"
    fp16.write_text('extends = "full"\n[train]\nprecision = "fp16"\n', encoding="utf-8")
    preset = load_preset(fp16)
    (finding,) = check_precision(preset, replace(USER_BOX, torch=CUDA_TORCH))
    assert finding.code == "fp16-mt5" and 'train.precision = "bf16"' in finding.fix
    (cpu,) = check_precision(preset, USER_BOX)
    assert cpu.code == "fp16-on-cpu" and cpu.severity == "error"
    bf16 = tmp_path / "bf16.toml"
    bf16.write_text('extends = "full"\n[train]\nprecision = "bf16"\n', encoding="utf-8")
    old_gpu = replace(CUDA_TORCH, devices=(TorchDevice(0, "NVIDIA GeForce GTX 1080", 8 * GIB, 7 * GIB, "6.1", False),))
    (finding,) = check_precision(load_preset(bf16), replace(USER_BOX, torch=old_gpu))
    assert finding.code == "bf16-unsupported" and "GTX 1080" in finding.evidence
    (auto,) = check_precision(load_preset("full"), replace(USER_BOX, torch=CUDA_TORCH))
    assert auto.severity == "ok" and "-> bf16" in auto.evidence


def test_model_not_in_cache_offline(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    (finding,) = check_model_available(load_preset("full"))
    assert finding.code == "model-not-available" and "google/mt5-base" in finding.evidence
    assert "huggingface-cli download google/mt5-base" in finding.fix
    monkeypatch.delenv("HF_HUB_OFFLINE")
    (finding,) = check_model_available(load_preset("full"), reachable=lambda: (True, "huggingface.co:443 answers"))
    assert finding.code == "model-download" and finding.severity == "warning"
    import socket

    with socket.socket() as probe:  # a port that was just free: nothing answers there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    (finding,) = check_model_available(load_preset("full"))
    assert finding.code == "model-not-available" and f"127.0.0.1:{port} unreachable" in finding.evidence
    (demo,) = check_model_available(load_preset("demo"))
    assert demo.severity == "ok"


def test_bad_data_rows_are_named_by_line(home: Path) -> None:
    train = home / "data" / "train" / "Emotion_Summary.jsonl"
    lines = train.read_text(encoding="utf-8").splitlines()
    lines[2] = "{not json"
    train.write_text("\n".join(lines) + "\n", encoding="utf-8")
    findings = {f.code: f for f in check_data(load_preset("demo"))}
    bad = findings["data-bad-rows-train"]
    assert f"{train}:3:" in bad.evidence and "1 bad" in bad.evidence
    assert findings["data-ok-validation"].severity == "ok"
    (home / "data" / "validation" / "Emotion_Summary.jsonl").unlink()
    assert "data-missing-validation" in {f.code for f in check_data(load_preset("demo"))}


def test_torch_probe_on_this_machine() -> None:
    facts = probe_torch()
    assert facts.error == "" and facts.torch_version
    assert facts.build == "cpu" and facts.cuda_available is False and facts.devices == ()


def test_doctor_json_on_this_machine(home: Path) -> None:
    """Acceptance: CPU-only torch, no NVIDIA GPU, memory and disk checks with numbers, exit 0."""
    env = {**os.environ, "EMOSUM_HOME": str(home), "EMOSUM_CACHE": str(home / ".cache")}
    done = subprocess.run([sys.executable, "-m", "emosum_tui", "doctor", "--preset", "full", "--json"], capture_output=True,
                          text=True, env=env, cwd=home, timeout=120)
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    machine = {f["code"]: f for f in body["findings"]}
    assert "cpu-only" in machine and "cpu build" in machine["cpu-only"]["evidence"]
    assert "no NVIDIA GPU" in machine["cpu-only"]["evidence"]
    assert body["machine"]["torch"]["build"] == "cpu" and body["machine"]["gpus"] == []
    findings = {f["code"]: f for f in body["presets"]["full"]["findings"]}
    memory = next(f for code, f in findings.items() if code.startswith("memory-"))
    disk = next(f for code, f in findings.items() if code.startswith("disk-"))
    assert "GiB" in memory["evidence"] and "free RAM" in memory["evidence"] and "estimated peak" in memory["evidence"]
    assert "GiB" in disk["evidence"] and "free at" in disk["evidence"] and "estimated peak" in disk["evidence"]
    assert body["presets"]["full"]["plan"]["peak_memory_bytes"] > 0


def test_doctor_keeps_the_console_process_torch_free(home: Path) -> None:
    """Torch is asked in a subprocess: the doctor itself never imports torch, transformers or datasets."""
    script = (
        "import sys, contextlib, io\nfrom emosum_tui.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n    main(['doctor', '--preset', 'demo', '--json'])\n"
        "print('HEAVY', [h for h in ('torch', 'transformers', 'datasets') if h in sys.modules])\n"
    )
    env = {**os.environ, "EMOSUM_HOME": str(home), "EMOSUM_CACHE": str(home / ".cache")}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=home, timeout=120, check=True)
    assert "HEAVY []" in out.stdout


def test_preflight_for_the_presets_screen(home: Path) -> None:
    from emosum_tui.doctor.preflight import preflight

    facts = replace(USER_BOX, torch=CUDA_TORCH)
    findings = preflight(load_preset("demo"), facts)
    codes = [f.code for f in findings]
    assert all(f.severity == "ok" for f in findings) and codes[:2] == ["cuda-ok", "cuda-versions-ok"]
    assert {"memory-ok", "disk-ok", "precision-ok", "model-ok", "data-ok-train", "data-ok-validation"} <= set(codes)
    memory = next(f for f in findings if f.code == "memory-ok")
    assert "MiB of 11.0 GiB free VRAM on NVIDIA GeForce RTX 3060" in memory.evidence
