"""Preflight: before a run starts, say what will make it slow or make it fail.

The checks are pure functions over facts (`MachineFacts`: what NVML, torch and psutil say;
`PlanFacts`: what the cost model predicts), so recorded scenarios test them without a GPU.
`gather_machine_facts()` and `plan_facts()` do the I/O: NVML and psutil in this process, torch
in a subprocess (the console stays torch-free), and the cost model. The first check is the
costliest mistake: an NVIDIA GPU next to a CPU-only torch runs training many times slower.
"""

from __future__ import annotations

from dataclasses import replace

from emosum_tui.core.gpu_memory import VRAM_HEADROOM
from emosum_tui.core.presets import Preset
from emosum_tui.doctor.facts import MachineFacts, PlanFacts, gather_machine_facts, plan_facts
from emosum_tui.doctor.findings import Finding, gib, same_batch_fix, worst_first
from emosum_tui.doctor.preflight_files import check_data, check_model_available, hub_reachable
from emosum_tui.doctor.vocabulary import check_vocabulary
from emosum_tui.i18n import N_
from emosum_tui.i18n.phrase import Joined, Phrase
from emosum_tui.monitor.resources import free_disk_at

__all__ = ["MachineFacts", "PlanFacts", "check_data", "check_model_available", "gather_machine_facts", "hub_reachable",
           "plan_facts", "preflight", "run_preflight"]

# CUDA wheels on download.pytorch.org, newest first: pick the newest the driver can run.
CUDA_WHEELS = ((13, 0), (12, 8), (12, 6), (12, 4), (12, 1), (11, 8))
# When the cost model cannot price both devices: a consumer NVIDIA GPU runs mT5 training
# roughly 20-100x faster than a desktop CPU (fp32 GEMM throughput, same batch).
TYPICAL_GPU_SPEEDUP = (20, 100)
# Share of the free memory (VRAM or RAM) or free disk past which a plan is "nearly full": a
# warning, since the estimate is an estimate and other processes take memory too.
MEMORY_TIGHT_SHARE = 0.85
DISK_TIGHT_SHARE = 0.9


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


def install_fix(facts: MachineFacts) -> Phrase | str:
    """The commands that install the CUDA build of torch this driver can run."""
    tag = _wheel_for(facts.driver_cuda)
    python = facts.torch.executable or "python"
    command = (f'"{python}" -m pip uninstall -y torch && '
               f'"{python}" -m pip install torch --index-url https://download.pytorch.org/whl/{tag}')
    if facts.driver_cuda:
        return Phrase(N_("{command} (the driver supports CUDA {cuda})"), command=command, cuda=facts.driver_cuda)
    return command


def _slowdown_text(plan: PlanFacts | None) -> Phrase:
    preset = (plan.preset if plan else "") or Phrase(N_("this plan"))
    if plan and plan.seconds_per_step and plan.gpu_seconds_per_step:
        ratio = plan.seconds_per_step / plan.gpu_seconds_per_step
        return Phrase(N_("cost model for {preset}: {cpu} s/step on the CPU vs {gpu} s/step on the GPU (~{ratio}x slower)"),
                      preset=preset, cpu=f"{plan.seconds_per_step:.1f}", gpu=f"{plan.gpu_seconds_per_step:.2f}", ratio=f"{ratio:.0f}")
    low, high = TYPICAL_GPU_SPEEDUP
    if plan and plan.seconds_per_step and plan.total_seconds:
        return Phrase(N_("training on the CPU is typically {low}-{high}x slower than on this GPU; the cost model prices "
                         "{preset} at {seconds} s/step on the CPU ({hours} h in all)"),
                      low=low, high=high, preset=preset, seconds=f"{plan.seconds_per_step:.1f}", hours=f"{plan.total_seconds / 3600:.1f}")
    if plan and plan.seconds_per_step:
        return Phrase(N_("training on the CPU is typically {low}-{high}x slower than on this GPU; the cost model prices "
                         "{preset} at {seconds} s/step on the CPU"), low=low, high=high, preset=preset, seconds=f"{plan.seconds_per_step:.1f}")
    return Phrase(N_("training on the CPU is typically {low}-{high}x slower than on this GPU"), low=low, high=high)


def _versions(facts: MachineFacts) -> Phrase:
    t = facts.torch
    parts = [Phrase(N_("torch {version} ({build} build)"), version=str(t.torch_version), build=t.build)]
    if t.cuda_built:
        parts.append(Phrase(N_("built for CUDA {cuda}"), cuda=t.cuda_built))
    if facts.driver_version and facts.driver_cuda:
        parts.append(Phrase(N_("NVIDIA driver {version} (supports CUDA {cuda})"), version=facts.driver_version, cuda=facts.driver_cuda))
    elif facts.driver_version:
        parts.append(Phrase(N_("NVIDIA driver {version}"), version=facts.driver_version))
    return Joined(N_(", "), parts)


