"""The training screen on real run directories written with the real event writer, driven by the Pilot.

A "finished" run is a recorded log; a "live" run has a thread appending events while the screen
watches, so the console's own clock (not a report from the writer) has to raise the alarm.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from support.pilot import SIZE, ScreenApp, wait_for
from support.recorded_runs import T0, write_finished_run, write_live_prefix, write_started

from emosum_tui.core.events import (
    EVENTS_FILE,
    CheckpointSaved,
    Done,
    Error,
    EvalResult,
    EventWriter,
    Heartbeat,
    Phase,
    RunStart,
    StepBegin,
    StepEnd,
    TrainPlan,
)
from emosum_tui.core.rundir import RunStatus, stop_file, write_status
from emosum_tui.monitor.step_clock import StallPolicy
from emosum_tui.ui.collections_hold import GC_YOUNG
from emosum_tui.ui.screens.confirm_kill import ConfirmKillScreen
from emosum_tui.ui.screens.training import BUSY_FRAME_SECONDS, TrainingScreen
from emosum_tui.ui.widgets.diagnosis_panel import DiagnosisPanel
from emosum_tui.ui.widgets.events_pane import EventsPane
from emosum_tui.ui.widgets.live_text import LiveText
from emosum_tui.ui.widgets.loss_plot import LossPlot
from emosum_tui.ui.widgets.stall_banner import StallBanner
from emosum_tui.ui.widgets.step_panel import StepPanel
from emosum_tui.ui.widgets.step_time_plot import StepTimePlot

pytestmark = pytest.mark.anyio


async def test_finished_run_shows_history_final_model_and_no_clock(tmp_path: Path):
    run_dir = write_finished_run(tmp_path / "20261122-101010-demo")
    screen = TrainingScreen(run_dir, sample_resources=False)
    async with ScreenApp(screen).run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: screen.clock.done is not None)
        await pilot.pause(0.3)
        banner = screen.query_one(StallBanner)
        assert banner.state == "finished"
        assert screen.query_one(LossPlot).points("train") == 40
        assert screen.query_one(LossPlot).points("eval") == 2
        assert screen.query_one(StepTimePlot).points("s/step") == 40
        pane = screen.query_one(EventsPane)
        assert pane.final_path == "model/demo/final"
        assert any("final model" in line and "model/demo/final" in line for line in pane.texts)
        assert any("checkpoint step 20" in line for line in pane.texts)
        assert any("low-diversity" in line for line in pane.texts)
        reading = screen.reading
        assert reading.step == 40 and reading.total_steps == 40
        assert reading.running_seconds is None and reading.eta_seconds == 0
        assert reading.median_seconds == pytest.approx(0.3)  # 39 steps, the first (1.5 s) skipped
        header = str(screen.query_one("#run-title").render())
        assert "CPU-only build" in header and "demo" in header
        await wait_for(pilot, lambda: screen.query_one(DiagnosisPanel).findings)  # the doctor's live rules ran
        assert "cpu" in screen.query_one(DiagnosisPanel).text.lower()


async def test_error_with_classification_and_advice_is_shown(tmp_path: Path):
    run_dir = tmp_path / "run"
    writer = EventWriter(run_dir / EVENTS_FILE)
    write_started(writer, run_dir, T0, 999_999, 10)
    writer.write(StepBegin(t=T0 + 3, step=1))
    writer.write(Error(t=T0 + 4, classification="out-of-memory", type="OutOfMemoryError", message="CUDA out of memory",
                       advice=["lower train.batch_size to 1", "raise train.grad_accum to keep the effective batch"]))
    writer.write(Done(t=T0 + 4, reason="failed", steps=0))
    writer.close()
    screen = TrainingScreen(run_dir, sample_resources=False)
    async with ScreenApp(screen).run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: screen.query_one(StallBanner).state == "failed")
        text = "\n".join(screen.query_one(EventsPane).texts)
        assert "error (out-of-memory)" in text
        assert "lower train.batch_size to 1" in text


class LiveRun:
    """A thread that writes a run's events as a trainer would, with a step that hangs on demand."""

    def __init__(self, run_dir: Path, pid: int, step_seconds: float = 0.1, hang_at: int | None = None,
                 heartbeat: bool = True, eval_every: int = 0) -> None:
        self.run_dir = run_dir
        self.eval_every = eval_every  # an eval and a checkpoint every this many steps, as the demo preset does
        self.pid = pid
        self.step_seconds = step_seconds
        self.hang_at = hang_at
        self.heartbeat = heartbeat
        self.hang_began: float | None = None
        self.release = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        writer = EventWriter(self.run_dir / EVENTS_FILE)
        write_started(writer, self.run_dir, time.time(), self.pid, 100)
        for n in range(1, 101):
            begin = writer.write(StepBegin(step=n))
            if n == self.hang_at:
                self.hang_began = begin.t
                while not self.release.wait(0.5):
                    if self.heartbeat:
                        writer.write(Heartbeat(step=n, phase="training"))
            else:
                time.sleep(self.step_seconds)
            writer.write(StepEnd(step=n, total_steps=100, loss=1.0 / n, step_seconds=time.time() - begin.t))
            if self.eval_every and n % self.eval_every == 0:
                for name, done in (("evaluating", EvalResult(step=n, metrics={"eval_loss": 1.0 / n}, seconds=0.05)),
                                   ("saving", CheckpointSaved(step=n, path=f"checkpoint-{n}", bytes=1000, seconds=0.05))):
                    writer.write(Phase(name=name))
                    time.sleep(0.05)
                    writer.write(done)
                    writer.write(Phase(name="training"))
            if self.release.is_set():
                break
        writer.close()

    def __enter__(self) -> LiveRun:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.thread.join(10)


