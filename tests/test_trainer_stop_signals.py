"""A real `emosum-tui train` process stopped by a real SIGTERM stops like the stop file (checkpoint,
`done(stopped)`, exit 0) and `--resume` continues; one killed while writing a checkpoint leaves
the previous one usable, and `--resume` sets the torn one aside and continues from the last
complete one. The demo cut to 10 optimizer steps, offline."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from support.project import copy_project, short_demo_toml

from emosum_tui.core.checkpoints import checkpoint_problem
from emosum_tui.core.events import EVENTS_FILE, CheckpointSaved, Done, EventReader, RunStart, StepBegin, StepEnd, TrainPlan, Warn
from emosum_tui.core.rundir import read_run, stop_file

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace with `tiny` (10 steps, a checkpoint every 100) and `tiny-saves` (a checkpoint every 2 steps)."""
    return copy_project(tmp_path_factory.mktemp("home"), {
        "tiny": short_demo_toml(80, output_dir="model/{preset}"),
        "tiny-saves": short_demo_toml(80, save_steps=2, output_dir="model/{preset}"),
    })


def train(home: Path, preset: str, run_dir: Path, *extra: str, fault: str = "") -> subprocess.Popen:
    """`emosum-tui train PRESET --headless --run-dir RUN` as its own process, as a user or a supervisor starts it."""
    script = Path(sys.executable).with_name("emosum-tui")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "emosum_tui"]
    env = {**os.environ, "EMOSUM_HOME": str(home), "EMOSUM_CACHE": str(home / ".cache"), "HF_HUB_OFFLINE": "1",
           "EMOSUM_FAULT": fault}
    run_dir.mkdir(parents=True, exist_ok=True)
    with (run_dir / "stdout.log").open("ab") as out, (run_dir / "stderr.log").open("ab") as err:
        return subprocess.Popen([*command, "train", preset, "--headless", "--run-dir", str(run_dir), *extra],
                                cwd=home, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL, start_new_session=True)


def stderr_of(run_dir: Path) -> str:
    return (run_dir / "stderr.log").read_text(encoding="utf-8", errors="replace")[-3000:]


def wait_for_step(reader: EventReader, seen: list, step: int, process: subprocess.Popen, timeout: float = 180) -> None:
    import time

    deadline = time.time() + timeout
    while time.time() < deadline:
        seen += reader.poll()
        if any(isinstance(e, StepBegin) and e.step == step for e in seen):
            return
        assert process.poll() is None, f"trainer exited ({process.returncode}) first:\n{stderr_of(reader.path.parent)}"
        time.sleep(0.1)
    raise AssertionError(f"no step {step} within {timeout} s")


def resume_to_the_end(home: Path, preset: str, run_dir: Path, reader: EventReader) -> list:
    process = train(home, preset, run_dir, "--resume")
    assert process.wait(timeout=300) == 0, stderr_of(run_dir)
    return reader.poll()


def test_sigterm_stops_with_a_checkpoint_and_resume_continues(home: Path) -> None:
    run_dir = home / "runs" / "sigterm"
    process = train(home, "tiny", run_dir, fault="sleep@4:3")  # step 4 lasts 3 s: the signal lands inside it
    reader, seen = EventReader(run_dir / EVENTS_FILE), []
    wait_for_step(reader, seen, 4, process)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=120) == 0, stderr_of(run_dir)
    seen += reader.poll()
    assert isinstance(seen[-1], Done) and seen[-1].reason == "stopped" and seen[-1].steps == 4
    assert [e.step for e in seen if isinstance(e, CheckpointSaved)] == [4]
    assert checkpoint_problem(home / "model" / "tiny" / "checkpoint-4") is None
    assert '"by": "sigterm"' in stop_file(run_dir).read_text(encoding="utf-8")
    assert "SIGTERM: stopping after this step with a checkpoint" in stderr_of(run_dir)
    assert read_run(run_dir).status == "stopped"

    after = resume_to_the_end(home, "tiny", run_dir, reader)
    start = next(e for e in after if isinstance(e, RunStart))
    assert start.resumed_from == str(home / "model" / "tiny" / "checkpoint-4")
    assert next(e for e in after if isinstance(e, TrainPlan)).start_step == 4
    assert [e.step for e in after if isinstance(e, StepEnd)] == list(range(5, 11))
    assert isinstance(after[-1], Done) and after[-1].reason == "completed" and after[-1].steps == 10


def test_killed_mid_save_resume_sets_the_torn_checkpoint_aside_and_continues_from_the_last_whole_one(home: Path) -> None:
    from transformers.trainer_utils import get_last_checkpoint

    output = home / "model" / "tiny-saves"
    run_dir = home / "runs" / "torn-save"
    process = train(home, "tiny-saves", run_dir, fault="die-in-save@4")
    assert process.wait(timeout=300) == -signal.SIGKILL, stderr_of(run_dir)
    events = EventReader(run_dir / EVENTS_FILE).poll()
    assert [e.step for e in events if isinstance(e, CheckpointSaved)] == [2]  # step 4's save never finished
    assert not any(isinstance(e, Done) for e in events) and read_run(run_dir).status == "dead"
    assert checkpoint_problem(output / "checkpoint-2") is None
    assert (output / "checkpoint-4" / "model.safetensors").is_file()  # torn: weights written, the rest not
    assert checkpoint_problem(output / "checkpoint-4") == "no trainer_state.json (the save was cut short)"
    assert get_last_checkpoint(str(output)) == str(output / "checkpoint-4")  # what transformers alone would resume from

    reader = EventReader(run_dir / EVENTS_FILE)
    reader.poll()
    after = resume_to_the_end(home, "tiny-saves", run_dir, reader)
    start = next(e for e in after if isinstance(e, RunStart))
    assert start.resumed_from == str(output / "checkpoint-2")
    warning = next(e for e in after if isinstance(e, Warn) and e.code == "incomplete-checkpoint")
    assert warning.message == f"a checkpoint save was cut short: set aside as incomplete-checkpoint-4; resuming from {output / 'checkpoint-2'}"
    assert next(e for e in after if isinstance(e, TrainPlan)).start_step == 2
    assert [e.step for e in after if isinstance(e, StepEnd)] == list(range(3, 11))
    assert isinstance(after[-1], Done) and after[-1].reason == "completed" and after[-1].steps == 10
    assert (output / "incomplete-checkpoint-4" / "model.safetensors").is_file()  # set aside, not deleted
    assert checkpoint_problem(output / "checkpoint-10") is None
