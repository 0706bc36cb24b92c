"""The fault-matrix cases no other test covers: an unclassified trainer exception, a corrupt
(not just torn) last event line, and the console killed mid-run with a new one attached.

Real parts throughout: the real trainer (Seq2SeqTrainer on the tiny demo model, 40 rows, 5
optimizer steps, no eval), a real `emosum-tui watch` process in a pseudo-terminal, the real
console (`EmosumApp(watch=...)`) reading the run directory. The rest of the matrix lives beside
the code it proves; README "Reliability" lists every case and its test.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from support.pilot import SIZE, wait_for
from support.project import short_demo_toml, write_preset
from support.pty_console import WatchConsole

from emosum_tui.core.events import EVENTS_FILE, Done, Error, EventReader, StepEnd, read_events
from emosum_tui.core.presets import load_preset
from emosum_tui.core.rundir import launch_trainer, read_run, read_status, run_preset_file, write_status
from emosum_tui.ui.screens.training import TrainingScreen
from emosum_tui.ui.widgets.loss_plot import LossPlot
from emosum_tui.ui.widgets.stall_banner import StallBanner

pytestmark = pytest.mark.slow

STEPS = 5  # optimizer steps of `tiny`: 40 rows at 8 a step


@pytest.fixture
def home(home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The shared project home plus `tiny` (the demo cut to 5 steps, no eval), offline."""
    write_preset(home, "tiny", short_demo_toml(8 * STEPS))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return home


def train_here(home: Path, name: str) -> tuple[int, Path, list]:
    from emosum_tui.trainer.run import run_training

    run_dir = home / "runs" / name
    code = run_training(load_preset("tiny"), run_dir, headless=True)
    return code, run_dir, read_events(run_dir / EVENTS_FILE)


async def console_shows(run_dir: Path, steps: int, *states: str) -> str:
    """A new console (`emosum-tui watch RUN_DIR`) plots every step and reads the run's end state;
    returns the alarm banner's text."""
    from emosum_tui.ui.app import EmosumApp

    app = EmosumApp(watch=run_dir)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, TrainingScreen) and app.screen.reading is not None)
        screen = app.screen
        await wait_for(pilot, lambda: screen.query_one(LossPlot).points("train") == steps)
        banner = screen.query_one(StallBanner)
        try:
            await wait_for(pilot, lambda: banner.state in states)
        except AssertionError:
            raise AssertionError(f"the console reads {banner.state!r}, expected one of {states}") from None
        return banner.text