def busy_sample(cpu_percent: float = 100.0):
    """What the resource sampler reads on a machine whose CPU the trainer uses whole (or `cpu_percent` of it)."""
    from emosum_tui.monitor.resources import ResourceSample

    return ResourceSample(t=time.time(), cpu_percent=cpu_percent, cpu_count=2, trainer_cpu_percent=1.97 * cpu_percent,
                          trainer_rss=None, ram_used=1, ram_total=2, disk_free=1, gpus=(), gpu_note="")


@pytest.mark.parametrize("busy", [False, True], ids=["idle machine", "busy machine"])
async def test_a_hung_step_shows_stalled_while_it_runs_within_a_second_of_the_threshold(tmp_path: Path, busy: bool):
    """Also on a busy machine, where the console reads the clock and the log twice a second."""
    import os

    from emosum_tui.monitor.run_watcher import ResourcesRead

    policy = StallPolicy(min_slow_seconds=1.0, min_stalled_seconds=2.5)
    screen = TrainingScreen(tmp_path / "run", sample_resources=False, policy=policy)
    with LiveRun(tmp_path / "run", os.getpid(), hang_at=4) as live:
        async with ScreenApp(screen).run_test(size=SIZE) as pilot:
            if busy:
                screen.post_message(ResourcesRead(busy_sample()))
                await wait_for(pilot, lambda: screen.frame_seconds == BUSY_FRAME_SECONDS)
            banner = screen.query_one(StallBanner)
            await wait_for(pilot, lambda: live.hang_began is not None)
            slow_seen = await wait_for(pilot, lambda: banner.state == "slow")
            stalled_seen = await wait_for(pilot, lambda: banner.state == "stalled")
            threshold = live.hang_began + screen.reading.stalled_after
            assert screen.reading.stalled_after == pytest.approx(2.5)
            assert slow_seen < stalled_seen
            assert 0 <= stalled_seen - threshold < 1.0, f"stalled shown {stalled_seen - threshold:.2f} s after the threshold"
            assert screen.reading.step_running and screen.reading.step == 4  # the step is still running
            assert "STALLED" in banner.text and "step 4 running" in banner.text
            assert screen.reading.message.startswith("stalled: step 4 running")
            live.release.set()
            await wait_for(pilot, lambda: banner.state == "running")


