"""Live diagnosis: why is this run slow (or failing), from its events and resource samples.

Each rule is a pure function of a `LiveWindow` (the run's recent events plus a sequence of
`ResourceSample`s) that returns a `Finding` with the numbers it saw, or None. Tests feed
recorded sequences (tests/scenarios/); the console feeds the live ones. `RULES` lists them
likeliest cause first: a CPU run next to an idle GPU explains a 100 s step before anything else.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TypeVar

from emosum_tui.core.events import CheckpointSaved, Event, RunStart, StepBegin, StepEnd, TrainPlan
from emosum_tui.doctor.findings import Finding, gib, worst_first
from emosum_tui.monitor.resources import GpuReading, ResourceSample

GPU_IDLE_UTIL = 15.0  # % below which a GPU counts as idle
VRAM_FULL = 0.95  # share of VRAM that counts as full (the spill zone on Windows)
VRAM_HEADROOM = 0.8  # share of VRAM a larger micro-batch may be planned to reach
ERRATIC_CV = 0.35  # step-time coefficient of variation that counts as erratic
CPU_BOUND_CORE = 85.0  # trainer CPU % (100 = one core) that counts as a saturated main thread
SPIKE_FACTOR = 3.0  # a save this many times a median step is a spike
THROTTLE_SHARE = 0.5  # share of busy samples that must be throttled
SYSTEM_SATURATED = 85.0  # system CPU % (of all cores) at which processes wait for a core
OTHERS_SHARE = 0.25  # share of the machine's cores that other processes must take to be named

E = TypeVar("E", bound=Event)


@dataclass(frozen=True)
class LiveWindow:
    """What a rule may look at: events (all of the run so far, or a recent tail) and recent samples.

    The views of one kind of event (`steps`, `plan`...) are computed once per window: the rules
    ask for them a dozen times, and after 5,000 steps each scan of the events was 2 ms. A caller
    that already holds the events by kind (the live diagnoser) passes them as `by_kind`."""

    events: Sequence[Event]
    samples: Sequence[ResourceSample]
    warmup_steps: int = 0
    save_steps: int | None = None
    precision: str = ""  # the preset's train.precision ("" = unknown)
    learning_rate: float | None = None
    by_kind: dict[type, list[Event]] | None = field(default=None, repr=False, compare=False)  # `events` sorted by type

    @cached_property
    def _by_kind(self) -> dict[type, list[Event]]:
        if self.by_kind is not None:
            return self.by_kind
        kinds: dict[type, list[Event]] = {}
        for event in self.events:
            kinds.setdefault(type(event), []).append(event)
        return kinds

    def of_kind(self, kind: type[E]) -> list[E]:
        """The window's events of one kind, in log order."""
        return self._by_kind.get(kind, [])  # type: ignore[return-value]

    @cached_property
    def plan(self) -> TrainPlan | None:
        plans = self.of_kind(TrainPlan)
        return plans[-1] if plans else None

    @cached_property
    def device(self) -> str:
        """The trainer's device as it reported it ("cpu", "cuda:0"); before the train plan, what its
        environment said at start (torch cannot use CUDA -> "cpu"); "" when nothing is known yet."""
        plan = self.plan
        if plan and plan.device:
            return plan.device.lower()
        starts = [e for e in self.of_kind(RunStart) if e.environment.cuda_available is not None]
        if starts:
            return "cuda" if starts[-1].environment.cuda_available else "cpu"
        return ""

    @property
    def device_source(self) -> str:
        plan = self.plan
        return "train plan" if plan and plan.device else "trainer environment"

    @property
    def on_cpu(self) -> bool:
        return self.device.startswith("cpu")

    @property
    def on_gpu(self) -> bool:
        return self.device.startswith("cuda")

    @property
    def steps(self) -> list[StepEnd]:
        return self.of_kind(StepEnd)

    @property
    def begins(self) -> list[StepBegin]:
        return self.of_kind(StepBegin)

    @cached_property
    def _step_seconds(self) -> list[float]:
        done = [e.step_seconds for e in self.steps if e.step_seconds > 0]
        begins = self.begins
        if begins and self.samples and (not self.steps or self.steps[-1].step < begins[-1].step):
            running = self.samples[-1].t - begins[-1].t
            if running > 0 and (not done or running > max(done)):
                done.append(running)
        return done

    def step_seconds(self) -> list[float]:
        """Finished steps' durations, plus the one still running when it is already longer than them all."""
        return list(self._step_seconds)

    def gpu_index(self) -> int:
        device = self.device
        if ":" in device:
            try:
                return int(device.split(":", 1)[1])
            except ValueError:
                return 0
        return 0

    def gpu_readings(self, index: int | None = None) -> list[GpuReading]:
        """Readings of one GPU across the samples (the trainer's, by default)."""
        index = self.gpu_index() if index is None else index
        return [g for s in self.samples for g in s.gpus if g.index == index]


