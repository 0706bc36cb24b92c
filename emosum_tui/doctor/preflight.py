"""Preflight: before a run starts, say what will make it slow or make it fail.

The checks are pure functions over facts (`MachineFacts`: what NVML, torch and psutil say;
`PlanFacts`: what the cost model predicts), so recorded scenarios test them without a GPU.
`gather_machine_facts()` and `plan_facts()` do the I/O: NVML and psutil in this process, torch
in a subprocess (the console stays torch-free), and the cost model. The first check is the
costliest mistake: an NVIDIA GPU next to a CPU-only torch runs training many times slower.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

from emosum_tui.core.data import PairFields, read_pairs
from emosum_tui.core.gpu_memory import VRAM_HEADROOM
from emosum_tui.core.presets import Preset
from emosum_tui.core.tokenizer_files import cached_hub_file
from emosum_tui.doctor.facts import MachineFacts, PlanFacts, gather_machine_facts, plan_facts
from emosum_tui.doctor.findings import Finding, gib, worst_first
from emosum_tui.doctor.vocabulary import check_vocabulary
from emosum_tui.monitor.resources import free_disk_at

__all__ = ["MachineFacts", "PlanFacts", "gather_machine_facts", "plan_facts", "preflight", "run_preflight"]

# CUDA wheels on download.pytorch.org, newest first: pick the newest the driver can run.
CUDA_WHEELS = ((13, 0), (12, 8), (12, 6), (12, 4), (12, 1), (11, 8))
# When the cost model cannot price both devices: a consumer NVIDIA GPU runs mT5 training
# roughly 20-100x faster than a desktop CPU (fp32 GEMM throughput, same batch).
TYPICAL_GPU_SPEEDUP = (20, 100)
HUB_WEIGHTS = ("model.safetensors", "pytorch_model.bin")
# Share of the free memory (VRAM or RAM) or free disk past which a plan is "nearly full": a
# warning, since the estimate is an estimate and other processes take memory too.
MEMORY_TIGHT_SHARE = 0.85
DISK_TIGHT_SHARE = 0.9
HUB_SIZES = {"google/mt5-small": 1.2e9, "google/mt5-base": 2.3e9, "google/mt5-large": 4.9e9}


# ---------------------------------------------------------------------------------------------
# The checks. Each returns findings; the first ones are the likeliest causes of a slow run.


def _wheel_for(driver_cuda: str | None) -> str:
    """The pytorch.org wheel tag ("cu124") newest among those the driver can run."""
    if driver_cuda:
        try:
            major, minor = (int(x) for x in driver_cuda.split(".")[:2])
        except ValueError:
            major, minor = 0, 0
        for wheel in CUDA_WHEELS:
            if wheel <= (major, minor):
                return f"cu{wheel[0]}{wheel[1]}"
    return "cu124"


def install_fix(facts: MachineFacts) -> str:
    tag = _wheel_for(facts.driver_cuda)
    python = facts.torch.executable or "python"
    return (
        f'"{python}" -m pip uninstall -y torch && '
        f'"{python}" -m pip install torch --index-url https://download.pytorch.org/whl/{tag}'
        + (f" (the driver supports CUDA {facts.driver_cuda})" if facts.driver_cuda else "")
    )


def _slowdown_text(plan: PlanFacts | None) -> str:
    if plan and plan.seconds_per_step and plan.gpu_seconds_per_step:
        ratio = plan.seconds_per_step / plan.gpu_seconds_per_step
        return (
            f"cost model for {plan.preset or 'this plan'}: {plan.seconds_per_step:.1f} s/step on the CPU vs "
            f"{plan.gpu_seconds_per_step:.2f} s/step on the GPU (~{ratio:.0f}x slower)"
        )
    low, high = TYPICAL_GPU_SPEEDUP
    text = f"training on the CPU is typically {low}-{high}x slower than on this GPU"
    if plan and plan.seconds_per_step:
        text += f"; the cost model prices {plan.preset or 'this plan'} at {plan.seconds_per_step:.1f} s/step on the CPU"
        if plan.total_seconds:
            text += f" ({plan.total_seconds / 3600:.1f} h in all)"
    return text


def _versions(facts: MachineFacts) -> str:
    t = facts.torch
    parts = [f"torch {t.torch_version} ({t.build} build)"]
    if t.cuda_built:
        parts.append(f"built for CUDA {t.cuda_built}")
    if facts.driver_version:
        parts.append(f"NVIDIA driver {facts.driver_version}" + (f" (supports CUDA {facts.driver_cuda})" if facts.driver_cuda else ""))
    return ", ".join(parts)


def check_torch_build(facts: MachineFacts, plan: PlanFacts | None = None) -> list[Finding]:
    """Torch's build against the hardware: the CPU-only wheel next to an NVIDIA GPU comes first."""
    t = facts.torch
    if t.error:
        return [Finding("torch-missing", "error", "torch cannot be imported by the trainer's Python", t.error,
                        f"install torch into {t.executable or 'the environment'}: {install_fix(facts)}")]
    gpu_names = ", ".join(g.name for g in facts.gpus)
    if facts.gpus and not t.cuda_available:
        if t.build == "cpu":
            return [Finding(
                "cpu-torch-with-gpu", "error", "torch is a CPU-only build, but this machine has an NVIDIA GPU",
                f"NVML sees {gpu_names}; {_versions(facts)}; torch.cuda.is_available() = False. {_slowdown_text(plan)}.",
                f"install the CUDA build of torch: {install_fix(facts)}",
            )]
        mismatch = _runtime_newer_than_driver(t.cuda_built, facts.driver_cuda)
        evidence = f"NVML sees {gpu_names}; {_versions(facts)}; torch.cuda.is_available() = False"
        if t.cuda_error:
            evidence += f" ({t.cuda_error})"
        if mismatch:
            return [Finding(
                "cuda-driver-too-old", "error", "torch's CUDA runtime is newer than the NVIDIA driver supports",
                f"{evidence}. {_slowdown_text(plan)}.",
                f"update the NVIDIA driver (needs CUDA >= {t.cuda_built}), or install a matching torch: {install_fix(facts)}",
            )]
        return [Finding(
            "cuda-unavailable", "error", "torch has CUDA but cannot use the GPU",
            f"{evidence}. {_slowdown_text(plan)}.",
            "check CUDA_VISIBLE_DEVICES is not empty, that no other process holds the GPU exclusively, and reinstall "
            f"the driver or torch: {install_fix(facts)}",
        )]
    if not facts.gpus and t.build == "cpu":
        return [Finding(
            "cpu-only", "info", "CPU-only torch and no NVIDIA GPU: training runs on the CPU",
            f"{_versions(facts)}; {facts.gpu_note or 'NVML found no GPU'}; {facts.cpu_count} CPU threads",
            "expected on this machine; use a small preset (fast/demo) here, or a machine with an NVIDIA GPU for mt5-base",
        )]
    if t.cuda_available:
        devices = "; ".join(f"cuda:{d.index} {d.name} ({gib(d.total_memory)}, sm {d.capability})" for d in t.devices)
        return [Finding("cuda-ok", "ok", "torch uses the GPU", f"{_versions(facts)}; {devices}")]
    return [Finding("cpu-only", "info", "training runs on the CPU", f"{_versions(facts)}; {facts.gpu_note}",
                    "expected without an NVIDIA GPU")]


