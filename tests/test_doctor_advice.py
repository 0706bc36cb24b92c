"""Failure advice: each failure gets its smallest fix; an injected OOM resumes with the same effective batch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file
from support.project import short_demo_toml, write_preset

from emosum_tui.core.events import EVENTS_FILE, Done, Error, StepEnd, TrainPlan, read_events
from emosum_tui.core.presets import load_preset
from emosum_tui.doctor.advice import (
    FailureAdvice,
    advice_for,
    last_complete_checkpoint,
    set_aside_incomplete_checkpoints,
    write_derived_preset,
)

GIB = 2**30


@pytest.fixture
def home(home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The shared project home, also the working directory (as when the console is started there)."""
    monkeypatch.chdir(home)
    return home


def oom(step: int = 3) -> Error:
    return Error(classification="out-of-memory", type="OutOfMemoryError", message="CUDA out of memory. Tried to allocate 2.00 GiB",
                 step=step, advice=["lower train.batch_size"])


def test_oom_halves_the_batch_and_keeps_the_effective_batch(home: Path) -> None:
    advice = advice_for(oom(), load_preset("full"), checkpoint=home / "model" / "full" / "checkpoint-1000")
    assert advice.changes == {"train.batch_size": 1, "train.grad_accum": 8}
    assert "the effective batch stays 8" in advice.fix and advice.can_resume
    assert "OutOfMemoryError at step 3" in advice.happened


def test_oom_at_batch_one_turns_on_checkpointing_then_gives_up_on_resume(home: Path) -> None:
    advice = advice_for(oom(), load_preset("original"), checkpoint=home / "c")
    assert advice.changes == {"model.gradient_checkpointing": True}
    write_preset(home, "ckpt", 'extends = "original"\n[model]\ngradient_checkpointing = true\n')
    advice = advice_for(oom(), load_preset("ckpt"), checkpoint=home / "c")
    assert not advice.can_resume and "max_source_tokens (1024 -> 512)" in advice.fix


def test_oom_without_a_checkpoint_offers_no_resume(home: Path) -> None:
    advice = advice_for(oom(), load_preset("full"), checkpoint=None)
    assert advice.changes and not advice.can_resume


def test_nan_in_fp16_switches_precision_else_needs_a_new_run(home: Path) -> None:
    nan = Error(classification="nan-loss", type="FloatingPointError", message="loss is nan", step=7)
    write_preset(home, "half", 'extends = "full"\n[train]\nprecision = "fp16"\n')
    advice = advice_for(nan, load_preset("half"), checkpoint=home / "c")
    assert advice.changes == {"train.precision": "auto"} and advice.can_resume and "fp16" in advice.fix
    advice = advice_for(nan, load_preset("full"), checkpoint=home / "c")
    assert not advice.can_resume and "learning_rate 5e-05 -> 2.5e-05" in advice.fix


