"""A calibration answers for every preset of the same speed, and a run from the command line uses it.

The match ignores what does not change the speed of a micro-batch (learning rate, epochs, rows,
grad-accum, seed) and keeps what does (shape, micro-batch, optimizer, switches); lengths match
loosely. End to end: `estimate demo --calibrate`, then `train` of a demo variant from the
command line keeps an estimate whose basis says "calibrated".
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import asdict, replace
from pathlib import Path

import pytest
from support.project import write_preset

from emosum_tui.core import calibration as cal
from emosum_tui.core.calibration_match import LENGTH_TOLERANCE, match_fields, speed_key
from emosum_tui.core.estimate_record import read_estimate
from emosum_tui.core.presets import load_preset, with_values

VARIANT = """
extends = "demo"
description = "the demo with other speed-neutral choices"
[data]
train_samples = 16
seed = 7
[train]
epochs = 1
learning_rate = 5e-4
[eval]
strategy = "no"
[save]
steps = 100
"""


def test_the_speed_key_ignores_what_does_not_change_speed(home: Path) -> None:
    demo = cal.spec_for(load_preset("demo"))
    neutral = {"train.learning_rate": 3e-4, "train.epochs": 5, "train.grad_accum": 4, "data.train_samples": 20, "data.seed": 3}
    assert speed_key(cal.spec_for(with_values(load_preset("demo"), neutral))) == speed_key(demo)
    for change in ({"train.batch_size": 4}, {"train.compile": "on"}, {"train.optimizer": "adafactor", "train.grad_clip": 0.0},
                   {"model.gradient_checkpointing": True}, {"train.fused_optimizer": False}):
        assert speed_key(cal.spec_for(with_values(load_preset("demo"), change))) != speed_key(demo), change


def _store(spec: cal.CalibrationSpec, micro_seconds: float) -> None:
    """A calibration in the cache file as CalibrationJob writes it."""
    result = cal.CalibrationResult(device="cpu (2 threads)", micro_batch_seconds=micro_seconds, micro_flops=1e9, update_seconds=0.01,
                                   step_seconds=micro_seconds + 0.01, eval_batch_seconds=0.1, eval_flops=1e8, decode_token_seconds=0.0,
                                   generate_fixed_seconds=0.0, startup_seconds=3.0)
    cal._write_cache(cal._calibration_key(spec), {**asdict(result), **match_fields(spec)})


def test_a_preset_of_the_same_speed_finds_the_nearest_calibration(home: Path) -> None:
    demo = cal.spec_for(load_preset("demo"))
    _store(demo, 0.5)
    variant = cal.spec_for(with_values(load_preset("demo"), {"train.learning_rate": 3e-4, "data.train_samples": 24}))
    assert variant.key() != demo.key()  # other rows drawn: not the same spec ...
    found = cal.cached_calibration(variant)
    assert found is not None and found.micro_batch_seconds == 0.5  # ... but the same speed
    # Much longer rows are another calibration's business.
    longer = replace(variant, rows=[(int(s * LENGTH_TOLERANCE * 1.2) + 1, t) for s, t in variant.rows])
    assert cal.cached_calibration(longer) is None
    _store(replace(demo, rows=longer.rows), 0.9)
    assert cal.cached_calibration(longer).micro_batch_seconds == 0.9
    # Another micro-batch is not the same speed.
    assert cal.cached_calibration(cal.spec_for(with_values(load_preset("demo"), {"train.batch_size": 4}))) is None


def _cli(home: Path, *argv: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "EMOSUM_HOME": str(home), "EMOSUM_CACHE": str(home / ".cache")}
    env.pop("EMOSUM_FAULT", None)
    return subprocess.run([sys.executable, "-m", "emosum_tui", *argv], cwd=home, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)


@pytest.mark.slow
def test_a_command_line_run_uses_the_calibration_of_its_preset(home: Path) -> None:
    calibrated = _cli(home, "estimate", "demo", "--calibrate", "--json")
    assert calibrated.returncode == 0, calibrated.stderr[-2000:]
    assert json.loads(calibrated.stdout)["demo"]["basis"]["seconds_per_step"].startswith("calibrated")
    write_preset(home, "variant", VARIANT)
    run_dir = home / "runs" / "variant-from-cli"
    trained = _cli(home, "train", "variant", "--headless", "--run-dir", str(run_dir))
    assert trained.returncode == 0, trained.stderr[-2000:]
    kept = read_estimate(run_dir)
    assert kept is not None and kept.kind == "calibrated", kept
    assert kept.seconds_per_step_basis.startswith("calibrated on cpu")