def _runtime_newer_than_driver(runtime: str | None, driver: str | None) -> bool:
    def parse(text: str) -> tuple[int, ...]:
        return tuple(int(x) for x in text.split(".")[:2] if x.isdigit())

    return bool(runtime and driver and parse(runtime) > parse(driver))


def check_cuda_versions(facts: MachineFacts) -> list[Finding]:
    """The CUDA runtime torch was built with against the newest one the driver supports."""
    t = facts.torch
    if not (t.cuda_available and t.cuda_built and facts.driver_cuda):
        return []
    if _runtime_newer_than_driver(t.cuda_built, facts.driver_cuda):
        return [Finding("cuda-driver-too-old", "warning", "torch's CUDA runtime is newer than the driver supports",
                        _versions(facts), f"update the NVIDIA driver, or: {install_fix(facts)}")]
    return [Finding("cuda-versions-ok", "ok", "CUDA runtime and driver match", _versions(facts))]


def _memory_fix(preset: Preset) -> str:
    batch, accum = preset["train.batch_size"], preset["train.grad_accum"]
    steps = []
    if batch > 1:
        steps.append(f"train.batch_size = {batch // 2} with train.grad_accum = {accum * 2} (same effective batch {batch * accum})")
    if not preset["model.gradient_checkpointing"]:
        steps.append("model.gradient_checkpointing = true")
    if preset["train.optimizer"] == "adamw":
        steps.append("train.optimizer = \"adafactor\" (~8 instead of 16 bytes/parameter; lr ~1e-3, grad_clip = 0)")
    steps.append(f"lower train.max_source_tokens (now {preset['train.max_source_tokens']})")
    return "; or ".join(steps)


