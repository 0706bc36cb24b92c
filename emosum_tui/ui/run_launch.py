"""What a `StartRun` does: the run directory, the estimate kept there, the preset copy, the trainer.

Blocking work (files, a process start, perhaps the cost model): the app calls `launch_run` from
a thread worker. The trainer always reads `<run_dir>/preset.toml`, so a start and a resume
train exactly the file kept with the run.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from emosum_tui.i18n import _
from emosum_tui.ui.messages import StartRun

if TYPE_CHECKING:
    from emosum_tui.core.cost_model import Estimate
    from emosum_tui.core.presets import Preset


class LaunchError(Exception):
    """A run that could not be started; the message says why, to the user."""


@dataclass(frozen=True)
class Launch:
    """A started trainer: its run directory, its process, and what went wrong on the side ("")."""

    run_dir: Path
    process: subprocess.Popen
    note: str = ""


def launch_run(request: StartRun, s_per_step: float | None = None) -> Launch:
    """Start the trainer `request` asks for. A new run gets a fresh run directory and its
    estimate (`s_per_step` pins the cost model's when the request carries none); a resume keeps
    the run's own estimate. Raises LaunchError."""
    from emosum_tui.core.rundir import launch_trainer, new_run_dir, run_preset_file, write_run_preset

    preset = request.preset
    resume = request.resume_in is not None
    try:
        if request.resume_in is None:
            run_dir = new_run_dir(preset.name)
            note = keep_estimate(run_dir, request.estimate, preset, s_per_step)
        else:
            run_dir, note = request.resume_in, ""
        preset_file = run_preset_file(run_dir)
        if preset.path.resolve() != preset_file.resolve():  # resuming the run's own copy: it is already there
            write_run_preset(run_dir, preset)
        process = launch_trainer(preset_file, run_dir, resume=resume)
    except OSError as exc:
        problem = _("could not resume {preset}: {error}") if resume else _("could not start {preset}: {error}")
        raise LaunchError(problem.format(preset=preset.name, error=exc)) from exc
    return Launch(run_dir, process, note)


def keep_estimate(run_dir: Path, estimate: Estimate | None, preset: Preset, s_per_step: float | None) -> str:
    """Write the estimate the run starts with (`estimate.json`), to compare with what it
    measures; "" or why it could not be kept (the run matters more than its estimate)."""
    from emosum_tui.core.estimate_record import write_estimate
    from emosum_tui.ui.figures import estimate_cell

    if estimate is None:
        cell = estimate_cell(preset, s_per_step)
        if cell.estimate is None:
            return _("estimate not kept with the run: {error}").format(error=cell.error)
        estimate = cell.estimate
    try:
        write_estimate(run_dir, estimate)
    except OSError as exc:
        return _("estimate not kept with the run: {error}").format(error=exc)
    return ""
