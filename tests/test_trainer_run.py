"""The trainer end to end, as real subprocesses on the offline demo model.

One full `emosum-tui train demo --headless` run is shared by the tests that read it; stop,
resume and SIGKILL use a smaller preset that extends the demo (80 rows, 10 optimizer steps).
"""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from support.project import copy_project, short_demo_toml

from emosum_tui.core.events import (
    EVENTS_FILE,
    CheckpointSaved,
    Done,
    EvalResult,
    Event,
    EventReader,
    Heartbeat,
    Phase,
    RunStart,
    StepBegin,
    StepEnd,
    TrainPlan,
    read_events,
)
from emosum_tui.core.rundir import (
    ENVIRONMENT_FILE,
    PRESET_FILE,
    STATUS_FILE,
    launch_trainer,
    read_run,
    read_status,
    request_stop,
    run_preset_file,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project root of our own (model/ runs/ .cache/ in tmp) with `tiny`: the demo cut to 10 steps, no eval."""
    return copy_project(tmp_path_factory.mktemp("home"), {"tiny": short_demo_toml(80, output_dir="model/{preset}")})


def env_for(home: Path, **extra: str) -> dict[str, str]:
    return {"EMOSUM_HOME": str(home), "EMOSUM_CACHE": str(home / ".cache"), "HF_HUB_OFFLINE": "1", **extra}


def wait_for(reader: EventReader, seen: list[Event], predicate: Callable[[Event], bool], process: subprocess.Popen,
             timeout: float = 120) -> Event:
    deadline = time.time() + timeout
    while time.time() < deadline:
        for event in reader.poll():
            seen.append(event)
            if predicate(event):
                return event
        if process.poll() is not None:
            raise AssertionError(f"trainer exited ({process.returncode}) first; stderr:\n{stderr_of(reader.path.parent)}")
        time.sleep(0.1)
    raise AssertionError("timed out waiting for an event")


def stderr_of(run_dir: Path) -> str:
    path = run_dir / "stderr.log"
    return path.read_text(encoding="utf-8", errors="replace")[-3000:] if path.exists() else ""


@pytest.fixture(scope="module")
def demo_run(home: Path) -> tuple[Path, str, float]:
    """`emosum-tui train demo --headless` to the end: (run dir, its stdout, wall seconds)."""
    run_dir = home / "runs" / "demo-run"
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "emosum_tui", "train", "demo", "--headless", "--run-dir", str(run_dir)],
        cwd=home, env={**os.environ, **env_for(home)}, capture_output=True, text=True, timeout=600,
    )
    seconds = time.perf_counter() - started
    assert done.returncode == 0, done.stderr[-3000:]
    return run_dir, done.stdout, seconds


def test_demo_event_log_tells_the_whole_run(demo_run: tuple[Path, str, float]) -> None:
    run_dir, _, _ = demo_run
    events = read_events(run_dir / EVENTS_FILE)
    kinds = [e.kind for e in events]
    assert kinds[0] == "run_start" and kinds[-1] == "done"
    phases = [e.name for e in events if isinstance(e, Phase)]
    for phase in ("loading_model", "loading_data", "tokenising", "training", "evaluating", "saving"):
        assert phase in phases
    progress = [e for e in events if isinstance(e, Phase) and e.name == "tokenising" and e.total]
    assert progress[-1].done == progress[-1].total == 440  # 400 train + 40 validation rows

    plan = next(e for e in events if isinstance(e, TrainPlan))
    assert plan.total_steps == 100 and plan.start_step == 0 and plan.train_rows == 400  # 400 rows / 8 x 2 epochs
    begins = [e.step for e in events if isinstance(e, StepBegin)]
    ends = [e for e in events if isinstance(e, StepEnd)]
    assert begins == list(range(1, 101)) and [e.step for e in ends] == list(range(1, 101))
    for end in ends:
        assert end.loss is not None and math.isfinite(end.loss)
        assert end.step_seconds > 0 and end.samples_per_second > 0 and end.tokens_per_second > 0
        assert end.learning_rate is not None and end.grad_norm is not None and end.grad_norm > 0

    first = sum(e.loss for e in ends[:10]) / 10
    last = sum(e.loss for e in ends[-10:]) / 10
    assert last < 0.5 * first, (first, last)

    evals = [e for e in events if isinstance(e, EvalResult)]
    assert [e.step for e in evals] == [20, 40, 60, 80, 100] and "eval_loss" in evals[0].metrics
    checkpoints = [e for e in events if isinstance(e, CheckpointSaved)]
    assert [e.step for e in checkpoints] == [20, 40, 60, 80, 100] and all(e.bytes > 100_000 for e in checkpoints)

    done = events[-1]
    assert isinstance(done, Done) and done.reason == "completed" and done.steps == 100
    assert done.train_loss is not None and done.train_loss < first
    assert [e.seq for e in events] == list(range(len(events)))


def test_demo_run_dir_files_and_status(demo_run: tuple[Path, str, float], home: Path) -> None:
    run_dir, _, _ = demo_run
    for name in (PRESET_FILE, ENVIRONMENT_FILE, STATUS_FILE, EVENTS_FILE, "stderr.log", "control"):
        assert (run_dir / name).exists(), name
    start = read_events(run_dir / EVENTS_FILE)[0]
    assert isinstance(start, RunStart) and start.environment.torch and start.environment.cuda_available is not None
    status = read_status(run_dir)
    assert status is not None and status.state == "finished" and status.step == 100
    summary = read_run(run_dir)
    assert summary.status == "finished" and summary.steps == summary.total_steps == 100 and not summary.alive
    assert summary.final_path == str(home / "model" / "demo" / "final")
    # checkpoints_kept = 1: only the newest checkpoint remains
    assert sorted(p.name for p in (home / "model" / "demo").glob("checkpoint-*")) == ["checkpoint-100"]
    assert not list(run_dir.glob("*.partial")) and not list((home / "model" / "demo").glob("*.partial*"))


def test_demo_headless_prints_one_line_per_logging_step(demo_run: tuple[Path, str, float]) -> None:
    _, stdout, _ = demo_run
    lines = [line for line in stdout.splitlines() if line.startswith("step ")]
    assert len(lines) == 20  # logging_steps = 5, 100 steps
    assert lines[0].startswith("step 5/100") and "loss" in lines[0] and "s/step" in lines[0] and "ETA" in lines[0]
    assert "{'loss'" not in stdout  # the Trainer's own dict printer is replaced by ours
    assert "done (completed) after 100 steps" in stdout


def test_demo_final_model_loads_and_generates(demo_run: tuple[Path, str, float], home: Path) -> None:
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    final = home / "model" / "demo" / "final"
    assert (final / "model.safetensors").exists() and (final / "spiece.model").exists()
    tokenizer = AutoTokenizer.from_pretrained(final)
    model = AutoModelForSeq2SeqLM.from_pretrained(final)
    inputs = tokenizer(["Client: I feel anxious about my exams. Counselor: Tell me more."], return_tensors="pt")
    output = model.generate(**inputs, max_new_tokens=12, do_sample=False)
    text = tokenizer.decode(output[0], skip_special_tokens=True)
    assert output.shape[1] > 1 and text.strip()


def test_stop_saves_a_checkpoint_and_resume_completes(home: Path) -> None:
    run_dir = home / "runs" / "stop-resume"
    process = launch_trainer(home / "presets" / "tiny.toml", run_dir, env=env_for(home, EMOSUM_FAULT="sleep@4:3"))
    reader, seen = EventReader(run_dir / EVENTS_FILE), []
    wait_for(reader, seen, lambda e: isinstance(e, StepBegin) and e.step == 4, process)
    request_stop(run_dir)
    assert process.wait(timeout=120) == 0, stderr_of(run_dir)
    seen += reader.poll()
    done = seen[-1]
    assert isinstance(done, Done) and done.reason == "stopped" and done.steps == 4
    saved = [e for e in seen if isinstance(e, CheckpointSaved)]
    assert [e.step for e in saved] == [4] and (home / "model" / "tiny" / "checkpoint-4").is_dir()
    assert read_run(run_dir).status == "stopped"

    process = launch_trainer(run_preset_file(run_dir), run_dir, resume=True, env=env_for(home))
    assert process.wait(timeout=180) == 0, stderr_of(run_dir)
    after = reader.poll()
    start = next(e for e in after if isinstance(e, RunStart))
    assert start.resumed_from is not None and start.resumed_from.endswith("checkpoint-4")
    plan = next(e for e in after if isinstance(e, TrainPlan))
    assert (plan.start_step, plan.total_steps) == (4, 10)
    assert [e.step for e in after if isinstance(e, StepBegin)] == list(range(5, 11))
    assert [e.step for e in after if isinstance(e, StepEnd)] == list(range(5, 11))
    assert isinstance(after[-1], Done) and after[-1].reason == "completed" and after[-1].steps == 10
    summary = read_run(run_dir)
    assert summary.status == "finished" and summary.steps == 10
    assert (home / "model" / "tiny" / "final" / "model.safetensors").exists()


def test_sigkill_leaves_a_readable_dead_run(home: Path) -> None:
    run_dir = home / "runs" / "killed"
    process = launch_trainer(home / "presets" / "tiny.toml", run_dir, env=env_for(home, EMOSUM_FAULT="sleep@3:60"))
    reader, seen = EventReader(run_dir / EVENTS_FILE), []
    wait_for(reader, seen, lambda e: isinstance(e, StepBegin) and e.step == 3, process)
    wait_for(reader, seen, lambda e: isinstance(e, Heartbeat) and e.step == 2, process)  # alive inside the long step
    assert read_run(run_dir).status == "running"
    process.kill()
    process.wait(timeout=30)

    summary = read_run(run_dir)
    assert summary.status == "dead" and not summary.alive and summary.steps == 2
    assert "without writing 'done'" in summary.message
    status = read_status(run_dir)
    assert status is not None and status.state == "running"  # what it said last, read whole
    full = EventReader(run_dir / EVENTS_FILE)
    events = full.poll()
    assert full.skipped == 0 and events and not any(isinstance(e, Done) for e in events)
    leftovers = [p.name for p in run_dir.rglob("*") if "partial" in p.name]
    assert leftovers == []


@pytest.mark.skipif(os.name == "nt", reason="sends SIGINT to a process; the console uses the stop file instead")
def test_ctrl_c_in_the_terminal_is_a_clean_stop(home: Path) -> None:
    (home / "presets" / "tiny-ctrl-c.toml").write_text('extends = "tiny"\n[save]\noutput_dir = "model/ctrl-c"\n', encoding="utf-8")
    run_dir = home / "runs" / "ctrl-c"
    process = launch_trainer(home / "presets" / "tiny-ctrl-c.toml", run_dir, env=env_for(home, EMOSUM_FAULT="sleep@2:3"))
    reader, seen = EventReader(run_dir / EVENTS_FILE), []
    wait_for(reader, seen, lambda e: isinstance(e, StepBegin) and e.step == 2, process)
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=120) == 0, stderr_of(run_dir)
    seen += reader.poll()
    assert isinstance(seen[-1], Done) and seen[-1].reason == "stopped" and seen[-1].steps == 2
    assert (home / "model" / "ctrl-c" / "checkpoint-2").is_dir()