def _mean(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.fmean(known) if known else None


def _median_text(seconds: list[float]) -> str:
    if not seconds:
        return "no step finished yet"
    median = statistics.median(seconds)
    shown = f"{median:.1f}" if median >= 1 else f"{median:.2f}"  # a 0.13 s step is not "0.1 s"
    return f"median {shown} s/step over {len(seconds)} steps"


def _trainer_cpu_text(window: LiveWindow) -> str:
    cpu = _mean([s.trainer_cpu_percent for s in window.samples])
    if cpu is None:
        return "trainer CPU not measured"
    cores = window.samples[-1].cpu_count
    return f"trainer CPU {cpu:.0f}% (100% = one core; {cores} logical cores)"


def _gpu_text(readings: list[GpuReading]) -> str:
    first = readings[-1]
    util = _mean([g.util_percent for g in readings])
    used = _mean([g.memory_used for g in readings])
    util_text = "util not readable" if util is None else f"util {util:.0f}% avg over {len(readings)} samples"
    return f"GPU {first.index} {first.name}: {util_text}, {gib(used)} of {gib(first.memory_total)} used"


def _batch_fix(window: LiveWindow) -> str:
    plan = window.plan
    parts = []
    if plan and plan.batch_size > 1:
        parts.append(
            f"train.batch_size = {plan.batch_size // 2} with train.grad_accum = {plan.grad_accum * 2} "
            f"(same effective batch {plan.batch_size * plan.grad_accum})"
        )
    parts += ["model.gradient_checkpointing = true", "lower train.max_source_tokens / max_target_tokens"]
    return "; or ".join(parts)


# ---------------------------------------------------------------------------------------------
# The rules, likeliest cause of a slow run first.


def cpu_while_gpu_idle(window: LiveWindow) -> Finding | None:
    """The trainer runs on the CPU while an NVIDIA GPU sits idle: a CPU-only torch, or CUDA not usable."""
    if not window.on_cpu:
        return None
    gpus = [g for s in window.samples for g in s.gpus]
    if not gpus:
        return None
    by_index = {g.index for g in gpus}
    idle = [i for i in sorted(by_index) if (_mean([g.util_percent for g in gpus if g.index == i]) or 0.0) < GPU_IDLE_UTIL]
    if not idle:
        return None
    readings = [g for g in gpus if g.index == idle[0]]
    return Finding(
        "cpu-while-gpu-idle",
        "error",
        "training runs on the CPU while the NVIDIA GPU is idle",
        f"trainer device = {window.device} ({window.device_source}); {_gpu_text(readings)}; {_median_text(window.step_seconds())}; "
        f"{_trainer_cpu_text(window)}",
        "torch here is a CPU-only build or cannot use CUDA: install the CUDA build "
        "(pip install torch --index-url https://download.pytorch.org/whl/cu124; `emosum-tui doctor` gives the exact command "
        "for this driver), then resume the run",
    )


def cpu_training(window: LiveWindow) -> Finding | None:
    """A CPU run on a machine without an NVIDIA GPU: expected, but it explains the step time."""
    if not window.on_cpu or any(s.gpus for s in window.samples):
        return None
    note = next((s.gpu_note for s in reversed(window.samples) if s.gpu_note), "no NVIDIA GPU")
    return Finding(
        "cpu-training",
        "info",
        "training on the CPU (no NVIDIA GPU)",
        f"trainer device = {window.device}; {note}; {_median_text(window.step_seconds())}; {_trainer_cpu_text(window)}",
        "expected on this machine; for mt5-base use a machine with an NVIDIA GPU, or a smaller preset (fast/demo) here",
    )


def vram_spill(window: LiveWindow) -> Finding | None:
    """VRAM at the brim, a GPU that waits and erratic steps: memory spilling into shared system RAM."""
    if not window.on_gpu:
        return None
    readings = [g for g in window.gpu_readings() if g.memory_used is not None and g.memory_total]
    seconds = [e.step_seconds for e in window.steps if e.step_seconds > 0]
    if len(readings) < 3 or len(seconds) < 4:
        return None
    full = [g for g in readings if g.memory_used / g.memory_total >= VRAM_FULL]  # type: ignore[operator]
    util = _mean([g.util_percent for g in readings])
    cv = statistics.pstdev(seconds) / statistics.fmean(seconds)
    if len(full) < 0.6 * len(readings) or util is None or util >= 60 or cv < ERRATIC_CV:
        return None
    peak = max(g.memory_used for g in readings)  # type: ignore[type-var]
    return Finding(
        "vram-spill",
        "warning",
        "GPU memory is full and steps are erratic: likely spilling into shared system memory",
        f"{readings[-1].name}: {gib(peak)} of {gib(readings[-1].memory_total)} used ({peak / readings[-1].memory_total:.0%}) "
        f"in {len(full)}/{len(readings)} samples, util {util:.0f}% avg; step times {min(seconds):.1f}-{max(seconds):.1f} s "
        f"(variation {cv:.0%}, {_median_text(seconds)})",
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
    kernels that one Python thread launches (measured on an H100, `full` at 2 x 4: GPU ~17%
    busy, trainer 100% of one core, 0.61 s/step; the same effective batch as 8 x 1: 0.21 s/step).
    Otherwise it is the input pipeline (collation on the main thread)."""
    if not window.on_gpu:
        return None
    readings = window.gpu_readings()
    util = _mean([g.util_percent for g in readings])
    cpu = _mean([s.trainer_cpu_percent for s in window.samples])
    if util is None or cpu is None or len(readings) < 3 or util >= 50 or cpu < CPU_BOUND_CORE:
        return None
    full = [g for g in readings if g.memory_used and g.memory_total and g.memory_used / g.memory_total >= VRAM_FULL]
    if len(full) >= 0.6 * len(readings):
        return None  # that is the spill pattern, not the input pipeline
    cores = window.samples[-1].cpu_count
    workers = max(1, min(4, cores - 1))
    evidence = f"{_gpu_text(readings)}; {_trainer_cpu_text(window)}, system CPU {_mean([s.cpu_percent for s in window.samples]):.0f}%"
    used = max((g.memory_used or 0) for g in readings)
    total = readings[-1].memory_total or 0
    plan = window.plan
    k = _batch_growth(plan, used, total)
    if plan is not None and k > 1:
        return Finding(
            "small-batches",
            "warning",
            f"the GPU waits for the CPU: micro-batches of {plan.batch_size} are too small for it",
            f"{evidence}; micro-batch {plan.batch_size} x grad-accum {plan.grad_accum}, {_median_text(window.step_seconds())}",
            f"train.batch_size = {plan.batch_size * k} with train.grad_accum = {plan.grad_accum // k} (same effective batch "
            f"{plan.batch_size * plan.grad_accum}: {k}x fewer micro-batches, so {k}x fewer kernel launches per step; "
            f"VRAM grows with the micro-batch: keep it below {VRAM_HEADROOM:.0%})",
        )
    return Finding(
        "input-bound",
        "warning",
        "the GPU waits for the CPU: the input pipeline is the bottleneck",
        evidence,
        f"train.dataloader_workers = {workers} (DataLoader worker processes); train.group_by_length = true "
        "(less padding); tokenise once before training, not per batch",
    )


def cpu_contention(window: LiveWindow) -> Finding | None:
    """Every core is busy and other processes (a notebook, another run, a scan) hold a good share
    of them: the trainer waits for CPU, on a CPU run for its math, on a GPU run to feed the GPU."""
    samples = [s for s in window.samples if s.trainer_cpu_percent is not None]
    if len(samples) < 3:
        return None
    cores = samples[-1].cpu_count
    system = statistics.fmean(s.cpu_percent for s in samples)
    trainer_cores = statistics.fmean(s.trainer_cpu_percent or 0.0 for s in samples) / 100
    others = system / 100 * cores - trainer_cores
    if system < SYSTEM_SATURATED or others < max(0.5, OTHERS_SHARE * cores):
        return None
    return Finding(
        "cpu-contention",
        "warning",
        f"other processes use {others:.1f} of {cores} cores: the trainer competes for the CPU",
        f"system CPU {system:.0f}% of {cores} logical cores, the trainer {trainer_cores:.1f} cores, everything else "
        f"{others:.1f} cores (mean of {len(samples)} samples); {_median_text(window.step_seconds())}",
        "close or pause what else is running (Windows: Task Manager > Processes, sorted by CPU; Linux/macOS: top), "
        "or wait for it to finish; this console itself uses 1-2% of one core",
    )


def checkpoint_spikes(window: LiveWindow) -> Finding | None:
    """Step time jumps at save steps: checkpoint I/O (AdamW checkpoints are 3x the weights)."""
    saves = window.of_kind(CheckpointSaved)
    steps = window.steps
    seconds = [e.step_seconds for e in steps if e.step_seconds > 0]
    if not saves or len(seconds) < 3:
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
    spikes = [(s, c) for s, c in costs if c >= SPIKE_FACTOR * median and c >= 1.0]
    if not spikes:
        return None
    spent = sum(c for _, c in spikes)
    train_time = sum(seconds) + spent
    share = spent / train_time if train_time else 0.0
    listed = ", ".join(f"step {s.step}: {c:.1f} s ({gib(s.bytes)})" for s, c in spikes[:4])
    save_steps = window.save_steps
    return Finding(
        "checkpoint-spikes",
        "warning" if share >= 0.10 else "info",
        "step time spikes at save steps: checkpoint writing",
        f"saves took {listed} vs median {median:.2f} s/step; {share:.0%} of the wall time so far",
        (f"raise save.steps (now {save_steps}); " if save_steps else "raise save.steps; ")
        + "keep fewer checkpoints (save.checkpoints_kept = 1); Adafactor checkpoints are ~1/3 the size of AdamW's; "
        "put save.output_dir on a local SSD",
    )


def throttling(window: LiveWindow) -> Finding | None:
    """The busy GPU runs below its clocks: too hot or at its power limit."""
    busy = [g for g in window.gpu_readings() if (g.util_percent or 0) >= 50]
    if len(busy) < 3:
        return None
    throttled = [g for g in busy if g.throttle_reasons]
    if len(throttled) < THROTTLE_SHARE * len(busy):
        return None
    reasons = sorted({r for g in throttled for r in g.throttle_reasons})
    temps = [g.temperature_c for g in busy if g.temperature_c is not None]
    powers = [(g.power_w, g.power_limit_w) for g in busy if g.power_w is not None and g.power_limit_w]
    evidence = f"{busy[-1].name}: throttled ({', '.join(reasons)}) in {len(throttled)}/{len(busy)} busy samples"
    if temps:
        evidence += f"; temperature up to {max(temps):.0f} °C"
    if powers:
        power, limit = max(powers)
        evidence += f"; power {power:.0f} W of a {limit:.0f} W limit"
    thermal = any("thermal" in r for r in reasons)
    fix = (
        "cool the GPU: clean the fans, raise the laptop, use a cooling pad, lower the room temperature"
        if thermal
        else "use the high-performance power plan and keep a laptop plugged in; a raised power limit (nvidia-smi -pl) helps if allowed"
    )
    return Finding("gpu-throttling", "warning", "the GPU is throttling: " + ("too hot" if thermal else "at its power limit"), evidence, fix)


def loss_not_finite(window: LiveWindow) -> Finding | None:
    """NaN or inf loss: training has diverged; mT5 in fp16 is the usual cause."""
    bad = [e for e in window.steps if e.loss is not None and not math.isfinite(e.loss)]
    if not bad:
        return None
    first = bad[0]
    precision = window.plan.precision if window.plan and window.plan.precision else window.precision
    evidence = f"loss = {first.loss} at step {first.step}"
    if first.learning_rate is not None:
        evidence += f", learning rate {first.learning_rate:.2e}"
    if first.grad_norm is not None:
        evidence += f", grad norm {first.grad_norm}"
    evidence += f"; {len(bad)} non-finite steps; precision {precision or 'unknown'}"
    if "fp16" in precision:
        fix = "set train.precision = \"bf16\" (GPU with bf16) or \"fp32\": mT5 overflows in fp16; resume from the last checkpoint"
    else:
        lr = window.learning_rate
        fix = (f"halve train.learning_rate (now {lr:g})" if lr else "lower train.learning_rate") + \
            "; keep train.grad_clip = 1.0 (AdamW); resume from the last checkpoint before the NaN"
    return Finding("loss-nan", "error", "the loss is NaN/inf: training diverged", evidence, fix)


def loss_flat(window: LiveWindow) -> Finding | None:
    """After warm-up the loss should fall; the same level at the end of the window as at its start says it is not learning."""
    warmup = window.warmup_steps
    losses = [(e.step, e.loss) for e in window.steps if e.step > warmup and e.loss is not None and math.isfinite(e.loss)]
    if len(losses) < 20:
        return None
    k = max(5, len(losses) // 4)
    head, tail = losses[:k], losses[-k:]
    early, late = statistics.fmean(v for _, v in head), statistics.fmean(v for _, v in tail)
    if late < 0.98 * early:
        return None
    lr = window.learning_rate
    return Finding(
        "loss-flat",
        "warning",
        "the loss is not decreasing after warm-up",
        f"mean loss {early:.3f} over steps {head[0][0]}-{head[-1][0]} vs {late:.3f} over steps {tail[0][0]}-{tail[-1][0]} "
        f"(warm-up {window.warmup_steps} steps)",
        (f"check train.learning_rate (now {lr:g}): " if lr else "check train.learning_rate: ")
        + "AdamW ~5e-5-3e-4, Adafactor ~1e-3 for T5; check the data with `emosum-tui data check` (targets that repeat one template "
        "give a loss that stops early)",
    )


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
