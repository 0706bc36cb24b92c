"""`emosum-tui estimate`: the acceptance line, the decomposition, bad input, and estimate vs actual."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from emosum_tui.cli import main
from emosum_tui.core.cost_model import estimate
from emosum_tui.core.estimate_record import compare, write_estimate
from emosum_tui.core.events import CheckpointSaved, EventWriter, StepEnd, TrainPlan
from emosum_tui.core.presets import load_preset


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    assert main(["estimate", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_the_acceptance_line(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    body = run_json(capsys, "full", "--train-rows", "16485", "--s-per-step", "105.95", "--validation-rows", "4122")
    full = body["full"]
    for key in ("params", "optimizer_steps", "seconds_per_step", "train_seconds", "eval_seconds", "total_seconds",
                "peak_memory_bytes", "checkpoint_bytes", "peak_disk_bytes", "final_disk_bytes", "basis"):
        assert key in full, key
    assert full["params"] == 582_401_280
    assert full["optimizer_steps"] == 4_947  # "about 4,945": the Trainer rounds each epoch up
    assert full["train_seconds"] / 3600 == pytest.approx(145, rel=0.01)
    assert full["eval_seconds"] > 0  # generation every 1,000 steps, priced on top
    assert full["total_seconds"] == pytest.approx(full["train_seconds"] + full["eval_seconds"] + full["save_seconds"] + full["startup_seconds"])
    assert full["checkpoint_bytes"] / 1e9 == pytest.approx(7.0, abs=0.1)


def test_text_report_names_every_figure_with_its_basis(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["estimate", "--no-probe"]) == 0
    out = capsys.readouterr().out
    for name in ("original", "full", "fast", "demo"):
        assert f"\n{name}  (" in "\n" + out
    for label in ("params", "optimizer steps", "s/step", "total time", "peak memory", "checkpoint", "peak disk", "final disk"):
        assert label in out
    assert "as transformers' Trainer counts" in out
    assert "chars/token" in out  # the mT5 tokenizer is not on this machine, and the report says so


def test_fast_vs_full_decomposition(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    body = run_json(capsys, "full", "fast", "--vs", "full", "--train-rows", "16485", "--validation-rows", "4122", "--no-probe")
    factors = body["fast"]["speedup_vs"]["factors"]
    product = math.prod(f["factor"] for f in factors)
    assert product == pytest.approx(body["fast"]["total_seconds"] / body["full"]["total_seconds"], rel=1e-6)
    assert [f["key"] for f in factors][:3] == ["model", "rows", "epochs"]
    assert "speedup_vs" not in body["full"]
    assert main(["estimate", "fast", "--vs", "full", "--no-probe"]) == 0
    text = capsys.readouterr().out
    assert "model mt5-base → mt5-small" in text and "total time ratio" in text


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["estimate", "full", "--s-per-step", "-3"], "--s-per-step = -3.0"),
        (["estimate", "full", "--train-rows", "0"], "--train-rows = 0"),
        (["estimate", "no-such-preset"], "no preset named 'no-such-preset'"),
        (["estimate", "--run", "/no/such/run"], "no such run directory"),
    ],
)
def test_bad_input_is_a_clear_error(project: Path, capsys: pytest.CaptureFixture[str], argv: list[str], words: str) -> None:
    assert main(argv) == 2
    assert words in capsys.readouterr().err


def test_a_broken_preset_names_file_and_key(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = project / "presets" / "broken.toml"
    bad.write_text('extends = "demo"\n[train]\nbatch_size = "eight"\n', encoding="utf-8")
    try:
        assert main(["estimate", "broken", "--no-probe"]) == 2
    finally:
        bad.unlink()
    err = capsys.readouterr().err
    assert "broken.toml" in err and "train.batch_size" in err


def test_estimate_vs_actual_from_the_event_log(project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_dir = tmp_path / "run"
    predicted = estimate(load_preset("demo"), s_per_step=0.5)
    write_estimate(run_dir, predicted)
    writer = EventWriter(run_dir / "events.jsonl")
    writer.write(TrainPlan(total_steps=predicted.optimizer_steps))
    for step in range(1, 6):
        writer.write(StepEnd(step=step, total_steps=predicted.optimizer_steps, step_seconds=1.0))
    writer.write(CheckpointSaved(step=5, bytes=predicted.checkpoint_bytes * 2, seconds=0.1))
    writer.close()
    rows = {r.key: r for r in compare(run_dir)}
    assert rows["optimizer_steps"].ratio == 1.0
    assert rows["seconds_per_step"].ratio == pytest.approx(2.0)
    assert rows["checkpoint_bytes"].ratio == pytest.approx(2.0)
    assert rows["total_seconds"].measured is None  # not finished: nothing claimed
    assert main(["estimate", "--run", str(run_dir)]) == 0
    out = capsys.readouterr().out
    assert "s/step (median)" in out and "x2" in out
    (run_dir / "estimate.json").unlink()
    assert main(["estimate", "--run", str(run_dir)]) == 1
    assert "kept no estimate" in capsys.readouterr().err


@pytest.mark.slow
def test_a_real_demo_run_against_its_estimate(project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The trainer's own demo run: steps exactly as estimated, bytes within 5%."""
    run_dir = tmp_path / "runs" / "demo"
    write_estimate(run_dir, estimate(load_preset("demo")))
    env = dict(os.environ, EMOSUM_HOME=str(project), EMOSUM_CACHE=str(project / ".cache"), HF_HUB_OFFLINE="1")
    done = subprocess.run([sys.executable, "-m", "emosum_tui", "train", "demo", "--headless", "--run-dir", str(run_dir)],
                          env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    assert main(["estimate", "--run", str(run_dir), "--json"]) == 0
    body = {r["key"]: r for r in json.loads(capsys.readouterr().out)}
    assert body["optimizer_steps"]["predicted"] == body["optimizer_steps"]["measured"] == 100
    assert body["checkpoint_bytes"]["ratio"] == pytest.approx(1.0, abs=0.05)
    assert body["final_model_bytes"]["ratio"] == pytest.approx(1.0, abs=0.05)
    assert body["total_seconds"]["measured"] > 0
