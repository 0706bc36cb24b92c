"""Failures end in the right classification, with advice, and a run dir that says "failed".

Faults are injected through `EMOSUM_FAULT` into the real Seq2SeqTrainer on a 5-step preset
that extends the demo; the trainer runs in this process (one torch import for all of them),
except the missing-model case, which needs a fresh process to see an empty Hugging Face cache.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from support.project import short_demo_toml, write_preset

from emosum_tui.core.events import EVENTS_FILE, CheckpointSaved, Done, Error, StepEnd, read_events
from emosum_tui.core.presets import load_preset
from emosum_tui.core.rundir import read_run
from emosum_tui.trainer.control import OutputLock
from emosum_tui.trainer.faults import Fault, parse_faults


@pytest.fixture
def home(home: Path) -> Path:
    """The shared project home plus `tiny`: 5 optimizer steps, a checkpoint every 2."""
    write_preset(home, "tiny", short_demo_toml(40, save_steps=2))
    return home


def train(home: Path, name: str, preset: str = "tiny") -> tuple[int, Path, list]:
    from emosum_tui.trainer.run import run_training

    run_dir = home / "runs" / name
    code = run_training(load_preset(preset), run_dir, headless=True)
    return code, run_dir, read_events(run_dir / EVENTS_FILE)


def the_error(events: list) -> Error:
    errors = [e for e in events if isinstance(e, Error)]
    assert len(errors) == 1, events[-3:]
    assert isinstance(events[-1], Done) and events[-1].reason == "failed"
    return errors[0]


def fail_with(fault: str, home: Path, name: str, monkeypatch: pytest.MonkeyPatch) -> tuple[Error, Path, list]:
    """Train `tiny` with `fault` injected: the run fails with exactly one error, returned with its dir and events."""
    monkeypatch.setenv("EMOSUM_FAULT", fault)
    code, run_dir, events = train(home, name)
    assert code == 1
    return the_error(events), run_dir, events


def test_parse_faults() -> None:
    assert parse_faults("nan@3, sleep@2:1.5,disk-full") == [Fault("nan", 3), Fault("sleep", 2, 1.5), Fault("disk-full", None)]
    assert parse_faults(None) == []
    with pytest.raises(ValueError, match="unknown fault 'boom'"):
        parse_faults("boom@1")


@pytest.mark.slow
def test_nan_loss_stops_the_run_at_that_step(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    error, run_dir, events = fail_with("nan@3", home, "nan", monkeypatch)
    assert error.classification == "nan-loss" and error.step == 3
    assert "step 3" in error.message
    assert any("fp16" in line for line in error.advice) and any("learning_rate" in line for line in error.advice)
    losses = {e.step: e.loss for e in events if isinstance(e, StepEnd)}
    assert sorted(losses) == [1, 2, 3] and math.isnan(losses[3])  # raw, not averaged away
    summary = read_run(run_dir)
    assert (summary.status, summary.error) == ("failed", "nan-loss")


@pytest.mark.slow
def test_out_of_memory_is_classified_with_advice(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    error, run_dir, _ = fail_with("oom@2", home, "oom", monkeypatch)
    assert error.classification == "out-of-memory" and error.type == "OutOfMemoryError" and error.step == 2
    advice = " ".join(error.advice)
    assert "train.batch_size (8 -> 4)" in advice and "grad_accum (1 -> 2)" in advice and "effective batch of 8" in advice
    assert "gradient_checkpointing" in advice and "adafactor" in advice
    assert read_run(run_dir).status == "failed"


@pytest.mark.slow
def test_disk_full_while_saving_is_classified(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    error, run_dir, events = fail_with("disk-full", home, "disk", monkeypatch)
    assert error.classification == "disk-full" and error.step == 2
    assert not any(isinstance(e, CheckpointSaved) for e in events)
    assert any("output_dir" in line for line in error.advice)
    assert read_run(run_dir).error == "disk-full"


@pytest.mark.slow
def test_bad_data_names_the_file_and_line(home: Path) -> None:
    bad = home / "data" / "bad.jsonl"
    bad.write_text('{"id": 1, "case_description": "x"}\nnot json\n', encoding="utf-8")
    (home / "presets" / "bad.toml").write_text(f'extends = "tiny"\n[data]\ntrain_file = "{bad.as_posix()}"\n', encoding="utf-8")
    code, run_dir, events = train(home, "bad", preset="bad")
    assert read_run(run_dir).error == "bad-data"
    assert code == 1
    error = the_error(events)
    assert error.classification == "bad-data"
    assert f"{bad}:1: missing field" in error.message


def test_second_trainer_on_the_same_output_dir_is_refused(home: Path, tmp_path: Path) -> None:
    preset = load_preset("tiny")
    holder = OutputLock(preset.output_dir, tmp_path / "other-run")
    holder.acquire()
    try:
        code, _, events = train(home, "second")
    finally:
        holder.release()
    assert code == 1
    error = the_error(events)
    assert "is in use by another trainer" in error.message and str(os.getpid()) in error.message
    assert not any(isinstance(e, StepEnd) for e in events)


def test_a_dead_trainers_lock_is_taken_over(tmp_path: Path) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    stale = OutputLock(tmp_path, tmp_path / "run-a")
    stale.path.write_text(f'{{"pid": {gone.pid}, "run_dir": "run-a", "started": 0}}', encoding="utf-8")
    lock = OutputLock(tmp_path, tmp_path / "run-b")
    lock.acquire()
    assert lock.held and f'"pid": {os.getpid()}' in lock.path.read_text(encoding="utf-8")
    lock.release()
    assert not lock.path.exists()


@pytest.mark.slow
def test_missing_hub_model_offline_is_model_not_available(home: Path, tmp_path: Path) -> None:
    (home / "presets" / "hub.toml").write_text(
        'extends = "tiny"\n[model]\nname = "google/mt5-small"\nconfig = {}\n', encoding="utf-8"
    )
    run_dir = home / "runs" / "hub"
    env = {**os.environ, "HF_HOME": str(tmp_path / "empty-hf"), "HF_HUB_OFFLINE": "1"}
    env.pop("HF_HUB_CACHE", None)
    done = subprocess.run(
        [sys.executable, "-m", "emosum_tui", "train", "hub", "--headless", "--run-dir", str(run_dir)],
        cwd=home, env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 1
    error = the_error(read_events(run_dir / EVENTS_FILE))
    assert error.classification == "model-not-available"
    assert error.message.startswith(f"google/mt5-small is not in the local cache at {tmp_path / 'empty-hf' / 'hub'}")
    assert "the hub cannot be reached" in error.message
    assert "error [model-not-available]" in done.stdout


@pytest.mark.slow
def test_stop_requested_before_training_ends_stopped_without_a_model(home: Path) -> None:
    from emosum_tui.core.rundir import request_stop

    run_dir = home / "runs" / "early-stop"
    request_stop(run_dir)  # the console may ask before the trainer has even started
    code, run_dir, events = train(home, "early-stop")
    assert code == 0
    assert isinstance(events[-1], Done) and events[-1].reason == "stopped" and events[-1].steps == 0
    assert not any(isinstance(e, StepEnd) for e in events)
    assert not (home / "model" / "tiny" / "final").exists()
    assert read_run(run_dir).status == "stopped"