async def test_fast_steps_redraw_the_moving_figures_once_a_second_and_end_on_the_last_step(tmp_path: Path):
    """At 50 steps a second the watcher delivers a batch of events every poll (10 a second);
    the header's progress and the banner's "running: step n" follow once a second, not per batch
    (that cost the console ~12% of a core on the demo), and the last step still shows."""
    import os

    from emosum_tui.ui.widgets.phase_header import PhaseHeader

    screen = TrainingScreen(tmp_path / "run", sample_resources=False)
    steps: list[int] = []
    header_draws: list[str] = []
    banner_draws: list[str] = []
    with LiveRun(tmp_path / "run", os.getpid(), step_seconds=0.02) as live:
        async with ScreenApp(screen).run_test(size=SIZE) as pilot:
            header, banner = screen.query_one(PhaseHeader), screen.query_one(StallBanner)
            real_header, real_banner, real_plot_add = header.show_phase, banner.update, screen.query_one(LossPlot).add_train
            header.show_phase = lambda *args: (header_draws.append(repr(args)), real_header(*args))[1]
            banner.update = lambda *args, **kwargs: (banner_draws.append(str(args)), real_banner(*args, **kwargs))[1]
            screen.query_one(LossPlot).add_train = lambda *args: (steps.append(args[0]), real_plot_add(*args))[1]
            began = time.monotonic()
            await wait_for(pilot, lambda: not live.thread.is_alive())
            seconds = time.monotonic() - began
            await wait_for(pilot, lambda: "100 / 100" in str(screen.query_one("#phase-name").render()), timeout=2)
    assert len(steps) >= 80 and steps[-1] == 100 and seconds < 6, f"{len(steps)} steps in {seconds:.1f} s: too slow to tell"
    assert len(header_draws) <= seconds + 3, f"{len(header_draws)} header redraws in {seconds:.1f} s: {header_draws}"
    assert len(banner_draws) <= seconds + 3, f"{len(banner_draws)} banner redraws in {seconds:.1f} s: {banner_draws}"


async def watch_frames(tmp_path: Path, busy: bool, step_seconds: float = 0.03) -> tuple[float, list[float], int, list[str], str]:
    """A run of 100 steps at 30 steps a second (or one per `step_seconds`), an eval and a checkpoint every 10 steps, watched
    by the training screen: (seconds it ran, when each frame was composed, how many times the
    screen was laid out again, the events pane's lines, the resource pane's text). With `busy`, the screen is told what the
    resource sampler tells it on a machine whose CPU is all in use. `READS` gets how often the
    clock and the event log were read while the run went on."""
    import os

    from emosum_tui.monitor.run_watcher import ResourcesRead

    screen = TrainingScreen(tmp_path / "run", sample_resources=False)
    frames: list[float] = []
    layouts: list[float] = []
    with LiveRun(tmp_path / "run", os.getpid(), step_seconds=step_seconds, eval_every=10) as live:
        async with ScreenApp(screen).run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: screen.clock.step > 0)
            if busy:
                screen.post_message(ResourcesRead(busy_sample()))
                await wait_for(pilot, lambda: "busy" in screen.query_one("#resource-text", LiveText).text)
            await pilot.pause(0.3)  # the first frames settle the layout
            # Textual's frame (compose the changed regions, write them out) and its layout: private API.
            real_frame, real_layout = screen._compositor_refresh, screen._refresh_layout

            def frame() -> None:
                frames.append(time.monotonic())
                real_frame()

            def layout(*args, **kwargs) -> None:
                layouts.append(time.monotonic())
                real_layout(*args, **kwargs)

            screen._compositor_refresh, screen._refresh_layout = frame, layout
            clock_reads, log_reads = counted(screen.clock, "reading"), counted(screen.watcher.reader, "poll")
            began = time.monotonic()
            await wait_for(pilot, lambda: not live.thread.is_alive(), timeout=15)
            seconds = time.monotonic() - began
            READS[:] = [len(clock_reads), len(log_reads)]
            await wait_for(pilot, lambda: "100 / 100" in str(screen.query_one("#phase-name").render()), timeout=3)
            await wait_for(pilot, lambda: screen.query_one(LossPlot).points("eval") == 10 and not screen.query_one(EventsPane).pending)
            lines = screen.query_one(EventsPane).texts
            resources = screen.query_one("#resource-text", LiveText).text
    during = [t - began for t in frames if t <= began + seconds]
    return seconds, during, sum(t <= began + seconds for t in layouts), lines, resources


