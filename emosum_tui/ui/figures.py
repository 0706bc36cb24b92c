"""The presets screen's figures, worked out off the UI thread: estimates, token counts, the
speed-up decomposition, a calibration, and the doctor's preflight (machine facts, then findings).

Plain functions that return values (an error is a message string, never an exception), called
from the screen's thread workers; they know nothing of widgets. Torch-free: the cost model,
token statistics and calibration launcher they call are too (a calibration measures in its own
subprocess).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from emosum_tui.core.presets import Preset, PresetError
from emosum_tui.i18n import _
from emosum_tui.i18n.phrase import shown
from emosum_tui.ui.widgets.estimate_table import EstimateCell

if TYPE_CHECKING:
    from emosum_tui.core.calibration import DeviceProfile
    from emosum_tui.core.decompose import Factor
    from emosum_tui.core.probe_job import ProbeProgress
    from emosum_tui.core.token_stats import TokenReport
    from emosum_tui.doctor.facts import MachineFacts
    from emosum_tui.doctor.findings import Finding
    from emosum_tui.doctor.torch_probe import TorchFacts

# Estimates, token counts, the decomposition and a calibration spec read the same data and fill
# the same token-length cache files: one at a time, so two threads never write one cache file at
# once. The work is bound by the GIL anyway, so nothing is lost.
DATA_LOCK = threading.Lock()


def error_text(exc: BaseException) -> str:
    """A user's mistake reads as its message; anything else also names its type."""
    return str(exc) if isinstance(exc, (PresetError, OSError, ValueError)) else f"{type(exc).__name__}: {exc}"


def measured_device() -> DeviceProfile | None:
    """The throughput prior measured on this machine (by a calibration or `emosum-tui doctor`), if any."""
    from emosum_tui.core.calibration import cached_device_profile

    return cached_device_profile()


def estimate_cell(preset: Preset, s_per_step: float | None = None) -> EstimateCell:
    """The cost model's estimate of `preset`, with what this machine measured before.

    `s_per_step` pins the time per step and leaves out every machine-dependent figure (the
    device prior, a cached calibration): tests and snapshots see the same numbers everywhere."""
    try:
        from emosum_tui.core import calibration, cost_model

        with DATA_LOCK:
            device = cached = None
            if s_per_step is None:
                device = measured_device()
                cached = calibration.cached_calibration(calibration.spec_for(preset))
            result = cost_model.estimate(preset, s_per_step=s_per_step, calibration=cached, device=device)
    except Exception as exc:  # a figure that cannot be had is shown, never a crash
        return EstimateCell(error=error_text(exc))
    return EstimateCell(estimate=result)


def decomposition(base: Preset, other: Preset, pinned: bool = False) -> tuple[list[Factor] | None, str]:
    """(factors, "") from the cost model, or (None, why not)."""
    try:
        from emosum_tui.core.decompose import decompose

        device = None if pinned else measured_device()
        with DATA_LOCK:
            return list(decompose(base, other, device=device)), ""
    except Exception as exc:
        return None, _("cannot decompose: {error}").format(error=error_text(exc))


def token_figures(preset: Preset) -> tuple[TokenReport | None, str]:
    """(TokenReport, "") of the preset's data, or (None, why not)."""
    try:
        from emosum_tui.core.token_stats import token_report

        with DATA_LOCK:
            return token_report(preset), ""
    except Exception as exc:
        return None, error_text(exc)


@dataclass(frozen=True)
class CalibrationOutcome:
    """How a calibration ended: measured (`ok`), cancelled or failed, in one line for the user."""

    text: str
    ok: bool = False


def calibrate(preset: Preset, report: Callable[[str], None], should_stop: Callable[[], bool]) -> CalibrationOutcome:
    """Measure a few real steps of `preset` in the probe subprocess (the cost engineer's
    CalibrationJob), passing progress lines to `report`; `should_stop()` cancels it. The result
    is cached by the job, where `estimate_cell` finds it."""
    name = preset.name

    def progress(step: ProbeProgress) -> None:
        if step.total:
            report(_("calibrating {name}: {what} {done}/{total}").format(name=name, what=step.what, done=step.done, total=step.total))
        else:
            report(_("calibrating {name}: {what}").format(name=name, what=step.what))

    try:
        from emosum_tui.core.calibration import CalibrationJob

        with DATA_LOCK:
            job = CalibrationJob(preset, use_cache=False, on_progress=progress)
        job.start()
        stopped = False
        while not job.done:
            if should_stop():
                job.cancel()
                stopped = True
                break
            time.sleep(0.2)
        result = job.wait(timeout=30)
    except Exception as exc:
        return CalibrationOutcome(_("calibration of {name} failed: {error}").format(name=name, error=error_text(exc)))
    if result is not None:
        return CalibrationOutcome(_("calibrated {name}: {seconds} s per optimizer step on {device}").format(
            name=name, seconds=f"{result.step_seconds:.3g}", device=result.device), ok=True)
    if stopped:
        return CalibrationOutcome(_("calibration of {name} cancelled").format(name=name))
    return CalibrationOutcome(_("calibration of {name} failed: {error}").format(name=name, error=shown(job.error)))


def machine_facts(disk_path: Path, torch_facts: TorchFacts | None = None) -> tuple[MachineFacts | None, str]:
    """(facts, "") of this machine (NVML, psutil, torch in a probe subprocess: a few seconds;
    `torch_facts` given: no probe), or (None, why not). `preflight_findings` reuses them for
    every preset."""
    try:
        from emosum_tui.doctor.facts import gather_machine_facts

        return gather_machine_facts(disk_path, torch_facts), ""
    except Exception as exc:
        return None, error_text(exc)


def preflight_findings(preset: Preset, facts: MachineFacts | None) -> list[Finding]:
    """The doctor's preflight of `preset`, worst first: every check with `facts`, or without them
    (figures pinned, or the machine could not be asked) only the checks of the preset's own files
    (model, data). A check that crashes is itself a finding, never an exception."""
    from emosum_tui.doctor.findings import Finding, worst_first

    try:
        from emosum_tui.doctor import preflight as doctor

        with DATA_LOCK:  # plan facts read the token-length caches the estimates fill
            if facts is None:
                return worst_first([*doctor.check_model_available(preset), *doctor.check_data(preset)])
            return doctor.preflight(preset, facts)
    except Exception as exc:
        return [Finding("preflight-failed", "warning", _("preflight could not finish"), error_text(exc))]