def check_memory(preset: Preset, facts: MachineFacts, plan: PlanFacts | None) -> list[Finding]:
    """Estimated peak training memory against free VRAM (GPU run) or free RAM (CPU run)."""
    if plan is None or plan.peak_memory_bytes is None:
        if facts.device == "cuda" and facts.torch.devices:
            d = facts.torch.devices[0]
            have = f"{gib(d.free_memory if d.free_memory is not None else d.total_memory)} free VRAM on {d.name}"
        else:
            have = f"{gib(facts.ram_free)} free RAM of {gib(facts.ram_total)}"
        return [Finding("memory-unknown", "info", "peak memory not estimated", f"{have}; the cost model gave no peak memory")]
    peak = plan.peak_memory_bytes
    basis = plan.basis.get("peak_memory_bytes", "cost model")
    if facts.device == "cuda" and facts.torch.devices:
        device = facts.torch.devices[0]
        free = device.free_memory if device.free_memory is not None else device.total_memory
        where = f"free VRAM on {device.name}"
        if peak > free:
            spill = ("Windows drivers then spill into shared system memory and training slows 10-100x without an error"
                     if facts.windows else "expect CUDA out of memory")
            return [Finding("memory-over-vram", "error", "the plan needs more GPU memory than is free",
                            f"estimated peak {gib(peak)} > {gib(free)} {where} ({basis}); {spill}", _memory_fix(preset))]
        if peak > MEMORY_TIGHT_SHARE * free:
            return [Finding("memory-tight-vram", "warning", "GPU memory will be nearly full",
                            f"estimated peak {gib(peak)} of {gib(free)} {where} ({peak / free:.0%}, {basis})", _memory_fix(preset))]
        return [Finding("memory-ok", "ok", "GPU memory is enough", f"estimated peak {gib(peak)} of {gib(free)} {where} ({basis})")]
    free = facts.ram_free
    if peak > free:
        return [Finding("memory-over-ram", "error", "the plan needs more memory than the free RAM",
                        f"estimated peak {gib(peak)} > {gib(free)} free RAM of {gib(facts.ram_total)} ({basis}); "
                        "the system will swap or kill the trainer", _memory_fix(preset))]
    if peak > MEMORY_TIGHT_SHARE * free:
        return [Finding("memory-tight-ram", "warning", "RAM will be nearly full",
                        f"estimated peak {gib(peak)} of {gib(free)} free RAM ({peak / free:.0%}, {basis})", _memory_fix(preset))]
    return [Finding("memory-ok", "ok", "RAM is enough",
                    f"estimated peak {gib(peak)} of {gib(free)} free RAM (total {gib(facts.ram_total)}; {basis})")]


MICRO_BATCH_GAIN = 1.2  # ... and only when the cost model expects steps at least this much faster