READS: list[int] = []  # watch_frames: (clock readings, event-log polls) while the run went on


def counted(owner: object, name: str) -> list[float]:
    """Wrap one of our own objects' methods: the list gets a time for each call."""
    calls: list[float] = []
    real = getattr(owner, name)

    def wrapper(*args, **kwargs):
        calls.append(time.monotonic())
        return real(*args, **kwargs)

    setattr(owner, name, wrapper)
    return calls


def redraws(frames: list[float]) -> list[float]:
    """Frames less than 0.1 s apart are one redraw: a layout (a scroll bar that appears, a finding
    mounted) takes Textual a few frames in a row to settle."""
    return [t for i, t in enumerate(frames) if i == 0 or t - frames[i - 1] > 0.1]


async def test_a_fast_run_with_evals_and_checkpoints_is_drawn_in_one_frame_a_second(tmp_path: Path):
    """Phase words, progress, events-pane lines, plots and the step panel all change several times
    a second, and each change drawn at its own moment was a frame of its own (4-5 a second on the
    demo, each composing most of the screen). They are drawn together, once a second; a new line
    in the events pane does not lay the screen out again; what is shown at the end is complete."""
    seconds, frames, layouts, lines, resources = await watch_frames(tmp_path, busy=False)
    assert "busy" not in resources
    assert seconds > 2, f"the run took {seconds:.1f} s: too fast to tell"
    assert sum("checkpoint step" in line for line in lines) == 10 and sum("eval step" in line for line in lines) == 10
    assert len(redraws(frames)) <= seconds + 2, f"{len(frames)} frames in {seconds:.1f} s: {', '.join(f'{t:.2f}' for t in frames)}"
    clock_reads, log_reads = READS
    assert clock_reads >= 4 * seconds and log_reads >= 3 * seconds, READS  # 5 and 4 a second: the busy test's bounds can fail
    assert layouts <= 1, f"{layouts} layouts for 20 lines added to the events pane"  # one: its scroll bar appears


async def test_on_a_busy_machine_the_screen_is_drawn_every_three_seconds(tmp_path: Path):
    """When the sampler says the CPU is all in use, the console's frames are the trainer's loss:
    a third as many, the clock and the log read twice a second, and the resource pane says why. The end is still shown complete."""
    seconds, frames, _, lines, resources = await watch_frames(tmp_path, busy=True, step_seconds=0.08)
    assert f"CPU busy: redrawn every {BUSY_FRAME_SECONDS:.0f} s" in resources, resources
    assert seconds > 5, f"the run took {seconds:.1f} s: too fast to tell"
    # every 3 s (2 redraws in 8.5 s measured; every 2 s: 4)
    assert len(redraws(frames)) <= seconds / 3 + 0.5, f"{len(frames)} frames in {seconds:.1f} s: {', '.join(f'{t:.2f}' for t in frames)}"
    clock_reads, log_reads = READS  # twice a second each, and the clock again after each batch of events
    assert clock_reads <= 5 * seconds + 3 and log_reads <= 2.5 * seconds + 2, f"{READS} in {seconds:.1f} s"  # idle: 9 and 4/s
    assert sum("eval step" in line for line in lines) == 10


async def test_a_trainer_on_most_of_the_cores_keeps_the_busy_pace_until_the_cpu_is_freed(tmp_path: Path):
    """A trainer on 1.8 of 2 cores reads 85-97% from one second to the next: with one threshold the
    pace flipped 16 times a minute. Busy begins at 90% and ends below 75%."""
    from emosum_tui.monitor.run_watcher import ResourcesRead

    screen = TrainingScreen(write_finished_run(tmp_path / "run"), sample_resources=False)
    pace: list[float] = []
    async with ScreenApp(screen).run_test(size=SIZE) as pilot:
        for cpu in (89.0, 93.0, 86.0, 96.0, 80.0, 88.0, 74.0, 86.0, 91.0):
            screen.post_message(ResourcesRead(busy_sample(cpu)))
            await pilot.pause(0.05)
            pace.append(screen.frame_seconds)
        note = screen.query_one("#resource-text", LiveText).text
    busy, idle = BUSY_FRAME_SECONDS, pace[0]
    assert idle < busy and pace == [idle, busy, busy, busy, busy, busy, idle, idle, busy], pace
    assert f"CPU busy: redrawn every {busy:.0f} s" in note, note


