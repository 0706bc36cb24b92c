"""Live diagnosis: why is this run slow (or failing), from its events and resource samples.

Each rule is a pure function of a `LiveWindow` (`live_window`) that returns a `Finding` with the
numbers it saw, or None. Tests feed recorded sequences (tests/scenarios/); the console feeds the
live ones. `RULES` lists them likeliest cause first: a CPU run next to an idle GPU explains a
100 s step before anything else. The speed rules live here, the loss rules in `live_loss_rules`.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable

from emosum_tui.core.events import CheckpointSaved, RunStart, TrainPlan
from emosum_tui.core.gpu_memory import VRAM_HEADROOM, vram_full
from emosum_tui.doctor.findings import Finding, gib, same_batch_fix, worst_first
from emosum_tui.doctor.live_loss_rules import loss_flat, loss_not_finite
from emosum_tui.doctor.live_window import LiveWindow, gpu_text, mean_known, median_text, trainer_cpu_text
from emosum_tui.i18n import N_
from emosum_tui.i18n.phrase import Joined, Phrase

GPU_IDLE_UTIL = 15.0  # % below which a GPU counts as idle
GPU_BUSY_UTIL = 50.0  # % at or above which a GPU counts as busy (below it, it waits for the CPU)
SPILL_GPU_UTIL = 60.0  # % a GPU spilling VRAM stays below: it waits on system RAM
VRAM_FULL_SHARE = 0.6  # share of samples with VRAM full that makes the spill pattern
ERRATIC_CV = 0.35  # step-time coefficient of variation that counts as erratic
CPU_BOUND_CORE = 85.0  # trainer CPU % (100 = one core) that counts as a saturated main thread
SPIKE_FACTOR = 3.0  # a save this many times a median step is a spike ...
SPIKE_MIN_SECONDS = 1.0  # ... and at least this long: a sub-second save costs nothing worth a finding
SPIKE_WARNING_SHARE = 0.10  # share of the wall time in save spikes that makes them a warning
THROTTLE_SHARE = 0.5  # share of busy samples that must be throttled
SYSTEM_SATURATED = 85.0  # system CPU % (of all cores) at which processes wait for a core
OTHERS_SHARE = 0.25  # share of the machine's cores that other processes must take to be named
OTHERS_MIN_CORES = 0.5  # ... and at least this many cores
MIN_SAMPLES = 3  # resource samples (or measured steps) a rule needs before it judges
SPILL_MIN_STEPS = 4  # measured steps before step times can look erratic
MAX_SUGGESTED_WORKERS = 4  # DataLoader workers to suggest at most (one core stays with the trainer)


def _batch_fix(window: LiveWindow) -> Phrase:
    plan = window.plan
    parts: list[Phrase | str] = []
    if plan and plan.batch_size > 1:
        parts.append(same_batch_fix(plan.batch_size // 2, plan.grad_accum * 2, plan.batch_size * plan.grad_accum))
    parts += ["model.gradient_checkpointing = true", Phrase(N_("lower train.max_source_tokens / max_target_tokens"))]
    return Joined(N_("; or "), parts)


# ---------------------------------------------------------------------------------------------
# The rules, likeliest cause of a slow run first.


def cpu_while_gpu_idle(window: LiveWindow) -> Finding | None:
    """The trainer runs on the CPU while an NVIDIA GPU sits idle: a CPU-only torch, or CUDA not usable."""
    if not window.on_cpu:
        return None
    gpus = [g for s in window.samples for g in window.run_gpus(s)]  # those the run could use: CUDA_VISIBLE_DEVICES may hide the rest
    if not gpus:
        return None
    by_index = {g.index for g in gpus}
    idle = [i for i in sorted(by_index) if (mean_known([g.util_percent for g in gpus if g.index == i]) or 0.0) < GPU_IDLE_UTIL]
    if not idle:
        return None
    readings = [g for g in gpus if g.index == idle[0]]
    return Finding(
        "cpu-while-gpu-idle",
        "error",
        N_("training runs on the CPU while the NVIDIA GPU is idle"),
        Phrase(N_("trainer device = {device} ({source}); {gpu}; {median}; {cpu}"), device=window.device, source=window.device_source,
               gpu=gpu_text(readings), median=median_text(window.step_seconds()), cpu=trainer_cpu_text(window)),
        N_("torch here is a CPU-only build or cannot use CUDA: install the CUDA build "
           "(pip install torch --index-url https://download.pytorch.org/whl/cu124; `emosum-tui doctor` gives the exact command "
           "for this driver), then resume the run"),
    )


def cpu_training(window: LiveWindow) -> Finding | None:
    """A CPU run on a machine without an NVIDIA GPU: expected, but it explains the step time."""
    if not window.on_cpu or any(s.gpus for s in window.samples):
        return None
    note = next((s.gpu_note for s in reversed(window.samples) if s.gpu_note), None) or Phrase(N_("no NVIDIA GPU"))
    return Finding(
        "cpu-training",
        "info",
        N_("training on the CPU (no NVIDIA GPU)"),
        Phrase(N_("trainer device = {device}; {note}; {median}; {cpu}"), device=window.device, note=note,
               median=median_text(window.step_seconds()), cpu=trainer_cpu_text(window)),
        N_("expected on this machine; for mt5-base use a machine with an NVIDIA GPU, or a smaller preset (fast/demo) here"),
    )


def vram_spill(window: LiveWindow) -> Finding | None:
    """VRAM at the brim, a GPU that waits and erratic steps: memory spilling into shared system RAM."""
    if not window.on_gpu:
        return None
    readings = [g for g in window.gpu_readings() if g.memory_used is not None and g.memory_total]
    seconds = [e.step_seconds for e in window.steps if e.step_seconds > 0]
    if len(readings) < MIN_SAMPLES or len(seconds) < SPILL_MIN_STEPS:
        return None
    full = [g for g in readings if vram_full(g.memory_used, g.memory_total)]
    util = mean_known([g.util_percent for g in readings])
    cv = statistics.pstdev(seconds) / statistics.fmean(seconds)
    if len(full) < VRAM_FULL_SHARE * len(readings) or util is None or util >= SPILL_GPU_UTIL or cv < ERRATIC_CV:
        return None
    peak = max(g.memory_used for g in readings)  # type: ignore[type-var]
    return Finding(
        "vram-spill",
        "warning",
        N_("GPU memory is full and steps are erratic: likely spilling into shared system memory"),
        Phrase(N_("{gpu}: {peak} of {total} used ({share}) in {full}/{samples} samples, util {util}% avg; step times "
                  "{fastest}-{slowest} s (variation {variation}, {median})"),
               gpu=readings[-1].name, peak=gib(peak), total=gib(readings[-1].memory_total), share=f"{peak / readings[-1].memory_total:.0%}",
               full=len(full), samples=len(readings), util=f"{util:.0f}", fastest=f"{min(seconds):.1f}", slowest=f"{max(seconds):.1f}",
               variation=f"{cv:.0%}", median=median_text(seconds)),
        _batch_fix(window),
    )


def _batch_growth(plan: TrainPlan | None, used: int, total: int) -> int:
    """How many times larger a micro-batch can be at the same effective batch: the largest power
    of two that divides grad_accum and, scaling all of today's VRAM use (more than activations
    alone will grow), stays under VRAM_HEADROOM of the card. 1 = no room or no grad-accum."""
    if plan is None or plan.grad_accum < 2 or not total:
        return 1
    k = 1
    while plan.grad_accum % (2 * k) == 0 and used * 2 * k <= VRAM_HEADROOM * total:
        k *= 2
    return k


def input_bound(window: LiveWindow) -> Finding | None:
    """The GPU waits on the trainer's main thread. With VRAM to spare and grad-accum > 1 the
    likeliest cause is micro-batches too small for the GPU: each one is thousands of small
    kernels that one Python thread launches, so fewer, larger micro-batches at the same
    effective batch keep the GPU busy. Otherwise it is the input pipeline (collation on the main
    thread)."""
    if not window.on_gpu:
        return None
    readings = window.gpu_readings()
    util = mean_known([g.util_percent for g in readings])
    cpu = mean_known([s.trainer_cpu_percent for s in window.samples])
    if util is None or cpu is None or len(readings) < MIN_SAMPLES or util >= GPU_BUSY_UTIL or cpu < CPU_BOUND_CORE:
        return None
    full = [g for g in readings if vram_full(g.memory_used, g.memory_total)]
    if len(full) >= VRAM_FULL_SHARE * len(readings):
        return None  # that is the spill pattern, not the input pipeline
    cores = window.samples[-1].cpu_count
    workers = max(1, min(MAX_SUGGESTED_WORKERS, cores - 1))
    evidence = Phrase(N_("{gpu}; {cpu}, system CPU {system}%"), gpu=gpu_text(readings), cpu=trainer_cpu_text(window),
                      system=f"{mean_known([s.cpu_percent for s in window.samples]):.0f}")
    used = max((g.memory_used or 0) for g in readings)
    total = readings[-1].memory_total or 0
    plan = window.plan
    k = _batch_growth(plan, used, total)
    if plan is not None and k > 1:
        return Finding(
            "small-batches",
            "warning",
            Phrase(N_("the GPU waits for the CPU: micro-batches of {size} are too small for it"), size=plan.batch_size),
            Phrase(N_("{evidence}; micro-batch {batch} x grad-accum {accum}, {median}"), evidence=evidence, batch=plan.batch_size,
                   accum=plan.grad_accum, median=median_text(window.step_seconds())),
            Phrase(N_("train.batch_size = {batch} with train.grad_accum = {accum} (same effective batch {effective}: {k}x fewer "
                      "micro-batches, so {k}x fewer kernel launches per step; VRAM grows with the micro-batch: keep it below {headroom})"),
                   batch=plan.batch_size * k, accum=plan.grad_accum // k, effective=plan.batch_size * plan.grad_accum, k=k,
                   headroom=f"{VRAM_HEADROOM:.0%}"),
        )
    return Finding(
        "input-bound",
        "warning",
        N_("the GPU waits for the CPU: the input pipeline is the bottleneck"),
        evidence,
        Phrase(N_("train.dataloader_workers = {workers} (DataLoader worker processes); train.group_by_length = true "
                  "(less padding); tokenise once before training, not per batch"), workers=workers),
    )


def cpu_contention(window: LiveWindow) -> Finding | None:
    """Every core is busy and other processes (a notebook, another run, a scan) hold a good share
    of them: the trainer waits for CPU, on a CPU run for its math, on a GPU run to feed the GPU."""
    samples = [s for s in window.samples if s.trainer_cpu_percent is not None]
    if len(samples) < MIN_SAMPLES:
        return None
    cores = samples[-1].cpu_count
    system = statistics.fmean(s.cpu_percent for s in samples)
    trainer_cores = statistics.fmean(s.trainer_cpu_percent or 0.0 for s in samples) / 100
    others = system / 100 * cores - trainer_cores
    if system < SYSTEM_SATURATED or others < max(OTHERS_MIN_CORES, OTHERS_SHARE * cores):
        return None
    return Finding(
        "cpu-contention",
        "warning",
        Phrase(N_("other processes use {others} of {cores} cores: the trainer competes for the CPU"), others=f"{others:.1f}", cores=cores),
        Phrase(N_("system CPU {system}% of {cores} logical cores, the trainer {trainer} cores, everything else {others} cores "
                  "(mean of {samples} samples); {median}"), system=f"{system:.0f}", cores=cores, trainer=f"{trainer_cores:.1f}",
               others=f"{others:.1f}", samples=len(samples), median=median_text(window.step_seconds())),
        N_("close or pause what else is running (Windows: Task Manager > Processes, sorted by CPU; Linux/macOS: top), "
           "or wait for it to finish; this console itself uses 1-2% of one core"),
    )


def checkpoint_spikes(window: LiveWindow) -> Finding | None:
    """Step time jumps at save steps: checkpoint I/O (AdamW checkpoints are 3x the weights)."""
    saves = window.of_kind(CheckpointSaved)
    steps = window.steps
    seconds = [e.step_seconds for e in steps if e.step_seconds > 0]
    if not saves or len(seconds) < MIN_SAMPLES:
        return None
    median = statistics.median(seconds)
    end_t = {e.step: e.t for e in steps}
    begin_t = {e.step: e.t for e in window.begins}
    restarts = [e.t for e in window.of_kind(RunStart)]
    costs = []
    for save in saves:
        gap = begin_t[save.step + 1] - end_t[save.step] if save.step in end_t and save.step + 1 in begin_t else 0.0
        if any(end_t.get(save.step, 0.0) < t < begin_t.get(save.step + 1, 0.0) for t in restarts):
            gap = 0.0  # a stop, then a resume: the wait was the user's, not the save's
        costs.append((save, max(save.seconds, gap)))
    spikes = [(s, c) for s, c in costs if c >= SPIKE_FACTOR * median and c >= SPIKE_MIN_SECONDS]
    if not spikes:
        return None
    spent = sum(c for _, c in spikes)
    train_time = sum(seconds) + spent
    share = spent / train_time if train_time else 0.0
    listed = Joined(N_(", "), [Phrase(N_("step {step}: {seconds} s ({size})"), step=s.step, seconds=f"{c:.1f}", size=gib(s.bytes))
                               for s, c in spikes[:4]])
    save_steps = window.save_steps
    rest = N_("keep fewer checkpoints (save.checkpoints_kept = 1); Adafactor checkpoints are ~1/3 the size of AdamW's; "
              "put save.output_dir on a local SSD")
    return Finding(
        "checkpoint-spikes",
        "warning" if share >= SPIKE_WARNING_SHARE else "info",
        N_("step time spikes at save steps: checkpoint writing"),
        Phrase(N_("saves took {saves} vs median {median} s/step; {share} of the wall time so far"), saves=listed,
               median=f"{median:.2f}", share=f"{share:.0%}"),
        Phrase(N_("raise save.steps (now {steps}); {rest}"), steps=save_steps, rest=Phrase(rest)) if save_steps
        else Phrase(N_("raise save.steps; {rest}"), rest=Phrase(rest)),
    )


def throttling(window: LiveWindow) -> Finding | None:
    """The busy GPU runs below its clocks: too hot or at its power limit."""
    busy = [g for g in window.gpu_readings() if (g.util_percent or 0) >= GPU_BUSY_UTIL]
    if len(busy) < MIN_SAMPLES:
        return None
    throttled = [g for g in busy if g.throttle_reasons]
    if len(throttled) < THROTTLE_SHARE * len(busy):
        return None
    reasons = sorted({r for g in throttled for r in g.throttle_reasons})
    temps = [g.temperature_c for g in busy if g.temperature_c is not None]
    powers = [(g.power_w, g.power_limit_w) for g in busy if g.power_w is not None and g.power_limit_w]
    said = [Phrase(N_("{gpu}: throttled ({reasons}) in {throttled}/{busy} busy samples"), gpu=busy[-1].name, reasons=", ".join(reasons),
                   throttled=len(throttled), busy=len(busy))]
    if temps:
        said.append(Phrase(N_("temperature up to {celsius} °C"), celsius=f"{max(temps):.0f}"))
    if powers:
        power, limit = max(powers)
        said.append(Phrase(N_("power {watts} W of a {limit} W limit"), watts=f"{power:.0f}", limit=f"{limit:.0f}"))
    thermal = any("thermal" in r for r in reasons)
    if thermal:
        title = N_("the GPU is throttling: too hot")
        fix = N_("cool the GPU: clean the fans, raise the laptop, use a cooling pad, lower the room temperature")
    else:
        title = N_("the GPU is throttling: at its power limit")
        fix = N_("use the high-performance power plan and keep a laptop plugged in; a raised power limit (nvidia-smi -pl) helps if allowed")
    return Finding("gpu-throttling", "warning", title, Joined(N_("; "), said), fix)


Rule = Callable[[LiveWindow], Finding | None]
RULES: tuple[Rule, ...] = (
    cpu_while_gpu_idle,
    loss_not_finite,
    vram_spill,
    input_bound,
    throttling,
    cpu_contention,
    checkpoint_spikes,
    loss_flat,
    cpu_training,
)


def diagnose(window: LiveWindow) -> list[Finding]:
    """Every rule that fires, worst first (within a severity, in `RULES` order)."""
    return worst_first([f for rule in RULES if (f := rule(window)) is not None])
