"""A trimmed run end to end: a hub-like local mT5 trimmed to the sample's pieces, trained as a
real subprocess, stopped, resumed on the cached trim, and its final model loaded and used with
plain transformers."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from support.model_folders import HUB_LIKE_PIECES, PADDED_ROWS, build_hub_like_mt5
from support.project import copy_project

from emosum_tui.core.events import EVENTS_FILE, Done, Phase, StepBegin, read_events
from emosum_tui.core.rundir import launch_trainer, request_stop, run_preset_file

pytestmark = pytest.mark.slow

TRIMMED = """extends = "demo"
description = "a hub-like local mT5, trimmed to the sample"
[model]
name = "{model}"
config = {{}}
trim_vocabulary = true
[data]
train_samples = 64
[train]
epochs = 1
[eval]
strategy = "no"
[save]
logging_steps = 1
steps = 100
output_dir = "model/{{preset}}"
"""


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("home")
    model = build_hub_like_mt5(root / "hub-like-mt5")
    return copy_project(root, {"trimmed": TRIMMED.format(model=model.as_posix())})


def env_for(home: Path, **extra: str) -> dict[str, str]:
    return {"EMOSUM_HOME": str(home), "EMOSUM_CACHE": str(home / ".cache"), "HF_HUB_OFFLINE": "1", **extra}


def events_of(run_dir: Path) -> list:
    return read_events(run_dir / EVENTS_FILE)


def wait_for_step(run_dir: Path, step: int, timeout: float = 180) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if any(isinstance(e, StepBegin) and e.step >= step for e in events_of(run_dir)):
            return
        time.sleep(0.2)
    raise AssertionError(f"no step {step} within {timeout} s: {(run_dir / 'stderr.log').read_text(errors='replace')[-2000:]}")


def test_a_trimmed_run_trains_stops_resumes_and_loads_with_plain_transformers(home: Path) -> None:
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    run_dir = home / "runs" / "trimmed"
    process = launch_trainer(home / "presets" / "trimmed.toml", run_dir, env=env_for(home, EMOSUM_FAULT="sleep@3:3"))
    wait_for_step(run_dir, 3)
    request_stop(run_dir)
    assert process.wait(timeout=180) == 0, (run_dir / "stderr.log").read_text(errors="replace")[-3000:]
    first = events_of(run_dir)
    assert isinstance(first[-1], Done) and first[-1].reason == "stopped"
    trims = [e for e in first if isinstance(e, Phase) and e.name == "trimming_vocabulary"]
    assert trims and any("writing" in e.detail for e in trims)  # made once, with progress
    assert trims[-1].done == trims[-1].total and trims[-1].total > 0
    cached = list((home / ".cache" / "trimmed").iterdir())
    assert len(cached) == 1 and not cached[0].name.endswith(".partial")

    process = launch_trainer(run_preset_file(run_dir), run_dir, resume=True, env=env_for(home))
    assert process.wait(timeout=240) == 0, (run_dir / "stderr.log").read_text(errors="replace")[-3000:]
    second = events_of(run_dir)[len(first):]
    assert isinstance(second[-1], Done) and second[-1].reason == "completed"
    resumed_trims = [e for e in second if isinstance(e, Phase) and e.name == "trimming_vocabulary"]
    assert resumed_trims and not any("writing" in e.detail for e in resumed_trims)  # the cached trim, reused

    final = Path(second[-1].final_path)
    manifest = json.loads((cached[0] / "trim.json").read_text(encoding="utf-8"))
    tokenizer = AutoTokenizer.from_pretrained(str(final))
    model = AutoModelForSeq2SeqLM.from_pretrained(str(final))
    assert model.config.vocab_size == manifest["kept"] < (HUB_LIKE_PIECES + PADDED_ROWS) / 2
    assert len(tokenizer) == manifest["kept"]
    inputs = tokenizer(["Client: I feel anxious about my exams. Counselor: Tell me more."], return_tensors="pt")
    output = model.generate(**inputs, max_new_tokens=8, do_sample=False)
    assert output.shape[1] > 1 and int(output.max()) < model.config.vocab_size