async def test_silence_from_a_live_process_is_frozen(tmp_path: Path):
    import os

    policy = StallPolicy(min_slow_seconds=30, min_stalled_seconds=60, frozen_seconds=1.0)
    screen = TrainingScreen(tmp_path / "run", sample_resources=False, policy=policy)
    with LiveRun(tmp_path / "run", os.getpid(), hang_at=3, heartbeat=False) as live:
        async with ScreenApp(screen).run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: live.hang_began is not None)
            await wait_for(pilot, lambda: screen.query_one(StallBanner).state == "frozen", timeout=5)
            assert "no heartbeat" in screen.query_one(StallBanner).text


def sleeper() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])


async def test_stop_key_writes_the_stop_request(tmp_path: Path):
    process = sleeper()
    try:
        write_live_prefix(tmp_path / "run", process.pid)
        screen = TrainingScreen(tmp_path / "run", process, sample_resources=False)
        async with ScreenApp(screen).run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: screen.pid == process.pid and screen.reading.state == "running")
            await pilot.press("s")
            await pilot.pause(0.1)
            assert stop_file(tmp_path / "run").exists()
            assert process.poll() is None  # stop asks; it never kills
    finally:
        process.kill()
        process.wait()


async def test_kill_asks_first_and_then_the_run_reads_dead(tmp_path: Path):
    process = sleeper()
    try:
        write_live_prefix(tmp_path / "run", process.pid)
        screen = TrainingScreen(tmp_path / "run", process, sample_resources=False)
        app = ScreenApp(screen)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: screen.reading is not None and screen.reading.state == "running")
            await pilot.press("k")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmKillScreen))
            await pilot.press("n")
            await pilot.pause(0.2)
            assert app.screen is screen and process.poll() is None
            await pilot.press("k")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmKillScreen))
            await pilot.press("y")
            await wait_for(pilot, lambda: process.poll() is not None)
            await wait_for(pilot, lambda: screen.query_one(StallBanner).state == "dead", timeout=5)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()


async def test_a_run_whose_process_is_gone_reads_dead(tmp_path: Path):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    write_live_prefix(tmp_path / "run", gone.pid)
    screen = TrainingScreen(tmp_path / "run", sample_resources=False)
    async with ScreenApp(screen).run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: screen.query_one(StallBanner).state == "dead", timeout=5)
        assert "gone" in screen.query_one(StallBanner).text


async def test_a_gone_run_whose_status_still_says_running_reads_dead(tmp_path: Path):
    """Killed: the trainer's last word in status.json is "running", and no `done` was written."""
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    write_live_prefix(tmp_path / "run", gone.pid)
    write_status(tmp_path / "run", RunStatus(state="running", preset="demo", pid=gone.pid, phase="training", total_steps=100))
    screen = TrainingScreen(tmp_path / "run", sample_resources=False)
    async with ScreenApp(screen).run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: screen.query_one(StallBanner).state == "dead", timeout=5)
        assert "gone" in screen.query_one(StallBanner).text and "status.json" not in screen.query_one(StallBanner).text


async def test_a_finished_run_whose_done_line_is_corrupt_reads_finished_and_says_why(tmp_path: Path):
    """The `done` line is garbage (a crash, a bad disk); status.json, written after it, says finished."""
    run_dir = write_finished_run(tmp_path / "run", steps=10)
    log = run_dir / EVENTS_FILE
    log.write_bytes(b"".join(log.read_bytes().splitlines(keepends=True)[:-1]) + b"\x00\xffgarbage\n")
    write_status(run_dir, RunStatus(state="finished", preset="demo", pid=999_999, started=T0, phase="done", step=10,
                                    total_steps=10, final_path="model/demo/final"))
    screen = TrainingScreen(run_dir, sample_resources=False)
    async with ScreenApp(screen).run_test(size=SIZE) as pilot:
        banner = screen.query_one(StallBanner)
        await wait_for(pilot, lambda: banner.state == "finished", timeout=5)
        assert screen.clock.done is None and "10 steps" in banner.text
        assert "last line could not be read" in banner.text and "status.json" in banner.text
        await pilot.press("u")  # finished, whatever the log lacks: nothing to resume, no new trainer
        await pilot.pause(0.1)
        assert screen.process is None


