"""The console shell: app-wide keys, starting a run, quitting with a run alive, no torch inside.

Real parts only: the app under the Textual pilot, real trainer processes started through
`launch_trainer`, a real `python` subprocess for the torch-free check.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from support.pilot import SIZE, wait_for
from textual.pilot import Pilot

from emosum_tui import cli
from emosum_tui.core.rundir import ESTIMATE_FILE, stop_requested
from emosum_tui.ui.app import EmosumApp
from emosum_tui.ui.messages import StartRun
from emosum_tui.ui.screens.presets import PresetsScreen
from emosum_tui.ui.screens.quit_dialog import QuitScreen

pytestmark = pytest.mark.anyio



@pytest.fixture
def console_home(home: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    shared = tmp_path_factory.getbasetemp() / "ui-app-cache"
    monkeypatch.setenv("EMOSUM_CACHE", str(shared))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path_factory.getbasetemp() / "empty-hf-cache"))
    return home


@pytest.fixture
def sleeper() -> Iterator[Callable[[], subprocess.Popen]]:
    """Real child processes standing in for a long training run (this test's own, ended after)."""
    started: list[subprocess.Popen] = []

    def start() -> subprocess.Popen:
        process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def estimates_done(app: EmosumApp) -> Callable[[], bool]:
    return lambda: all(app.presets_screen.preset_figures[p.name].estimate is not None for p in app.presets_screen.presets)


async def test_q_quits_at_once_when_no_run_is_alive(console_home: Path) -> None:
    app = EmosumApp(s_per_step=1.0)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, estimates_done(app))
        await pilot.press("q")
        await pilot.pause()
        assert app.return_code == 0
        assert not app.is_running


async def test_quit_with_a_live_run_asks_and_leave_keeps_it_running(console_home: Path, sleeper) -> None:
    app = EmosumApp(s_per_step=1.0)
    async with app.run_test(size=SIZE) as pilot:
        run_dir = console_home / "runs" / "20260101-000000-demo"
        (run_dir / "control").mkdir(parents=True)
        process = sleeper()
        app.launched.append((run_dir, process))
        await pilot.press("q")
        await wait_for(pilot, lambda: isinstance(app.screen, QuitScreen))
        await pilot.press("escape")  # cancel: nothing happens
        assert isinstance(app.screen, PresetsScreen) and app.is_running
        await pilot.press("q")
        await wait_for(pilot, lambda: isinstance(app.screen, QuitScreen))
        await pilot.press("l")
        await pilot.pause()
        assert not app.is_running
    assert process.poll() is None  # left running in the background
    assert not stop_requested(run_dir)


async def test_quit_with_a_live_run_and_stop_requests_a_checkpoint_stop(console_home: Path, sleeper) -> None:
    app = EmosumApp(s_per_step=1.0)
    async with app.run_test(size=SIZE) as pilot:
        run_dir = console_home / "runs" / "20260101-000000-fast"
        (run_dir / "control").mkdir(parents=True)
        app.launched.append((run_dir, sleeper()))
        await pilot.press("q")
        await wait_for(pilot, lambda: isinstance(app.screen, QuitScreen))
        await pilot.press("s")
        await pilot.pause()
        assert not app.is_running
    assert stop_requested(run_dir)


async def test_runs_key_opens_the_runs_screen_and_p_comes_back(console_home: Path) -> None:
    from emosum_tui.ui.screens.runs import RunsScreen

    app = EmosumApp(s_per_step=1.0)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, RunsScreen))
        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(app.screen, PresetsScreen))
        await wait_for(pilot, estimates_done(app))


