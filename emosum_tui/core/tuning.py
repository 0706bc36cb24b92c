"""The fastest micro-batch that fits, at the same effective batch, measured on this device.

The Trainer's `auto_find_batch_size` finds a batch that fits, not the fastest one; on a GPU a
larger micro-batch with less accumulation is often several times faster per step (fewer,
larger kernel launches), on a CPU it hardly matters. So each candidate `batch x grad-accum`
with the preset's product is timed on this machine (the tuning probe: the calibration's model,
switches and lengths, the candidates side by side in one subprocess), and the pick is the fastest whose peak memory stays under `MEMORY_HEADROOM` of the
device's. A pick less than `FLAT_SHARE` faster than the preset's own choice is no change: the
curve is flat (on a CPU it is). The change is offered as a new preset file, never applied.
Torch-free: the measuring happens in the probes.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from emosum_tui.core.calibration import spec_for
from emosum_tui.core.calibration_match import mean_lengths
from emosum_tui.core.gpu_memory import VRAM_HEADROOM
from emosum_tui.core.paths import cache_dir
from emosum_tui.core.presets import Preset, derived_preset_text
from emosum_tui.core.probe_job import ProbeJob, ProbeProgress
from emosum_tui.i18n import N_
from emosum_tui.i18n.phrase import Translatable

MEMORY_HEADROOM = VRAM_HEADROOM  # plan a micro-batch to reach at most this share of the device's memory
FLAT_SHARE = 0.10  # a pick must be at least 10% faster per step than the preset's own to be offered
MAX_CANDIDATES = 6
TUNE_TIMEOUT_S = 600.0


@dataclass(frozen=True)
class Candidate:
    """One micro-batch x grad-accum, measured (or why not)."""

    batch_size: int
    grad_accum: int
    step_seconds: float | None = None
    tokens_per_second: float | None = None  # non-padding tokens of a step at this data's mean lengths
    peak_memory_bytes: int = 0
    device_memory_bytes: int = 0
    device: str = ""
    error: str | None = None

    @property
    def fits(self) -> bool:
        if self.step_seconds is None:
            return False
        if not (self.peak_memory_bytes and self.device_memory_bytes):
            return True  # not reported: it ran, so it fitted
        return self.peak_memory_bytes <= MEMORY_HEADROOM * self.device_memory_bytes


@dataclass(frozen=True)
class TuneResult:
    preset: str
    effective_batch: int
    current: tuple[int, int]
    candidates: list[Candidate]
    pick: Candidate | None  # the fastest that fits
    flat: bool  # no candidate beats the preset's own by FLAT_SHARE
    verdict: str  # English (--json); a Translatable, `shown()` where drawn

    @property
    def changes(self) -> dict[str, int]:
        """The preset edit to offer ({} when there is nothing worth changing)."""
        if self.pick is None or self.flat or (self.pick.batch_size, self.pick.grad_accum) == self.current:
            return {}
        return {"train.batch_size": self.pick.batch_size, "train.grad_accum": self.pick.grad_accum}


def candidate_shapes(batch: int, grad_accum: int, limit: int = MAX_CANDIDATES) -> list[tuple[int, int]]:
    """Every (micro-batch, grad-accum) with the same product, the preset's own included; the
    largest micro-batches when there are more than `limit`."""
    effective = batch * grad_accum
    shapes = [(b, effective // b) for b in range(1, effective + 1) if effective % b == 0]
    if len(shapes) > limit:
        keep = shapes[-(limit - 1):]
        shapes = ([(batch, grad_accum)] if (batch, grad_accum) not in keep else []) + keep
    return sorted(shapes)


def measure_all(preset: Preset, shapes: list[tuple[int, int]], on_progress: Callable[[ProbeProgress], None] | None = None,
                timeout: float = TUNE_TIMEOUT_S) -> list[Candidate]:
    """Time every candidate in one tuning probe (`emosum_tui.probe.tune`) on this machine."""
    spec = spec_for(preset)
    source, target = mean_lengths(spec.rows)
    cache_dir().mkdir(parents=True, exist_ok=True)
    files = []
    for prefix, body in (("tune-spec-", asdict(spec)), ("tune-candidates-", [list(s) for s in shapes])):
        handle, name = tempfile.mkstemp(prefix=prefix, suffix=".json", dir=cache_dir())
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(body, out)
        files.append(Path(name))
    probe = ProbeJob("emosum_tui.probe.tune", [str(f) for f in files], on_progress).start()
    try:
        finished = probe.wait(timeout)
    finally:
        if not probe.done:
            probe.cancel()
        for file in files:
            file.unlink(missing_ok=True)
    if not finished or probe.result is None:
        why = probe.error or Translatable(N_("the tuning probe gave no result in {seconds} s"), seconds=f"{timeout:.0f}")
        return [Candidate(b, ga, error=why) for b, ga in shapes]
    device, total = str(probe.result.get("device", "")), int(probe.result.get("device_memory_bytes", 0) or 0)
    found = []
    for row in probe.result.get("candidates", []):
        b, ga, step = int(row["batch_size"]), int(row["grad_accum"]), row.get("step_seconds")
        if step is None:
            why = str(row["error"]) if "error" in row else Translatable(N_("not measured"))
            found.append(Candidate(b, ga, device=device, error=why))
            continue
        tokens = (source + target) * b * ga
        found.append(Candidate(b, ga, float(step), tokens / step if step > 0 else None, int(row.get("peak_memory_bytes", 0)),
                               total, device))
    return found


def choose(preset: Preset, candidates: list[Candidate]) -> TuneResult:
    """The fastest candidate that fits, and whether it is worth a change."""
    current = (preset["train.batch_size"], preset["train.grad_accum"])
    fitting = [c for c in candidates if c.fits]
    pick = min(fitting, key=lambda c: c.step_seconds or float("inf")) if fitting else None
    own = next((c for c in candidates if (c.batch_size, c.grad_accum) == current and c.step_seconds), None)
    measured = [c.step_seconds for c in fitting if c.step_seconds]
    if pick is None:
        verdict = Translatable(N_("no candidate ran within memory"))
        return TuneResult(preset.name, current[0] * current[1], current, candidates, None, True, verdict)
    gain = (own.step_seconds / pick.step_seconds - 1.0) if own and own.step_seconds and pick.step_seconds else 0.0
    spread = (max(measured) / min(measured) - 1.0) if measured else 0.0
    flat = own is not None and gain < FLAT_SHARE
    fastest, own_shape = f"{pick.batch_size} x {pick.grad_accum}", f"{current[0]} x {current[1]}"
    if flat:
        verdict = Translatable(N_("flat: the fastest ({fastest}) is {gain} faster than the preset's {own} (slowest candidate "
                                  "x{spread} the fastest); nothing worth changing on {device}"),
                               fastest=fastest, gain=f"{gain:.0%}", own=own_shape, spread=f"{1 + spread:.2f}", device=pick.device)
    else:
        verdict = Translatable(N_("{fastest} is {gain} faster per step than {own} on {device}, same effective batch {batch}"),
                               fastest=fastest, gain=f"{gain:.0%}", own=own_shape, device=pick.device,
                               batch=current[0] * current[1])
    return TuneResult(preset.name, current[0] * current[1], current, candidates, pick, flat, verdict)


def tune(preset: Preset, on_progress: Callable[[ProbeProgress], None] | None = None) -> TuneResult:
    """Measure every candidate of the preset's effective batch here and choose."""
    shapes = candidate_shapes(preset["train.batch_size"], preset["train.grad_accum"])
    return choose(preset, measure_all(preset, shapes, on_progress))


def tuned_preset_text(preset: Preset, result: TuneResult) -> str:
    """The offered preset: extends the tuned one with only the micro-batch and grad-accum."""
    pick = result.pick
    assert pick is not None and result.changes
    description = (f"{preset.name} with micro-batch {pick.batch_size} x grad-accum {pick.grad_accum} (same effective batch "
                   f"{result.effective_batch}): measured fastest on {pick.device} by estimate --tune")
    return derived_preset_text(preset, result.changes, description)