def check_torch_build(facts: MachineFacts, plan: PlanFacts | None = None) -> list[Finding]:
    """Torch's build against the hardware: the CPU-only wheel next to an NVIDIA GPU comes first."""
    t = facts.torch
    if t.error:
        fix = (Phrase(N_("install torch into {where}: {command}"), where=t.executable, command=install_fix(facts)) if t.executable
               else Phrase(N_("install torch into the environment: {command}"), command=install_fix(facts)))
        return [Finding("torch-missing", "error", N_("torch cannot be imported by the trainer's Python"), t.error, fix)]
    gpu_names = ", ".join(g.name for g in facts.gpus)
    if facts.gpus and not t.cuda_available:
        seen = Phrase(N_("NVML sees {gpus}; {versions}; torch.cuda.is_available() = False"), gpus=gpu_names, versions=_versions(facts))
        if t.build == "cpu":
            return [Finding(
                "cpu-torch-with-gpu", "error", N_("torch is a CPU-only build, but this machine has an NVIDIA GPU"),
                Phrase(N_("{evidence}. {slowdown}."), evidence=seen, slowdown=_slowdown_text(plan)),
                Phrase(N_("install the CUDA build of torch: {command}"), command=install_fix(facts)),
            )]
        mismatch = _runtime_newer_than_driver(t.cuda_built, facts.driver_cuda)
        if t.cuda_error:
            seen = Phrase(N_("NVML sees {gpus}; {versions}; torch.cuda.is_available() = False ({error})"), gpus=gpu_names,
                          versions=_versions(facts), error=t.cuda_error)
        evidence = Phrase(N_("{evidence}. {slowdown}."), evidence=seen, slowdown=_slowdown_text(plan))
        if mismatch:
            return [Finding(
                "cuda-driver-too-old", "error", N_("torch's CUDA runtime is newer than the NVIDIA driver supports"), evidence,
                Phrase(N_("update the NVIDIA driver (needs CUDA >= {cuda}), or install a matching torch: {command}"),
                       cuda=str(t.cuda_built), command=install_fix(facts)),
            )]
        return [Finding(
            "cuda-unavailable", "error", N_("torch has CUDA but cannot use the GPU"), evidence,
            Phrase(N_("check CUDA_VISIBLE_DEVICES is not empty, that no other process holds the GPU exclusively, and reinstall "
                      "the driver or torch: {command}"), command=install_fix(facts)),
        )]
    if not facts.gpus and t.build == "cpu":
        return [Finding(
            "cpu-only", "info", N_("CPU-only torch and no NVIDIA GPU: training runs on the CPU"),
            Phrase(N_("{versions}; {gpu_note}; {threads} CPU threads"), versions=_versions(facts),
                   gpu_note=facts.gpu_note or Phrase(N_("NVML found no GPU")), threads=facts.cpu_count),
            N_("expected on this machine; use a small preset (fast/demo) here, or a machine with an NVIDIA GPU for mt5-base"),
        )]
    if t.cuda_available:
        devices = "; ".join(f"cuda:{d.index} {d.name} ({gib(d.total_memory)}, sm {d.capability})" for d in t.devices)
        return [Finding("cuda-ok", "ok", N_("torch uses the GPU"), Joined(N_("; "), (_versions(facts), devices)))]
    return [Finding("cpu-only", "info", N_("training runs on the CPU"), Joined(N_("; "), (_versions(facts), facts.gpu_note)),
                    N_("expected without an NVIDIA GPU"))]


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
        return [Finding("cuda-driver-too-old", "warning", N_("torch's CUDA runtime is newer than the driver supports"),
                        _versions(facts), Phrase(N_("update the NVIDIA driver, or: {command}"), command=install_fix(facts)))]
    return [Finding("cuda-versions-ok", "ok", N_("CUDA runtime and driver match"), _versions(facts))]


