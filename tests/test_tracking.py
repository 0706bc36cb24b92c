"""`[log] report_to`: checked like every key, a missing package said before the model loads, and
on the demo TensorBoard gets event files with the loss the run folder records."""

from __future__ import annotations

import importlib.util
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from support.project import copy_project, short_demo_toml, write_preset

from emosum_tui.core.events import EVENTS_FILE, StepEnd, read_events
from emosum_tui.core.presets import PresetError, load_preset
from emosum_tui.core.tracking import TENSORBOARD_DIR, TrackingUnavailable, prepare_tracking


@pytest.mark.parametrize(("value", "said"), [
    ('["tensorbord"]', "unknown tracking tool 'tensorbord'; known: azure_ml, clearml"),
    ('["none"]', "unknown tracking tool 'none' (report_to = [] means none)"),
    ('["wandb", "wandb"]', "names a tool twice"),
    ("[1]", "must be a list of tool names (strings)"),
    ('"tensorboard"', "must be a list"),
])
def test_a_bad_report_to_is_a_preset_error_naming_file_key_and_value(value: str, said: str, home: Path) -> None:
    path = write_preset(home, "tracked", f'extends = "demo"\n[log]\nreport_to = {value}\n')
    with pytest.raises(PresetError) as error:
        load_preset("tracked")
    assert str(error.value).startswith(f"{path}: key 'log.report_to'") and said in str(error.value)


def test_report_to_defaults_to_none_and_takes_known_names(home: Path) -> None:
    assert load_preset("demo")["log.report_to"] == []
    write_preset(home, "tracked", 'extends = "demo"\n[log]\nreport_to = ["tensorboard", "wandb", "trackio"]\n')
    assert load_preset("tracked")["log.report_to"] == ["tensorboard", "wandb", "trackio"]


def test_a_tool_that_is_not_installed_is_named_with_the_install_command(tmp_path: Path) -> None:
    pytest.importorskip("tensorboard")
    assert prepare_tracking(["tensorboard"], tmp_path / "p.toml", tmp_path) == ["tensorboard"]
    assert os.environ["TENSORBOARD_LOGGING_DIR"] == str(tmp_path / TENSORBOARD_DIR)
    if any(importlib.util.find_spec(module) for module in ("comet_ml", "flytekit")):
        pytest.skip("comet_ml or flytekit is installed here")
    with pytest.raises(TrackingUnavailable) as error:
        prepare_tracking(["comet_ml", "flyte"], tmp_path / "p.toml", tmp_path)
    assert str(error.value) == (f"[log] report_to in {tmp_path / 'p.toml'} names comet_ml (pip install comet-ml), flyte (pip install "
                                "flytekit): not installed in this Python; install it or remove it from report_to")


@pytest.mark.slow
def test_tensorboard_gets_the_loss_of_the_demo(tmp_path: Path) -> None:
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    text = short_demo_toml(40, output_dir="model/{preset}") + '[log]\nreport_to = ["tensorboard"]\n'
    home = copy_project(tmp_path / "home", {"tracked": text})
    run_dir = home / "runs" / "tracked"
    env = {**os.environ, "EMOSUM_HOME": str(home), "EMOSUM_CACHE": str(home / ".cache"), "HF_HUB_OFFLINE": "1"}
    env.pop("TENSORBOARD_LOGGING_DIR", None)
    done = subprocess.run([sys.executable, "-m", "emosum_tui", "train", "tracked", "--headless", "--run-dir", str(run_dir)],
                          cwd=home, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]

    event_files = list((run_dir / TENSORBOARD_DIR).rglob("events.out.tfevents.*"))
    assert event_files, f"no event files under {run_dir / TENSORBOARD_DIR}"
    accumulator = EventAccumulator(str(event_files[0].parent))
    accumulator.Reload()
    assert "train/loss" in accumulator.Tags()["scalars"]
    logged = {scalar.step: scalar.value for scalar in accumulator.Scalars("train/loss")}
    recorded = {e.step: e.loss for e in read_events(run_dir / EVENTS_FILE) if isinstance(e, StepEnd)}
    assert sorted(logged) == sorted(recorded) == list(range(1, 6))  # 40 rows / 8 per step, a log line every step
    for step, loss in logged.items():
        assert math.isfinite(loss) and loss == pytest.approx(recorded[step], rel=1e-3)
    assert not (home / "model" / "tracked" / "runs").exists()  # not beside the checkpoints: in the run folder