def test_an_unclassified_exception_is_other_with_its_traceback_and_the_steps_before_it(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from emosum_tui.trainer.faults import FaultPlan

    def broken_hook(self: FaultPlan, step: int) -> None:
        if step == 3:
            raise KeyError("tokenizer_table_slot")  # a bug of no known kind, deep inside a step

    monkeypatch.setattr(FaultPlan, "before_micro_batch", broken_hook)
    code, run_dir, events = train_here(home, "other")
    assert code == 1
    errors = [e for e in events if isinstance(e, Error)]
    assert len(errors) == 1
    error = errors[0]
    assert (error.classification, error.type, error.step) == ("other", "KeyError", 3)
    assert "tokenizer_table_slot" in error.message
    assert "broken_hook" in error.traceback_tail and "KeyError" in error.traceback_tail
    assert any("stderr.log" in line for line in error.advice)
    assert isinstance(events[-1], Done) and events[-1].reason == "failed"
    assert [e.step for e in events if isinstance(e, StepEnd)] == [1, 2]  # nothing before the fault is lost
    summary = read_run(run_dir)
    assert (summary.status, summary.error, summary.steps) == ("failed", "other", 2)
    status = read_status(run_dir)
    assert status is not None and status.state == "failed"
    full = EventReader(run_dir / EVENTS_FILE)
    full.poll()
    assert full.skipped == 0 and not full.torn_tail()


CORRUPT_LINES = {
    "garbage bytes": b"\x00\xff\x13garbage\x00\xfe\n",
    "cut JSON with a newline": b'{"kind": "done", "t": 1.0, "reason": "compl\n',
    "JSON of no known kind": b'{"kind": "step_end_v9", "step": 99}\n',
    "not an object": b'["done"]\n',
}


@pytest.mark.anyio
async def test_a_corrupt_last_event_line_is_skipped_and_the_history_kept(home: Path) -> None:
    """A crash (or a bad disk) leaves a complete but corrupt line where `done` should be: the
    reader skips and counts it, the run keeps every step and its final status, and a console opens it
    as finished (the trainer's word in status.json), saying that the log's last line could not be read.
    One real run; each kind of corruption on its own copy of the run dir; and one copy whose status
    still says "running" (the trainer killed before its end) reads dead."""
    finished = home / "runs" / "corrupt"
    trainer = launch_trainer(home / "presets" / "tiny.toml", finished, env={"EMOSUM_HOME": str(home), "EMOSUM_CACHE": str(home / ".cache")})
    assert trainer.wait(timeout=300) == 0  # its own process: gone afterwards, as after a crash
    events = read_events(finished / EVENTS_FILE)
    assert isinstance(events[-1], Done)

    def corrupt_copy(name: str, line: bytes) -> Path:
        run_dir = home / "runs" / name
        shutil.copytree(finished, run_dir)
        log = run_dir / EVENTS_FILE
        lines = log.read_bytes().splitlines(keepends=True)
        log.write_bytes(b"".join(lines[:-1]) + line)  # `done` replaced by the corrupt line
        return run_dir

    for index, (corruption, line) in enumerate(CORRUPT_LINES.items()):
        run_dir = corrupt_copy(f"corrupt-{index}", line)
        log = run_dir / EVENTS_FILE

        reader = EventReader(log)
        kept = reader.poll()
        assert reader.skipped == 1 and not reader.torn_tail(), corruption
        assert len(kept) == len(events) - 1, corruption
        assert [e.step for e in kept if isinstance(e, StepEnd)] == list(range(1, STEPS + 1)), corruption
        summary = read_run(run_dir)  # status.json, replaced whole, still has the trainer's last word
        assert summary.status == "finished" and summary.steps == STEPS, corruption

        # No `done` and no process: the console asks status.json, never says "dead" (or "running")
        # of a run that finished, and says why the log cannot tell.
        banner = await console_shows(run_dir, STEPS, "finished")
        assert "finished" in banner.lower() and f"{STEPS} steps" in banner, (corruption, banner)
        assert "last line could not be read" in banner and "status.json" in banner, (corruption, banner)

    killed = corrupt_copy("corrupt-killed", CORRUPT_LINES["garbage bytes"])
    status = read_status(killed)
    assert status is not None
    status.state, status.phase, status.final_path = "running", "training", None  # its last word before a kill
    write_status(killed, status)
    assert read_run(killed).status == "dead"
    banner = await console_shows(killed, STEPS, "dead")
    assert "gone without finishing" in banner and "status.json" not in banner, banner


@pytest.mark.anyio
async def test_console_killed_mid_run_then_a_new_console_sees_the_full_history(home: Path) -> None:
    run_dir = home / "runs" / "console-killed"
    env = {"EMOSUM_HOME": str(home), "EMOSUM_CACHE": str(home / ".cache"), "HF_HUB_OFFLINE": "1",
           "EMOSUM_FAULT": "sleep@3:4"}  # keep the run going a while after the console dies
    trainer = launch_trainer(home / "presets" / "tiny.toml", run_dir, env=env)
    console = None
    try:
        deadline = time.time() + 120
        while not (run_dir / EVENTS_FILE).exists():
            assert trainer.poll() is None and time.time() < deadline, "trainer did not start"
            time.sleep(0.05)
        console = WatchConsole(run_dir, {**os.environ, "EMOSUM_HOME": str(home)}, cwd=home)
        while sum(isinstance(e, StepEnd) for e in read_events(run_dir / EVENTS_FILE)) < 2 or console.drawn < 10_000:
            assert trainer.poll() is None, "the trainer ended before the console was killed"
            assert console.process.poll() is None, "the watch console exited by itself"
            assert time.time() < deadline, f"no 2 steps drawn in time (drawn {console.drawn} bytes)"
            time.sleep(0.1)
        console.kill()
        assert trainer.poll() is None, "killing the console must not take the trainer down"
        assert trainer.wait(timeout=180) == 0
    finally:
        if console is not None and console.process.poll() is None:
            console.kill()
        if trainer.poll() is None:
            trainer.kill()
            trainer.wait()

    reader = EventReader(run_dir / EVENTS_FILE)
    events = reader.poll()
    assert reader.skipped == 0 and isinstance(events[-1], Done) and events[-1].reason == "completed"
    assert [e.step for e in events if isinstance(e, StepEnd)] == list(range(1, STEPS + 1))
    assert read_run(run_dir).status == "finished"

    await console_shows(run_dir, STEPS, "finished")


@pytest.mark.anyio
async def test_stop_then_resume_continues_the_loss_curve_of_an_uninterrupted_run(home: Path) -> None:
    """Stop at step 4, resume: steps 5-10 have the losses the same run has without the stop
    (same data order, same dropout: the checkpoint carries the optimizer and RNG state)."""
    from emosum_tui.core.events import StepBegin
    from emosum_tui.core.rundir import request_stop

    write_preset(home, "tiny10", short_demo_toml(80))  # 10 optimizer steps
    (home / "presets" / "tiny10-stopped.toml").write_text('extends = "tiny10"\n', encoding="utf-8")
    env = {"EMOSUM_HOME": str(home), "EMOSUM_CACHE": str(home / ".cache"), "HF_HUB_OFFLINE": "1"}

    def losses(run_dir: Path) -> dict[int, float]:
        return {e.step: e.loss for e in read_events(run_dir / EVENTS_FILE) if isinstance(e, StepEnd)}

    straight = home / "runs" / "straight"
    assert launch_trainer(home / "presets" / "tiny10.toml", straight, env=env).wait(timeout=300) == 0
    reference = losses(straight)
    assert sorted(reference) == list(range(1, 11))

    stopped = home / "runs" / "stopped"
    trainer = launch_trainer(home / "presets" / "tiny10-stopped.toml", stopped, env={**env, "EMOSUM_FAULT": "sleep@4:3"})
    try:
        deadline = time.time() + 180
        while not any(isinstance(e, StepBegin) and e.step == 4 for e in read_events(stopped / EVENTS_FILE)):
            assert trainer.poll() is None and time.time() < deadline, "step 4 never began"
            time.sleep(0.1)
        request_stop(stopped)
        assert trainer.wait(timeout=120) == 0
    finally:
        if trainer.poll() is None:
            trainer.kill()
            trainer.wait()
    assert read_run(stopped).status == "stopped" and sorted(losses(stopped)) == [1, 2, 3, 4]
    resumed = launch_trainer(run_preset_file(stopped), stopped, resume=True, env=env)
    assert resumed.wait(timeout=300) == 0

    curve = losses(stopped)
    assert sorted(curve) == list(range(1, 11))  # one curve, one run dir, nothing lost or repeated
    for step in range(1, 11):
        assert curve[step] == pytest.approx(reference[step], rel=1e-3), (step, curve, reference)
    assert read_run(stopped).status == "finished"
    await console_shows(stopped, 10, "finished")