def check_micro_batch(preset: Preset, facts: MachineFacts) -> list[Finding]:
    """On a GPU a micro-batch of a few rows leaves it waiting for the one Python thread that
    launches its kernels. When a larger micro-batch with the same effective batch fits this
    card and the cost model expects it faster, say which."""
    batch, accum = preset["train.batch_size"], preset["train.grad_accum"]
    if facts.device != "cuda" or not facts.torch.devices or accum < 2:
        return []
    from emosum_tui.core import calibration as cal
    from emosum_tui.core.cost_model import estimate
    from emosum_tui.core.device_speed import ASSUMED_DISK_BPS
    from emosum_tui.core.presets import with_values
    from emosum_tui.doctor.facts import ASSUMED_GPU_FLOPS, ASSUMED_GPU_MEMORY_BPS

    card = facts.torch.devices[0]
    free = card.free_memory if card.free_memory is not None else card.total_memory
    profile = cal.cached_device_profile()
    if profile is None or profile.device.startswith("cpu"):
        profile = cal.DeviceProfile(f"{card.name} (assumed)", ASSUMED_GPU_FLOPS, ASSUMED_GPU_MEMORY_BPS, ASSUMED_DISK_BPS)
    try:
        now = estimate(preset, device=profile)
        best = None
        k = 2
        while accum % k == 0:
            larger = estimate(with_values(preset, {"train.batch_size": batch * k, "train.grad_accum": accum // k}), device=profile)
            if larger.peak_memory_bytes > VRAM_HEADROOM * free:  # the same share the live rule keeps to
                break
            best, k = (k, larger), k * 2
    except Exception:  # the cost model failing here must not hide the other checks (check_memory reports it)
        return []
    if best is None or now.seconds_per_step < MICRO_BATCH_GAIN * best[1].seconds_per_step:
        return []
    k, larger = best
    return [Finding(
        "small-micro-batches", "info", f"this GPU can take micro-batches of {batch * k}: steps ~{now.seconds_per_step / larger.seconds_per_step:.1f}x faster",
        f"{batch} x {accum}: est. {now.seconds_per_step:.2f} s/step; {batch * k} x {accum // k}: est. {larger.seconds_per_step:.2f} s/step, "
        f"peak {gib(larger.peak_memory_bytes)} of {gib(free)} free VRAM on {card.name} (cost model on {profile.device}; "
        "small micro-batches leave the GPU waiting for kernel launches)",
        f"train.batch_size = {batch * k} with train.grad_accum = {accum // k} (same effective batch {batch * accum})",
    )]


def check_disk(preset: Preset, facts: MachineFacts, plan: PlanFacts | None) -> list[Finding]:
    """Estimated peak disk (checkpoints kept + the one being written + final model) against free space."""
    where = preset.output_dir
    if facts.disk_free is None:
        return [Finding("disk-unknown", "info", "free disk space unknown", f"could not read free space at {where}")]
    if plan is None or plan.peak_disk_bytes is None:
        return [Finding("disk-unknown", "info", "peak disk not estimated", f"{gib(facts.disk_free)} free at {where}; no estimate")]
    peak, free = plan.peak_disk_bytes, facts.disk_free
    basis = plan.basis.get("peak_disk_bytes", "cost model")
    fix = (f"free {gib(peak - free + 2**30)} at {where}, or set save.output_dir on a bigger disk, "
           f"or save.checkpoints_kept = 1 (now {preset['save.checkpoints_kept']})")
    if preset["train.optimizer"] == "adamw":
        fix += ", or train.optimizer = \"adafactor\" (checkpoints about the weights alone)"
    if peak > free:
        return [Finding("disk-full", "error", "the run will fill the disk",
                        f"estimated peak {gib(peak)} > {gib(free)} free at {where} ({basis})", fix)]
    if peak > DISK_TIGHT_SHARE * free:
        return [Finding("disk-tight", "warning", "the disk will be nearly full",
                        f"estimated peak {gib(peak)} of {gib(free)} free at {where} ({basis})", fix)]
    return [Finding("disk-ok", "ok", "disk space is enough", f"estimated peak {gib(peak)} of {gib(free)} free at {where} ({basis})")]


def check_precision(preset: Preset, facts: MachineFacts) -> list[Finding]:
    """fp16 overflows mT5 to NaN; bf16 needs a GPU that has it; auto picks bf16 where it is safe."""
    precision = preset["train.precision"]
    gpu = facts.device == "cuda"
    bf16 = facts.torch.bf16_on_gpu
    if precision == "fp16":
        if not gpu:
            return [Finding("fp16-on-cpu", "error", "fp16 needs a CUDA GPU", f"train.precision = \"fp16\", device = {facts.device}",
                            "set train.precision = \"fp32\" (or \"auto\")")]
        better = "bf16" if bf16 else "fp32"
        return [Finding("fp16-mt5", "warning", "mT5 in fp16 is known to overflow to NaN loss",
                        f"train.precision = \"fp16\"; GPU bf16 support = {bf16}",
                        f"set train.precision = \"{better}\"" + (" (this GPU supports bf16)" if bf16 else " (this GPU has no bf16)"))]
    if precision == "bf16" and gpu and not bf16:
        names = ", ".join(d.name for d in facts.torch.devices)
        return [Finding("bf16-unsupported", "error", "this GPU does not support bf16", f"train.precision = \"bf16\"; {names}",
                        "set train.precision = \"fp32\" (or \"auto\"); fp16 is not safe for mT5")]
    resolved = precision if precision != "auto" else ("bf16" if gpu and bf16 else "fp32")
    return [Finding("precision-ok", "ok", f"precision {resolved}",
                    f"train.precision = \"{precision}\" -> {resolved} on {facts.device}" + (f" (GPU bf16 support = {bf16})" if gpu else ""))]


def _offline() -> bool:
    return any(os.environ.get(name, "").strip().lower() in ("1", "true", "yes") for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def hub_reachable(timeout: float = 1.5) -> tuple[bool, str]:
    """Can this machine open a connection to the Hugging Face hub (HF_ENDPOINT)? (answer, why)."""
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
    parts = urlsplit(endpoint)
    host, port = parts.hostname or "huggingface.co", parts.port or (80 if parts.scheme == "http" else 443)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True, f"{host}:{port} answers"
    except OSError as exc:
        return False, f"{host}:{port} unreachable ({exc})"


def check_model_available(preset: Preset, reachable: Callable[[], tuple[bool, str]] = hub_reachable) -> list[Finding]:
    """The model's files are here (cache or local dir), or the first run will need the hub (is it reachable?)."""
    name = preset["model.name"]
    if preset.builds_model_from_config:
        return [Finding("model-ok", "ok", "model built from the preset's inline config", f"model.name = \"{name}\" (no download)")]
    local = Path(name).expanduser()
    if local.is_dir():
        missing = [f for f in ("config.json", "spiece.model") if not (local / f).exists()]
        if not any((local / w).exists() for w in HUB_WEIGHTS):
            missing.append(" or ".join(HUB_WEIGHTS))
        if missing:
            return [Finding("model-incomplete", "error", "the local model folder is incomplete",
                            f"{local} lacks {', '.join(missing)}", f"copy a complete model into {local} (save_pretrained)")]
        return [Finding("model-ok", "ok", "model found in a local folder", str(local))]
    config = cached_hub_file(name, "config.json")
    weights = next((p for w in HUB_WEIGHTS if (p := cached_hub_file(name, w)) is not None), None)
    if config is not None and weights is not None:
        return [Finding("model-ok", "ok", "model found in the local Hugging Face cache", str(weights.parent))]
    size = HUB_SIZES.get(name)
    evidence = f"\"{name}\" is not in the local Hugging Face cache" + (f" (~{size / 1e9:.1f} GB to download)" if size else "")
    fix = f"on a machine with internet: huggingface-cli download {name}; or set model.name to a local folder"
    if _offline():
        return [Finding("model-not-available", "error", "the model is not here and the hub is switched off",
                        evidence + "; HF_HUB_OFFLINE/TRANSFORMERS_OFFLINE is set", fix)]
    ok, why = reachable()
    if not ok:
        return [Finding("model-not-available", "error", "the model is not here and the hub cannot be reached",
                        f"{evidence}; {why}", fix)]
    return [Finding("model-download", "warning", "the model will be downloaded on the first run", f"{evidence}; {why}", fix)]


def check_data(preset: Preset) -> list[Finding]:
    """The train and validation files exist and their rows parse (the data layer's rules)."""
    fields = PairFields.from_preset(preset)
    out: list[Finding] = []
    for label, path in (("train", preset.train_file), ("validation", preset.validation_file)):
        if not path.is_file():
            out.append(Finding(f"data-missing-{label}", "error", f"the {label} file is missing", f"data.{label}_file -> {path}",
                               f"put the file there or set data.{label}_file in {preset.path.name}"))
            continue
        result = read_pairs(path, fields)
        if not result.pairs:  # a file_error (empty, not JSON Lines, GB18030) says why in one line
            out.append(Finding(f"data-empty-{label}", "error", f"the {label} file has no usable rows",
                               result.file_error() or f"{path}: 0 good rows, {len(result.problems)} bad", f"emosum-tui data check {path}"))
        elif result.problems:
            first = "; ".join(str(p) for p in result.problems[:3])
            out.append(Finding(f"data-bad-rows-{label}", "warning", f"the {label} file has bad rows (they will be skipped)",
                               f"{len(result.pairs)} good, {len(result.problems)} bad: {first}",
                               f"emosum-tui data check {path} lists them all"))
        else:
            out.append(Finding(f"data-ok-{label}", "ok", f"{label} data is valid", f"{path}: {len(result.pairs)} rows"))
    return out


def run_preflight(preset: Preset, facts: MachineFacts, plan: PlanFacts | None, *, check_files: bool = True) -> list[Finding]:
    """Every check, worst first (within a severity: torch build, versions, memory, disk, precision, model, data)."""
    findings = [
        *check_torch_build(facts, plan),
        *check_cuda_versions(facts),
        *check_memory(preset, facts, plan),
        *check_micro_batch(preset, facts),
        *check_disk(preset, facts, plan),
        *check_precision(preset, facts),
        *check_vocabulary(plan),
    ]
    if check_files:
        findings += [*check_model_available(preset), *check_data(preset)]
    return worst_first(findings)


def preflight(preset: Preset, facts: MachineFacts | None = None) -> list[Finding]:
    """Everything for one preset, as the presets screen shows it before a run starts.

    Blocking (the torch probe takes a few seconds): call it from a worker thread, and pass the
    `facts` of an earlier `gather_machine_facts()` to check several presets for the price of one probe.
    """
    if facts is None:
        facts = gather_machine_facts(preset.output_dir)
    else:
        facts = replace(facts, disk_free=free_disk_at(preset.output_dir))
    return run_preflight(preset, facts, plan_facts(preset, facts))