def test_console_command_rejects_a_missing_preset_before_opening(console_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--preset", "nosuch"]) == 2
    error = capsys.readouterr().err
    assert "nosuch" in error and "known: demo, fast, full, lean, original" in error
    assert cli.main(["--start"]) == 2
    assert "--start needs --preset" in capsys.readouterr().err


@pytest.mark.slow
async def test_start_launches_the_trainer_shows_it_and_quit_can_stop_it(console_home: Path) -> None:
    """`emosum-tui --preset demo --start`: a real trainer process, its training screen, back to
    the presets, and quit -> stop: the trainer is asked to checkpoint and exit, and does."""
    from emosum_tui.ui.screens.training import TrainingScreen

    app = EmosumApp(preset="demo", start=True, s_per_step=1.0)
    process: subprocess.Popen | None = None
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: isinstance(app.screen, TrainingScreen))
            [(run_dir, process)] = app.launched
            assert run_dir.parent == console_home / "runs" and run_dir.name.endswith("-demo")
            estimate = json.loads((run_dir / ESTIMATE_FILE).read_text(encoding="utf-8"))
            assert estimate["preset"] == "demo" and estimate["optimizer_steps"] > 0
            await pilot.press("p")
            await wait_for(pilot, lambda: isinstance(app.screen, PresetsScreen))
            assert process.poll() is None  # back on the presets, the run goes on
            await pilot.press("q")
            await wait_for(pilot, lambda: isinstance(app.screen, QuitScreen))
            await pilot.press("s")
            await pilot.pause()
            assert not app.is_running
        assert stop_requested(run_dir)
        assert process.wait(180) == 0  # stopped cleanly (checkpoint, then exit)
        status = json.loads((run_dir / "status.json").read_text(encoding="utf-8"))
        assert status["state"] in ("stopped", "finished")
    finally:
        if process is not None and process.poll() is None:
            process.kill()
            process.wait(10)


class StartsRecorded(EmosumApp):
    """The console, recording each `StartRun` it handles; EmosumApp's own handler then launches it."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.starts: list[StartRun] = []

    def on_start_run(self, message: StartRun) -> None:
        self.starts.append(message)


async def leave_the_training_screen(pilot: Pilot) -> None:
    """Back to the presets once the training screen has drawn, so it closes as a user closes it
    (not torn down by the test's end halfway through its first frames)."""
    app = pilot.app
    await wait_for(pilot, lambda: getattr(app.screen, "reading", None) is not None)
    await pilot.press("p")
    await wait_for(pilot, lambda: isinstance(app.screen, PresetsScreen))


def end_trainers(app: EmosumApp) -> None:
    """The trainers these tests start are only checked for having started: end them."""
    for launched in app.launched:
        if launched.process.poll() is None:
            launched.process.kill()
        launched.process.wait(30)


def assert_trainer_started_on_the_run_copy(app: EmosumApp, run_dir: Path, resume: bool) -> None:
    """One trainer process, recorded by the app, reading `<run_dir>/preset.toml` (demo's, as run)."""
    [(launched_dir, process)] = app.launched
    assert launched_dir == run_dir
    preset_file = str((run_dir / "preset.toml").resolve())
    assert preset_file in process.args and ("--resume" in process.args) == resume
    assert (run_dir / "preset.toml").read_text(encoding="utf-8").startswith("# demo, as run")


async def test_s_on_the_presets_screen_posts_one_start_run_that_launches_the_trainer(console_home: Path) -> None:
    from emosum_tui.ui.screens.training import TrainingScreen

    app = StartsRecorded(s_per_step=1.0)
    try:
        async with app.run_test(size=SIZE) as pilot:
            screen = app.presets_screen
            await pilot.press("4")  # demo: no error finding on any machine, so `s` starts at once
            await wait_for(pilot, lambda: screen.preset_figures["demo"].preflight is not None
                           and screen.preset_figures["demo"].estimate is not None)
            await pilot.press("s")
            await wait_for(pilot, lambda: isinstance(app.screen, TrainingScreen))
            [start] = app.starts
            assert start.preset is screen.current_saved and start.resume_in is None
            assert start.estimate is screen.preset_figures["demo"].estimate.estimate  # what the user saw is what is kept
            run_dir = app.screen.run_dir
            assert_trainer_started_on_the_run_copy(app, run_dir, resume=False)
            kept = json.loads((run_dir / ESTIMATE_FILE).read_text(encoding="utf-8"))
            assert kept["optimizer_steps"] == start.estimate.optimizer_steps
            await leave_the_training_screen(pilot)
    finally:
        end_trainers(app)


async def test_start_on_the_command_line_posts_one_start_run_that_launches_the_trainer(console_home: Path) -> None:
    from emosum_tui.ui.screens.training import TrainingScreen

    app = StartsRecorded(preset="demo", start=True, s_per_step=1.0)  # `emosum-tui --preset demo --start`
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: isinstance(app.screen, TrainingScreen))
            [start] = app.starts
            assert start.preset.name == "demo" and start.resume_in is None and start.estimate is None
            run_dir = app.screen.run_dir
            assert_trainer_started_on_the_run_copy(app, run_dir, resume=False)
            assert json.loads((run_dir / ESTIMATE_FILE).read_text(encoding="utf-8"))["preset"] == "demo"  # the cost model's
            await leave_the_training_screen(pilot)
    finally:
        end_trainers(app)


