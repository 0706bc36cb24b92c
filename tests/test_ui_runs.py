"""The runs screen, `emosum-tui runs` and `emosum-tui watch` on real run directories in a private home."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from support.pilot import SIZE, wait_for
from support.recorded_runs import write_finished_run, write_live_prefix

from emosum_tui.cli import main
from emosum_tui.commands.runs_cmd import runs_table
from emosum_tui.commands.watch_cmd import resolve_run_dir
from emosum_tui.ui.preset_figures import PresetFigures
from emosum_tui.ui.screens.runs import RunsScreen
from emosum_tui.ui.screens.training import TrainingScreen
from emosum_tui.ui.widgets.loss_plot import LossPlot

pytestmark = pytest.mark.anyio


@pytest.fixture
def two_runs(home: Path) -> tuple[Path, Path]:
    """A finished run and a live one (its recorded pid is this test process, so it reads alive)."""
    runs = home / "runs"
    finished = write_finished_run(runs / "20261122-101010-demo")
    live = runs / "20261122-111111-fast"
    write_live_prefix(live, os.getpid())
    return finished, live


def test_runs_command_prints_preset_status_steps_loss_duration(two_runs, capsys):
    assert main(["runs"]) == 0
    out = capsys.readouterr().out
    finished_line = next(line for line in out.splitlines() if "101010-demo" in line)
    assert "finished" in finished_line and "40 / 40" in finished_line and "1.2" in finished_line and "22 s" in finished_line
    live_line = next(line for line in out.splitlines() if "111111-fast" in line)
    assert "running" in live_line
    assert out.index("111111-fast") < out.index("101010-demo")  # newest first


def test_runs_command_with_no_runs_says_so(home: Path):
    assert "no runs in" in runs_table()


def test_watch_resolves_paths_names_and_latest(two_runs, home: Path):
    finished, live = two_runs
    assert resolve_run_dir(str(finished)) == finished.resolve()
    assert resolve_run_dir(finished.name) == finished.resolve()
    assert resolve_run_dir("latest") == live
    not_a_run = home / "data"
    assert "not a run directory" in str(resolve_run_dir(str(not_a_run)))
    assert "no such run directory" in str(resolve_run_dir("nope"))


def test_watch_command_rejects_a_missing_run_with_a_clear_error(home: Path, capsys):
    assert main(["watch", str(home / "runs" / "missing")]) == 2
    assert "no such run directory" in capsys.readouterr().err


async def test_runs_screen_lists_runs_and_opens_one_with_its_history(two_runs):
    from textual.app import App
    from textual.widgets import DataTable

    finished, _live = two_runs

    class RunsApp(App):
        def on_mount(self) -> None:
            self.push_screen(RunsScreen())

    app = RunsApp()
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, RunsScreen)
        await wait_for(pilot, lambda: screen.loaded)
        table = screen.query_one(DataTable)
        assert table.row_count == 2
        statuses = [str(table.get_row_at(i)[2]) for i in range(2)]
        assert statuses == ["running", "finished"]
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TrainingScreen) and app.screen.reading is not None)
        training = app.screen
        assert training.run_dir == finished
        await wait_for(pilot, lambda: training.query_one(LossPlot).points("train") == 40)
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen)


async def test_watch_opens_the_app_on_the_run(two_runs):
    from emosum_tui.ui.app import EmosumApp

    finished, _ = two_runs
    app = EmosumApp(watch=finished)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, TrainingScreen) and app.screen.reading is not None)
        screen = app.screen
        await wait_for(pilot, lambda: screen.clock.done is not None)
        started = time.monotonic()
        await pilot.press("q")  # nothing launched by this console: quits at once
        await pilot.pause(0.2)
        assert app.return_code == 0 and time.monotonic() - started < 5


async def test_watching_leaves_the_presets_work_until_the_presets_are_shown(two_runs):
    """Under the training screen nobody reads the presets' figures: their work (a torch probe,
    token counts, the cost model) would take CPU from the run being watched."""
    from emosum_tui.ui.app import EmosumApp

    finished, _ = two_runs
    app = EmosumApp(watch=finished)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, TrainingScreen) and app.screen.clock.done is not None)
        await pilot.pause(0.5)
        presets = app.presets_screen
        assert not presets.background and all(presets.preset_figures[p.name] == PresetFigures() for p in presets.presets)
        await pilot.press("p")
        await wait_for(pilot, lambda: app.screen is presets and all(presets.preset_figures[p.name].estimate is not None for p in presets.presets))
        assert presets.background
