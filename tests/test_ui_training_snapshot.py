"""A snapshot of the training screen on a recorded, finished run (fixed size, no clock in the frame)."""

from __future__ import annotations

from pathlib import Path

from support.pilot import SIZE, ScreenApp
from support.recorded_runs import write_finished_run

from emosum_tui.ui.screens.training import TrainingScreen
from emosum_tui.ui.widgets.diagnosis_panel import DiagnosisPanel
from emosum_tui.ui.widgets.loss_plot import LossPlot


def test_training_screen_finished_run(snap_compare, tmp_path: Path):
    run_dir = write_finished_run(tmp_path / "20261122-101010-demo")
    screen = TrainingScreen(run_dir, sample_resources=False)

    async def settled(pilot) -> None:
        while (screen.clock.done is None or screen.query_one(LossPlot).points("train") < 40
               or not screen.query_one(DiagnosisPanel).findings):
            await pilot.pause(0.05)
        await pilot.pause(1.2)  # one plot redraw (once a second) after the last point

    assert snap_compare(ScreenApp(screen), terminal_size=SIZE, run_before=settled)
