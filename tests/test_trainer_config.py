"""A preset becomes the Trainer's arguments key by key, and generate-eval reports what it made."""

from __future__ import annotations

from pathlib import Path

import pytest

from emosum_tui.core.events import EVENTS_FILE, EvalResult, read_events
from emosum_tui.core.presets import load_preset

ADAFACTOR = """
extends = "full"
[train]
optimizer = "adafactor"
learning_rate = 1e-3
grad_clip = 0.0
group_by_length = true
[model]
gradient_checkpointing = true
[eval]
batch_size = 0
generation_max_tokens = 0
"""

GENERATE = """
extends = "demo"
[data]
train_samples = 40
validation_samples = 8
[train]
epochs = 1
[eval]
strategy = "steps"
steps = 5
predict_with_generate = true
generation_max_tokens = 8
[save]
steps = 100
"""


def test_preset_to_training_arguments(home: Path) -> None:
    from emosum_tui.trainer.trainer_setup import training_arguments

    (home / "presets" / "ada.toml").write_text(ADAFACTOR, encoding="utf-8")
    preset = load_preset("ada")
    args = training_arguments(preset, precision="fp32", use_cpu=True, has_eval=True, headless=True)
    assert args.optim == "adafactor" and args.learning_rate == 1e-3 and args.max_grad_norm == 0.0
    assert (args.per_device_train_batch_size, args.gradient_accumulation_steps) == (2, 4)
    assert args.per_device_eval_batch_size == 2  # eval.batch_size 0 = the train batch
    assert args.generation_max_length == 512  # generation_max_tokens 0 = max_target_tokens
    assert args.num_train_epochs == 3 and args.warmup_steps == 200
    assert args.eval_strategy == "steps" and args.eval_steps == 1000 and args.predict_with_generate
    assert args.save_steps == 1000 and args.save_total_limit == 1 and args.logging_steps == 50
    assert not args.logging_nan_inf_filter and args.report_to == [] and args.disable_tqdm
    assert getattr(args, "activation_checkpointing", None) or getattr(args, "gradient_checkpointing", None)
    assert getattr(args, "train_sampling_strategy", "group_by_length") == "group_by_length"
    assert args.output_dir == str(home / "model" / "ada") and args.seed == 42 and not args.bf16


def test_no_validation_rows_means_no_eval(home: Path) -> None:
    from emosum_tui.trainer.trainer_setup import training_arguments

    args = training_arguments(load_preset("demo"), precision="fp32", use_cpu=True, has_eval=False, headless=False)
    assert args.eval_strategy == "no" and not args.disable_tqdm


@pytest.mark.slow
def test_generate_eval_reports_generated_length(home: Path) -> None:
    from emosum_tui.trainer.run import run_training

    (home / "presets" / "gen.toml").write_text(GENERATE, encoding="utf-8")
    run_dir = home / "runs" / "gen"
    assert run_training(load_preset("gen"), run_dir, headless=True) == 0
    evals = [e for e in read_events(run_dir / EVENTS_FILE) if isinstance(e, EvalResult)]
    assert [e.step for e in evals] == [5]
    assert "eval_gen_len" in evals[0].metrics and 0 <= evals[0].metrics["eval_gen_len"] <= 9
    assert evals[0].seconds > 0
