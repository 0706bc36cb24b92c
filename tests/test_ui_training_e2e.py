"""End to end with the real trainer process on the demo model (slow: each trains a few real steps).

The preset is `demo` cut to 48 rows x 1 epoch (6 optimizer steps), so a case takes about a
minute on a busy 2-core CPU instead of several; everything else (tiny mT5 from its config, the
SentencePiece tokenizer trained on the sample, Seq2SeqTrainer, checkpoints) is the demo's.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from support.pilot import SIZE, wait_for

from emosum_tui.core.events import EVENTS_FILE, StepBegin, StepEnd, read_events
from emosum_tui.core.presets import load_preset
from emosum_tui.core.rundir import launch_trainer, new_run_dir, write_run_preset
from emosum_tui.ui.app import EmosumApp
from emosum_tui.ui.messages import StartRun
from emosum_tui.ui.screens.training import TrainingScreen
from emosum_tui.ui.widgets.events_pane import EventsPane
from emosum_tui.ui.widgets.loss_plot import LossPlot
from emosum_tui.ui.widgets.stall_banner import StallBanner

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

PRESET = "demo-e2e"
STEPS = 6
HANG = 40  # seconds step 3 sleeps: past 5x even a 5 s/step median on a very busy CPU


class ConsoleOver(EmosumApp):
    """The console showing `screen` (its presets hidden underneath, as with `watch`), recording
    each `StartRun`: `u` on the screen goes through the console's one start path."""

    def __init__(self, screen: TrainingScreen) -> None:
        super().__init__(watch=screen.run_dir)
        self.training = screen
        self.starts: list[StartRun] = []

    def show_training(self, run_dir: Path, process: object) -> None:
        self.push_screen(self.training)

    def on_start_run(self, message: StartRun) -> None:
        self.starts.append(message)  # then EmosumApp's own handler launches it


@pytest.fixture
def small_demo(home: Path) -> str:
    (home / "presets" / f"{PRESET}.toml").write_text(
        'extends = "demo"\ndescription = "demo, 6 steps"\n\n'
        "[data]\ntrain_samples = 48\nvalidation_samples = 16\n\n"
        "[train]\nepochs = 1\n\n[eval]\nsteps = 3\n\n[save]\nsteps = 3\nlogging_steps = 1\n",
        encoding="utf-8",
    )
    return PRESET


def trainer_story(run_dir: Path) -> str:
    """The last events and stderr lines: why a wait for the real trainer ran out."""
    events = [f"{e.kind} {getattr(e, 'step', '')} {getattr(e, 'name', '')} {getattr(e, 'message', '')}".strip()
              for e in read_events(run_dir / EVENTS_FILE) if e.kind != "heartbeat"]
    try:
        stderr = (run_dir / "stderr.log").read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        stderr = []
    return "\nlast events:\n  " + "\n  ".join(events[-8:]) + "\nstderr tail:\n  " + "\n  ".join(stderr[-8:])


def steps_logged(run_dir: Path) -> int:
    return sum(isinstance(e, StepEnd) for e in read_events(run_dir / EVENTS_FILE))


async def test_console_starts_demo_leave_running_then_watch_shows_history_and_the_finish(small_demo: str):
    from emosum_tui.ui.app import EmosumApp
    from emosum_tui.ui.screens.quit_dialog import QuitScreen

    started: list = []  # trainers to clean up if the test fails half-way
    try:
        app = EmosumApp(preset=small_demo, start=True)  # `emosum-tui --preset demo-e2e --start`
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: isinstance(app.screen, TrainingScreen) and app.screen.reading is not None,
                           timeout=60)
            screen = app.screen
            run_dir = screen.run_dir
            process = screen.process
            started.append(process)
            try:
                await wait_for(pilot, lambda: screen.query_one(LossPlot).points("train") >= 2, timeout=240, step=0.2)
            except AssertionError as exc:
                raise AssertionError(f"{exc}{trainer_story(run_dir)}") from None
            await pilot.press("q")
            await wait_for(pilot, lambda: isinstance(app.screen, QuitScreen))
            await pilot.press("l")  # leave it running
            await pilot.pause(0.2)
        assert process.poll() is None, "leaving the console must leave the trainer running"

        history = steps_logged(run_dir)
        assert history >= 2
        watcher = EmosumApp(watch=run_dir)
        async with watcher.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: isinstance(watcher.screen, TrainingScreen) and watcher.screen.reading is not None)
            screen = watcher.screen
            plot = screen.query_one(LossPlot)
            await wait_for(pilot, lambda: plot.points("train") >= history, timeout=10)  # the whole history so far
            await wait_for(pilot, lambda: screen.query_one(StallBanner).state == "finished", timeout=300, step=0.2)
            assert plot.points("train") == STEPS
            assert plot.points("eval") >= 1
            final = screen.query_one(EventsPane).final_path
            assert final and Path(final).is_dir()
            assert final in str(screen.query_one("#phase-name").render())
        assert process.wait(timeout=30) == 0
    finally:
        for proc in started:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


async def test_injected_slow_step_shows_stalled_while_it_runs_then_stop_and_resume(small_demo: str, monkeypatch):
    monkeypatch.setenv("EMOSUM_FAULT", f"sleep@3:{HANG}")
    run_dir = new_run_dir(small_demo)
    process = launch_trainer(write_run_preset(run_dir, load_preset(small_demo)), run_dir)
    monkeypatch.delenv("EMOSUM_FAULT")  # the resumed trainer below runs clean
    screen = TrainingScreen(run_dir, process, sample_resources=False)
    app = ConsoleOver(screen)
    try:
        async with app.run_test(size=SIZE) as pilot:
            banner = screen.query_one(StallBanner)
            try:
                await wait_for(pilot, lambda: screen.clock.step == 3 and screen.clock.step_begin_t is not None,
                               timeout=240, step=0.1)
            except AssertionError as exc:
                raise AssertionError(f"{exc}{trainer_story(run_dir)}") from None
            seen = await wait_for(pilot, lambda: banner.state == "stalled", timeout=HANG, step=0.05)
            reading = screen.reading
            begin = next(e.t for e in read_events(run_dir / EVENTS_FILE) if isinstance(e, StepBegin) and e.step == 3)
            late = seen - (begin + reading.stalled_after)
            assert 0 <= late < 1.0, f"stalled shown {late:.2f} s after the {reading.stalled_after:.1f} s threshold"
            print(f"stalled shown {late:.2f} s after the {reading.stalled_after:.1f} s threshold ({reading.expected_basis})")
            assert reading.step_running and reading.step == 3
            assert steps_logged(run_dir) == 2  # step 3 has not ended: the alarm came from the console's clock

            await pilot.press("s")  # stop: the trainer ends step 3, saves a checkpoint, exits
            await wait_for(pilot, lambda: banner.state == "stopped", timeout=120, step=0.2)
            assert process.wait(timeout=30) == 0
            await pilot.press("u")  # resume from that checkpoint
            await wait_for(pilot, lambda: screen.process is not process, timeout=5)
            [start] = app.starts
            assert start.resume_in == run_dir and start.preset.name == small_demo
            assert app.launched == [(run_dir, screen.process)]
            await wait_for(pilot, lambda: banner.state == "finished", timeout=300, step=0.2)
            assert screen.clock.step == STEPS
            assert screen.process.wait(timeout=30) == 0
            assert any("resumed" in line for line in screen.query_one(EventsPane).texts)
    finally:
        for proc in (process, screen.process):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()