def _memory_fix(preset: Preset) -> Phrase:
    batch, accum = preset["train.batch_size"], preset["train.grad_accum"]
    steps: list[Phrase | str] = []
    if batch > 1:
        steps.append(same_batch_fix(batch // 2, accum * 2, batch * accum))
    if not preset["model.gradient_checkpointing"]:
        steps.append("model.gradient_checkpointing = true")
    if preset["train.optimizer"] == "adamw":
        steps.append(Phrase(N_('train.optimizer = "adafactor" (~8 instead of 16 bytes/parameter; lr ~1e-3, grad_clip = 0)')))
    steps.append(Phrase(N_("lower train.max_source_tokens (now {tokens})"), tokens=preset["train.max_source_tokens"]))
    return Joined(N_("; or "), steps)


def _basis(plan: PlanFacts, key: str) -> Phrase | str:
    """What the cost model based a figure on (its own words), "cost model" when it did not say."""
    return plan.basis[key] if key in plan.basis else Phrase(N_("cost model"))


def check_memory(preset: Preset, facts: MachineFacts, plan: PlanFacts | None) -> list[Finding]:
    """Estimated peak training memory against free VRAM (GPU run) or free RAM (CPU run)."""
    if plan is None or plan.peak_memory_bytes is None:
        if facts.device == "cuda" and facts.torch.devices:
            d = facts.torch.devices[0]
            have = Phrase(N_("{free} free VRAM on {gpu}"), free=gib(d.free_memory if d.free_memory is not None else d.total_memory),
                          gpu=d.name)
        else:
            have = Phrase(N_("{free} free RAM of {total}"), free=gib(facts.ram_free), total=gib(facts.ram_total))
        return [Finding("memory-unknown", "info", N_("peak memory not estimated"),
                        Phrase(N_("{have}; the cost model gave no peak memory"), have=have))]
    peak = plan.peak_memory_bytes
    basis = _basis(plan, "peak_memory_bytes")
    if facts.device == "cuda" and facts.torch.devices:
        device = facts.torch.devices[0]
        free = device.free_memory if device.free_memory is not None else device.total_memory
        figures = {"peak": gib(peak), "free": gib(free), "gpu": device.name, "basis": basis}
        if peak > free:
            spill = Phrase(N_("Windows drivers then spill into shared system memory and training slows 10-100x without an error")
                           if facts.windows else N_("expect CUDA out of memory"))
            return [Finding("memory-over-vram", "error", N_("the plan needs more GPU memory than is free"),
                            Phrase(N_("estimated peak {peak} > {free} free VRAM on {gpu} ({basis}); {spill}"), **figures, spill=spill),
                            _memory_fix(preset))]
        if peak > MEMORY_TIGHT_SHARE * free:
            return [Finding("memory-tight-vram", "warning", N_("GPU memory will be nearly full"),
                            Phrase(N_("estimated peak {peak} of {free} free VRAM on {gpu} ({share}, {basis})"), **figures,
                                   share=f"{peak / free:.0%}"), _memory_fix(preset))]
        return [Finding("memory-ok", "ok", N_("GPU memory is enough"),
                        Phrase(N_("estimated peak {peak} of {free} free VRAM on {gpu} ({basis})"), **figures))]
    free = facts.ram_free
    figures = {"peak": gib(peak), "free": gib(free), "basis": basis}
    if peak > free:
        return [Finding("memory-over-ram", "error", N_("the plan needs more memory than the free RAM"),
                        Phrase(N_("estimated peak {peak} > {free} free RAM of {total} ({basis}); the system will swap or kill the trainer"),
                               **figures, total=gib(facts.ram_total)), _memory_fix(preset))]
    if peak > MEMORY_TIGHT_SHARE * free:
        return [Finding("memory-tight-ram", "warning", N_("RAM will be nearly full"),
                        Phrase(N_("estimated peak {peak} of {free} free RAM ({share}, {basis})"), **figures, share=f"{peak / free:.0%}"),
                        _memory_fix(preset))]
    return [Finding("memory-ok", "ok", N_("RAM is enough"),
                    Phrase(N_("estimated peak {peak} of {free} free RAM (total {total}; {basis})"), **figures, total=gib(facts.ram_total)))]


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
    priced_on: Phrase | str = profile.device if profile is not None else ""
    if profile is None or profile.device.startswith("cpu"):
        profile = cal.DeviceProfile(f"{card.name} (assumed)", ASSUMED_GPU_FLOPS, ASSUMED_GPU_MEMORY_BPS, ASSUMED_DISK_BPS)
        priced_on = Phrase(N_("{gpu} (assumed)"), gpu=card.name)
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
        "small-micro-batches", "info",
        Phrase(N_("this GPU can take micro-batches of {size}: steps ~{speedup}x faster"), size=batch * k,
               speedup=f"{now.seconds_per_step / larger.seconds_per_step:.1f}"),
        Phrase(N_("{batch} x {accum}: est. {now} s/step; {larger} x {fewer}: est. {then} s/step, peak {peak} of {free} free VRAM "
                  "on {gpu} (cost model on {device}; small micro-batches leave the GPU waiting for kernel launches)"),
               batch=batch, accum=accum, now=f"{now.seconds_per_step:.2f}", larger=batch * k, fewer=accum // k,
               then=f"{larger.seconds_per_step:.2f}", peak=gib(larger.peak_memory_bytes), free=gib(free), gpu=card.name,
               device=priced_on),
        same_batch_fix(batch * k, accum // k, batch * accum),
    )]


def check_disk(preset: Preset, facts: MachineFacts, plan: PlanFacts | None) -> list[Finding]:
    """Estimated peak disk (checkpoints kept + the one being written + final model) against free space."""
    where = str(preset.output_dir)
    if facts.disk_free is None:
        return [Finding("disk-unknown", "info", N_("free disk space unknown"), Phrase(N_("could not read free space at {where}"), where=where))]
    if plan is None or plan.peak_disk_bytes is None:
        return [Finding("disk-unknown", "info", N_("peak disk not estimated"),
                        Phrase(N_("{free} free at {where}; no estimate"), free=gib(facts.disk_free), where=where))]
    peak, free = plan.peak_disk_bytes, facts.disk_free
    figures = {"peak": gib(peak), "free": gib(free), "where": where, "basis": _basis(plan, "peak_disk_bytes")}
    room = {"amount": gib(peak - free + 2**30), "where": where, "kept": preset["save.checkpoints_kept"]}
    if preset["train.optimizer"] == "adamw":
        fix = Phrase(N_('free {amount} at {where}, or set save.output_dir on a bigger disk, or save.checkpoints_kept = 1 (now {kept}), '
                        'or train.optimizer = "adafactor" (checkpoints about the weights alone)'), **room)
    else:
        fix = Phrase(N_("free {amount} at {where}, or set save.output_dir on a bigger disk, or save.checkpoints_kept = 1 (now {kept})"),
                     **room)
    if peak > free:
        return [Finding("disk-full", "error", N_("the run will fill the disk"),
                        Phrase(N_("estimated peak {peak} > {free} free at {where} ({basis})"), **figures), fix)]
    if peak > DISK_TIGHT_SHARE * free:
        return [Finding("disk-tight", "warning", N_("the disk will be nearly full"),
                        Phrase(N_("estimated peak {peak} of {free} free at {where} ({basis})"), **figures), fix)]
    return [Finding("disk-ok", "ok", N_("disk space is enough"), Phrase(N_("estimated peak {peak} of {free} free at {where} ({basis})"), **figures))]


def check_precision(preset: Preset, facts: MachineFacts) -> list[Finding]:
    """fp16 overflows mT5 to NaN; bf16 needs a GPU that has it; auto picks bf16 where it is safe."""
    precision = preset["train.precision"]
    gpu = facts.device == "cuda"
    bf16 = facts.torch.bf16_on_gpu
    if precision == "fp16":
        if not gpu:
            return [Finding("fp16-on-cpu", "error", N_("fp16 needs a CUDA GPU"),
                            Phrase(N_('train.precision = "fp16", device = {device}'), device=facts.device),
                            N_('set train.precision = "fp32" (or "auto")'))]
        return [Finding("fp16-mt5", "warning", N_("mT5 in fp16 is known to overflow to NaN loss"),
                        N_('train.precision = "fp16"; GPU bf16 support = True') if bf16 else N_('train.precision = "fp16"; GPU bf16 support = False'),
                        N_('set train.precision = "bf16" (this GPU supports bf16)') if bf16 else N_('set train.precision = "fp32" (this GPU has no bf16)'))]
    if precision == "bf16" and gpu and not bf16:
        names = ", ".join(d.name for d in facts.torch.devices)
        return [Finding("bf16-unsupported", "error", N_("this GPU does not support bf16"),
                        Phrase(N_('train.precision = "bf16"; {gpus}'), gpus=names),
                        N_('set train.precision = "fp32" (or "auto"); fp16 is not safe for mT5'))]
    resolved = precision if precision != "auto" else ("bf16" if gpu and bf16 else "fp32")
    if not gpu:
        said = N_('train.precision = "{precision}" -> {resolved} on {device}')
    elif bf16:
        said = N_('train.precision = "{precision}" -> {resolved} on {device} (GPU bf16 support = True)')
    else:
        said = N_('train.precision = "{precision}" -> {resolved} on {device} (GPU bf16 support = False)')
    return [Finding("precision-ok", "ok", Phrase(N_("precision {precision}"), precision=resolved),
                    Phrase(said, precision=precision, resolved=resolved, device=facts.device))]


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