async def test_escape_goes_back_and_resume_refuses_a_finished_run(tmp_path: Path):
    """Also: what the screen held is left out of full garbage collections while it is open (a
    watched run's history), and given back to them when it closes (no leak per visit); Python's
    young collections come less often while it is open, and as before once it closes."""
    import gc

    run_dir = write_finished_run(tmp_path / "run")
    screen = TrainingScreen(run_dir, sample_resources=False)
    app = ScreenApp(screen)
    before = gc.get_threshold()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: screen.clock.done is not None)
        assert gc.get_freeze_count() > 10_000 and gc.get_threshold()[0] == GC_YOUNG
        await pilot.press("u")  # nothing to resume: a notification, no new trainer
        await pilot.pause(0.1)
        assert screen.process is None
        await pilot.press("escape")
        await pilot.pause(0.1)
        assert app.screen is not screen
        await wait_for(pilot, lambda: gc.get_freeze_count() == 0)
        assert gc.get_threshold() == before


async def test_resources_are_sampled_about_once_a_second(tmp_path: Path):
    from emosum_tui.ui.widgets.resource_pane import ResourcePane

    run_dir = write_finished_run(tmp_path / "run")
    screen = TrainingScreen(run_dir, sample_resources=True)
    async with ScreenApp(screen).run_test(size=SIZE) as pilot:
        pane = screen.query_one(ResourcePane)
        await wait_for(pilot, lambda: pane.samples >= 3, timeout=6)
        text = str(screen.query_one("#resource-text").render())
        assert "CPU system" in text and "RAM" in text and "disk free" in text
        assert "GPU" in text  # a GPU line, or "no NVIDIA GPU" said plainly


def test_step_panel_reads_like_the_issue(tmp_path: Path):
    from emosum_tui.monitor.step_clock import StepClock

    clock = StepClock(estimate_seconds=0.2)
    clock.feed(RunStart(t=0, pid=1))
    clock.feed(TrainPlan(t=0, total_steps=50))
    t = 0.0  # steps back to back: a step's time runs from the previous step's end
    for n, seconds in enumerate([2.0, 0.3, 0.3, 0.3], start=1):
        clock.feed(StepBegin(t=t, step=n))
        t += seconds
        clock.feed(StepEnd(t=t, step=n, total_steps=50, step_seconds=seconds, samples_per_second=26.7,
                           tokens_per_second=6666.7))
    clock.feed(StepBegin(t=t, step=5))
    panel = StepPanel()
    reading = clock.reading(t + 0.4, alive=True)
    panel.show_reading(reading)
    from rich.text import Text

    text = Text.from_markup(panel.text).plain
    assert "5 / 50" in text
    assert "0.4 s" in text  # this step has run 0.4 s
    assert "0.3 s/step / 0.3 s/step" in text  # last / median
    assert "6,667 tokens/s" in text
    assert "x1.50" in text  # estimate vs actual


async def test_a_stopped_run_says_so_and_keeps_its_progress(tmp_path: Path):
    from emosum_tui.ui.widgets.phase_header import PhaseHeader

    run_dir = write_finished_run(tmp_path / "run", steps=10, reason="stopped")
    screen = TrainingScreen(run_dir, sample_resources=False)
    async with ScreenApp(screen).run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: screen.query_one(StallBanner).state == "stopped")
        assert "resume continues" in screen.query_one(StallBanner).text
        assert "stopped" in str(screen.query_one("#phase-name").render())
        assert screen.query_one(PhaseHeader).bar == (10, 10)
        assert str(screen.query_one("#phase-progress").render()).endswith("━ 100%")