def test_missing_model_and_full_disk(home: Path) -> None:
    missing = Error(classification="model-not-available", type="OSError", message="google/mt5-base is not in the cache")
    advice = advice_for(missing, load_preset("full"))
    assert "huggingface-cli download google/mt5-base" in advice.fix and not advice.can_resume
    full = Error(classification="disk-full", type="OSError", message="[Errno 28] No space left on device", step=1000)
    advice = advice_for(full, load_preset("original"), checkpoint=home / "c", checkpoint_bytes=7 * GIB, disk_free=GIB // 2)
    assert "each checkpoint is 7.0 GiB; 512 MiB free" in advice.fix
    assert advice.changes == {"save.checkpoints_kept": 1} and advice.can_resume


def test_derived_preset_extends_the_run_and_keeps_its_output_dir(home: Path) -> None:
    run_dir = home / "runs" / "r1"
    run_dir.mkdir(parents=True)
    from emosum_tui.core.rundir import preset_as_run  # writes preset.toml exactly as the trainer does

    (run_dir / "preset.toml").write_text(preset_as_run(load_preset("full")), encoding="utf-8")
    path = write_derived_preset(run_dir, {"train.batch_size": 1, "train.grad_accum": 8}, "halfbatch")
    derived = load_preset(path)
    assert path == run_dir / "preset-halfbatch.toml"
    assert derived["train.batch_size"] == 1 and derived.effective_batch == 8
    assert derived.output_dir == load_preset("full").output_dir
    assert derived.changed_from_parent() == {"train.batch_size": (2, 1), "train.grad_accum": (4, 8)}


def test_incomplete_checkpoint_is_set_aside_not_deleted(tmp_path: Path) -> None:
    for step, complete in ((2, True), (4, False)):
        folder = tmp_path / f"checkpoint-{step}"
        folder.mkdir()
        save_file({"w": np.zeros(4, dtype=np.float32)}, str(folder / "model.safetensors"))  # whole weights in both
        if complete:
            (folder / "trainer_state.json").write_text("{}")
    assert last_complete_checkpoint(tmp_path) == tmp_path / "checkpoint-2"
    moved = set_aside_incomplete_checkpoints(tmp_path)
    assert moved == [tmp_path / "incomplete-checkpoint-4"] and (moved[0] / "model.safetensors").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint-2", "incomplete-checkpoint-4"]


@pytest.mark.slow
@pytest.mark.anyio
async def test_injected_oom_ends_on_advice_and_resumes_with_the_same_effective_batch(home: Path) -> None:
    """A real demo run hits an injected OOM in step 3; the advice screen's `a` resumes it from
    checkpoint-2 with batch 4 x grad-accum 2 (was 8 x 1) and it completes all 4 steps."""
    from support.pilot import wait_for

    from emosum_tui.core.rundir import launch_trainer, new_run_dir, read_run
    from emosum_tui.ui.app import EmosumApp
    from emosum_tui.ui.screens.failure_advice import FailureAdviceScreen
    from emosum_tui.ui.screens.training import TrainingScreen

    write_preset(home, "oomtest", short_demo_toml(32, save_steps=2))  # 4 steps, a checkpoint every 2
    run_dir = new_run_dir("oomtest", root=home / "runs")
    first = launch_trainer(home / "presets" / "oomtest.toml", run_dir, env={"EMOSUM_FAULT": "oom@3"})
    assert first.wait(timeout=300) == 1
    assert read_run(run_dir).status == "failed"

    app = EmosumApp(watch=run_dir)  # `emosum-tui watch <run>`: the failed run's history, then `a` for the advice
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, TrainingScreen) and app.screen.check_action("advice", ()) is True)
        await pilot.press("a")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, FailureAdviceScreen)
        assert isinstance(screen.advice, FailureAdvice) and screen.advice.classification == "out-of-memory"
        shown = " ".join(str(w.render()) for w in screen.query("Static"))
        assert "out of memory" in shown and "effective batch stays 8" in shown and "checkpoint-2" in shown
        await pilot.press("a")  # apply and resume: a StartRun the app launches
        await wait_for(pilot, lambda: app.launched)
        assert isinstance(app.screen, TrainingScreen) and app.screen.process is app.launched[0].process
    (resumed,) = app.launched
    assert resumed.run_dir == run_dir and (run_dir / "preset-halfbatch.toml").is_file()
    assert resumed.process.wait(timeout=300) == 0

    events = read_events(run_dir / EVENTS_FILE)
    plans = [e for e in events if isinstance(e, TrainPlan)]
    assert [(p.batch_size, p.grad_accum) for p in plans] == [(8, 1), (4, 2)]
    assert plans[0].total_steps == plans[1].total_steps == 4 and plans[1].start_step == 2
    assert [e.step for e in events if isinstance(e, StepEnd)] == [1, 2, 3, 4]  # no step lost, none repeated
    done = [e for e in events if isinstance(e, Done)]
    assert [d.reason for d in done] == ["failed", "completed"]
    assert done[-1].totals is not None and done[-1].totals.samples == 2 * 8  # steps 3-4 saw 8 rows each: the effective batch held
    assert read_run(run_dir).status == "finished"
    from emosum_tui.doctor.advice import advise

    assert advise(run_dir) is None  # resumed and finished: nothing left to advise


def failed_run(home: Path) -> Path:
    """A run folder as the trainer leaves it after an OOM in step 3, with checkpoint-2 on disk."""
    from emosum_tui.core.events import EventWriter, RunStart
    from emosum_tui.core.rundir import preset_as_run

    preset = load_preset("full")
    run_dir = home / "runs" / "20260101-000000-full"
    run_dir.mkdir(parents=True)
    (run_dir / "preset.toml").write_text(preset_as_run(preset), encoding="utf-8")
    state = preset.output_dir / "checkpoint-2" / "trainer_state.json"
    state.parent.mkdir(parents=True)
    state.write_text("{}", encoding="utf-8")
    save_file({"w": np.zeros(4, dtype=np.float32)}, str(state.parent / "model.safetensors"))  # complete: state and weights
    writer = EventWriter(run_dir / EVENTS_FILE)
    writer.write(RunStart(preset="full", run_dir=str(run_dir), output_dir=str(preset.output_dir)))
    writer.write(TrainPlan(total_steps=10, batch_size=2, grad_accum=4, device="cuda:0"))
    writer.write(oom())
    writer.write(Done(reason="failed", steps=2))
    writer.close()
    return run_dir


def test_doctor_run_explains_a_failed_run(home: Path) -> None:
    import json
    import os
    import subprocess
    import sys

    run_dir = failed_run(home)
    env = {**os.environ, "EMOSUM_HOME": str(home), "EMOSUM_CACHE": str(home / ".cache")}
    done = subprocess.run([sys.executable, "-m", "emosum_tui", "doctor", "--run", run_dir.name, "--json"], capture_output=True,
                          text=True, env=env, cwd=home, timeout=60)
    assert done.returncode == 0, done.stderr
    advice = json.loads(done.stdout)["advice"]
    assert advice["classification"] == "out-of-memory" and advice["can_resume"] is True
    assert advice["changes"] == {"train.batch_size": 1, "train.grad_accum": 8}
    assert advice["checkpoint"].endswith("checkpoint-2")


def test_a_resumed_run_is_no_longer_failed(home: Path) -> None:
    from emosum_tui.core.events import EventWriter, RunStart
    from emosum_tui.doctor.advice import advise

    run_dir = failed_run(home)
    assert advise(run_dir) is not None
    writer = EventWriter(run_dir / EVENTS_FILE)
    writer.write(RunStart(preset="preset-halfbatch", run_dir=str(run_dir)))
    writer.close()
    assert advise(run_dir) is None