async def test_u_on_a_stopped_run_posts_one_start_run_that_resumes_its_own_preset_copy(console_home: Path) -> None:
    from support.recorded_runs import write_finished_run

    from emosum_tui.core.presets import load_preset
    from emosum_tui.core.rundir import new_run_dir, write_run_preset
    from emosum_tui.ui.screens.training import TrainingScreen

    run_dir = new_run_dir("demo")
    write_run_preset(run_dir, load_preset("demo"))
    write_finished_run(run_dir, steps=10, reason="stopped")
    app = StartsRecorded(watch=run_dir)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: isinstance(app.screen, TrainingScreen) and app.screen.clock.done is not None)
            screen = app.screen
            await pilot.press("u")
            await wait_for(pilot, lambda: screen.process is not None)
            [start] = app.starts
            assert start.resume_in == run_dir and start.preset.name == "demo"
            assert start.preset.path == run_dir / "preset.toml"  # the run's own copy, not presets/demo.toml
            assert app.screen is screen and screen.process is app.launched[0].process
            assert_trainer_started_on_the_run_copy(app, run_dir, resume=True)
            await leave_the_training_screen(pilot)
    finally:
        end_trainers(app)


def test_console_process_never_imports_torch_transformers_or_datasets(console_home: Path) -> None:
    """Start the app in a fresh interpreter, use every presets-screen feature that does not train,
    and list the heavy modules that ended up in sys.modules: there must be none."""
    script = textwrap.dedent(
        """
        import asyncio, sys, time
        from emosum_tui.ui.app import EmosumApp
        from emosum_tui.ui.screens.edit_value import EditValueScreen

        async def main():
            app = EmosumApp(s_per_step=1.0)
            async with app.run_test(size=(160, 50)) as pilot:
                deadline = time.monotonic() + 60
                for key in ("2", "3", "4", "b", "right", "left", "tab"):
                    await pilot.press(key)
                screen = app.presets_screen
                known = screen.preset_figures
                while time.monotonic() < deadline and not (
                    all(known[p.name].estimate is not None for p in screen.presets) and known[screen.current.name].tokens is not None
                ):
                    await pilot.pause(0.1)
                await pilot.press("e")
                await pilot.pause(0.3)
                assert isinstance(app.screen, EditValueScreen)
                await pilot.press("escape", "ctrl+p")
                await pilot.pause(0.3)
                await pilot.press("escape", "r")
                await pilot.pause(0.3)
            heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "transformers", "datasets"))
            print("HEAVY=" + ",".join(heavy))
            print("ESTIMATED=" + ",".join(sorted(p.name for p in screen.presets if known[p.name].estimate is not None)))

        asyncio.run(main())
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=180, env=os.environ.copy())
    assert result.returncode == 0, result.stderr[-3000:]
    lines = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    assert lines["ESTIMATED"] == "demo,fast,full,lean,original"  # the cost model ran in that process
    assert lines["HEAVY"] == ""