async def test_a_run_that_fails_while_watched_ends_on_the_advice_screen(tmp_path: Path):
    from emosum_tui.ui.screens.failure_advice import FailureAdviceScreen

    run_dir = tmp_path / "run"
    writer = EventWriter(run_dir / EVENTS_FILE)
    write_started(writer, run_dir, time.time(), 999_999, 10)
    writer.write(StepBegin(step=1))
    screen = TrainingScreen(run_dir, sample_resources=False)
    app = ScreenApp(screen)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: screen.history_loaded)
        writer.write(Error(classification="out-of-memory", type="OutOfMemoryError", message="CUDA out of memory",
                           advice=["lower train.batch_size"]))
        writer.write(Done(reason="failed", steps=0))
        writer.close()
        await wait_for(pilot, lambda: isinstance(app.screen, FailureAdviceScreen))
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen)
        assert screen.query_one(StallBanner).state == "failed"
        await pilot.press("a")  # and it can be opened again from the training screen
        await wait_for(pilot, lambda: isinstance(app.screen, FailureAdviceScreen))


async def test_a_failed_run_opened_later_shows_its_history_not_the_advice_at_once(tmp_path: Path):
    from emosum_tui.ui.screens.failure_advice import FailureAdviceScreen

    run_dir = write_finished_run(tmp_path / "run", steps=5, reason="failed")
    screen = TrainingScreen(run_dir, sample_resources=False)
    app = ScreenApp(screen)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: screen.query_one(StallBanner).state == "failed")
        await pilot.pause(0.3)
        assert app.screen is screen
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, FailureAdviceScreen))


def write_preset_as_run(run_dir: Path, stall_after: float) -> None:
    """The trainer's own `preset.toml` for the demo preset with `alarm.stall_after_seconds` set."""
    from emosum_tui.core.presets import load_preset
    from emosum_tui.core.rundir import write_run_preset
    from emosum_tui.ui.preset_edits import apply_changes

    write_run_preset(run_dir, apply_changes(load_preset("demo"), {"alarm.stall_after_seconds": stall_after}))


async def test_the_presets_stall_threshold_calls_a_hung_step_stalled_at_that_threshold(home: Path, tmp_path: Path,
                                                                                     monkeypatch: pytest.MonkeyPatch):
    import os

    monkeypatch.delenv("EMOSUM_STALL_AFTER", raising=False)
    run_dir = tmp_path / "run"
    screen = TrainingScreen(run_dir, sample_resources=False)  # before the trainer has written preset.toml
    assert screen.clock.policy.stall_after is None
    write_preset_as_run(run_dir, 1.5)  # well below the automatic minimum (5 s): only the preset can say 1.5 s
    with LiveRun(run_dir, os.getpid(), hang_at=4) as live:
        async with ScreenApp(screen).run_test(size=SIZE) as pilot:
            banner = screen.query_one(StallBanner)
            await wait_for(pilot, lambda: live.hang_began is not None)
            stalled_seen = await wait_for(pilot, lambda: banner.state == "stalled")
            assert screen.clock.policy.stall_after == 1.5
            assert screen.reading.stalled_after == pytest.approx(1.5)
            threshold = live.hang_began + 1.5
            assert 0 <= stalled_seen - threshold < 1.0, f"stalled shown {stalled_seen - threshold:.2f} s after the threshold"
            assert screen.reading.step_running and screen.reading.step == 4
            live.release.set()
            await wait_for(pilot, lambda: banner.state == "running")


async def test_watch_stall_after_wins_over_the_presets_threshold(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from emosum_tui.ui.stall_threshold import preset_stall_after

    write_preset_as_run(tmp_path / "run", 1.5)
    write_preset_as_run(tmp_path / "automatic", 0)
    assert preset_stall_after(tmp_path / "run") == 1.5
    assert preset_stall_after(tmp_path / "automatic") is None
    assert preset_stall_after(tmp_path / "nowhere") is None
    monkeypatch.setenv("EMOSUM_STALL_AFTER", "30")  # what `emosum-tui watch --stall-after 30` sets
    write_live_prefix(tmp_path / "run", 999_999)
    screen = TrainingScreen(tmp_path / "run", sample_resources=False)
    async with ScreenApp(screen).run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: screen.events_seen > 0)
        assert screen.clock.policy.stall_after == 30
