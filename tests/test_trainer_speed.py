"""Training as fast as the device allows, and a s/step that tells the truth about it.

The speed switches reach the Trainer as the preset says; the collator counts tokens on the host
and pads a compiled run to a few shapes; the step timer measures from one step's end to the next
(the loader included, pauses out); a real run with a slow loader shows it in its s/step; a
compiled demo run trains to the end on this CPU.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from support.project import short_demo_toml, write_preset

from emosum_tui.core.events import EVENTS_FILE, Done, Phase, StepEnd, TrainPlan, read_events
from emosum_tui.core.presets import load_preset
from emosum_tui.trainer.batching import CountingCollator, bucket_length, with_length_column
from emosum_tui.trainer.speed import choose_speed, speed_arguments
from emosum_tui.trainer.step_meter import BatchCount, StepMeter
from emosum_tui.trainer.step_timer import StepTimer

SWITCHES_OFF = """
extends = "full"
[train]
compile = "off"
tf32 = false
fused_optimizer = false
pad_to_multiple_of = 1
"""


def test_the_switches_follow_the_device_and_the_preset(home: Path) -> None:
    full = load_preset("full")
    gpu = choose_speed(full, on_gpu=True, gpu_capability=(9, 0))
    assert speed_arguments(gpu) == {"optim": "adamw_torch_fused", "tf32": True, "torch_compile": True}
    assert gpu.pad_to_multiple_of == 8 and gpu.bucket_lengths
    turing = choose_speed(full, on_gpu=True, gpu_capability=(7, 5))
    assert not turing.tf32 and turing.compile  # no TF32 before Ampere
    cpu = choose_speed(full, on_gpu=False)
    assert speed_arguments(cpu) == {"optim": "adamw_torch", "tf32": None, "torch_compile": False}
    assert cpu.pad_to_multiple_of is None and not cpu.bucket_lengths
    write_preset(home, "plain", SWITCHES_OFF)
    off = choose_speed(load_preset("plain"), on_gpu=True, gpu_capability=(9, 0))
    assert speed_arguments(off) == {"optim": "adamw_torch", "tf32": None, "torch_compile": False}
    assert off.pad_to_multiple_of is None


def test_the_switches_reach_training_arguments(home: Path) -> None:
    from emosum_tui.trainer.trainer_setup import training_arguments

    write_preset(home, "compiled", 'extends = "demo"\n[train]\ncompile = "on"\ngroup_by_length = true\n')
    preset = load_preset("compiled")
    args = training_arguments(preset, "fp32", use_cpu=True, has_eval=False, headless=True)
    assert args.torch_compile and args.optim == "adamw_torch" and not args.tf32
    assert args.train_sampling_strategy == "group_by_length" and args.length_column_name == "length"
    plain = training_arguments(load_preset("demo"), "fp32", use_cpu=True, has_eval=False, headless=True)
    assert not plain.torch_compile  # auto on a CPU


def test_the_length_ladder_bounds_the_shapes() -> None:
    assert [bucket_length(n) for n in (1, 8, 9, 63, 64, 65, 100, 129, 300, 1000)] == [8, 8, 16, 64, 64, 80, 112, 160, 320, 1024]
    assert bucket_length(1000, limit=1000) == 1000 and bucket_length(130, limit=128) == 128
    assert len({bucket_length(n, limit=1024) for n in range(1, 1025)}) <= 30
    for n in range(1, 1025):
        assert n <= bucket_length(n) <= max(n + 7, n * 1.25)  # a multiple of 8 at least, 25% padding at most


def _features(lengths: list[tuple[int, int]]) -> list[dict[str, list[int]]]:
    return [{"input_ids": [5] * s, "attention_mask": [1] * s, "labels": [7] * t} for s, t in lengths]


def test_the_collator_counts_on_the_host_and_pads_a_compiled_run_to_the_ladder() -> None:
    import torch
    from transformers import DataCollatorForSeq2Seq

    class Pad:  # what DataCollatorForSeq2Seq needs of a tokenizer to pad input_ids (right side, id 0)
        padding_side = "right"
        pad_token_id = 0
        model_input_names = ("input_ids", "attention_mask")

        def pad(self, features: list[dict], **kwargs: object) -> dict:
            length = max(len(f["input_ids"]) for f in features)
            ids = torch.tensor([f["input_ids"] + [0] * (length - len(f["input_ids"])) for f in features])
            return {"input_ids": ids, "attention_mask": (ids != 0).long()}

    inner = DataCollatorForSeq2Seq(Pad(), label_pad_token_id=-100)
    features = _features([(3, 5), (65, 9)])
    plain = CountingCollator(inner, pad_token_id=0)(features)
    assert plain["emosum_batch_count"] == BatchCount(samples=2, tokens=3 + 5 + 65 + 9)
    assert plain["input_ids"].shape == (2, 65) and plain["labels"].shape == (2, 9)
    ladder = CountingCollator(inner, pad_token_id=0, bucket=True, max_source=128, max_target=128)(features)
    assert ladder["input_ids"].shape == (2, 80) and ladder["labels"].shape == (2, 16)
    assert ladder["emosum_batch_count"] == plain["emosum_batch_count"]  # padding is not a trained token
    assert int((ladder["labels"] != -100).sum()) == 14 and int(ladder["attention_mask"].sum()) == 68


def test_the_meter_reads_device_numbers_once_per_step() -> None:
    import torch

    meter = StepMeter()
    for _ in range(4):
        meter.add_batch({}, BatchCount(samples=2, tokens=30))
        meter.add_loss(torch.tensor(0.25))
    assert isinstance(meter._loss, torch.Tensor)  # summed where it lives: nothing read yet
    meter.set_grad_norm(torch.tensor(2.0))
    totals = meter.take()
    assert (totals.loss, totals.samples, totals.tokens, totals.micro_batches, totals.grad_norm) == (1.0, 8, 120, 4, 2.0)
    meter.add_batch({"input_ids": torch.ones(2, 3), "attention_mask": torch.ones(2, 3), "labels": torch.tensor([[1, -100]] * 2)})
    assert meter.take().tokens == 6 + 2  # a batch without a host count is summed on the device


def test_the_timer_runs_from_step_end_to_step_end_with_pauses_taken_out() -> None:
    now = [0.0]
    timer = StepTimer(clock=lambda: now[0])
    timer.start()
    now[0] = 3.0  # the loader
    timer.begin()
    now[0] = 5.0
    first = timer.lap()
    assert (first.step_seconds, first.compute_seconds, first.paused_seconds) == (5.0, 2.0, 0.0)
    with timer.pause("evaluation"):
        now[0] = 45.0
        with timer.pause("compile"):  # a compilation inside an evaluation counts once, as evaluation
            now[0] = 50.0
    timer.begin()
    timer.pause_begin("compile")
    now[0] = 80.0
    timer.pause_end()
    now[0] = 81.0
    second = timer.lap()
    assert second.step_seconds == pytest.approx(1.0) and second.compute_seconds == pytest.approx(1.0)
    assert second.paused_seconds == pytest.approx(75.0) and second.compile_seconds == pytest.approx(30.0)
    assert timer.totals == {"evaluation": 45.0, "checkpoint": 0.0, "compile": 30.0}


def test_the_length_column_is_the_longer_side() -> None:
    from datasets import Dataset

    data = Dataset.from_dict({"input_ids": [[1] * 3, [1] * 9], "labels": [[1] * 7, [1] * 2]})
    assert with_length_column(data)["length"] == [7, 9]


def _train(home: Path, preset: str, name: str) -> tuple[int, list]:
    from emosum_tui.trainer.run import run_training

    run_dir = home / "runs" / name
    code = run_training(load_preset(preset), run_dir, headless=True)
    return code, read_events(run_dir / EVENTS_FILE)


@pytest.mark.slow
def test_a_slow_loader_shows_in_s_per_step(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A real DataLoader whose collator takes 1.5 s more per batch from step 2: s/step says so."""
    write_preset(home, "loader", short_demo_toml(32))  # 4 steps of 8 rows
    monkeypatch.setenv("EMOSUM_FAULT", "slow-loader@2:1.5")
    code, events = _train(home, "loader", "slow-loader")
    assert code == 0
    steps = [e for e in events if isinstance(e, StepEnd)]
    waits = [e.step_seconds - (e.compute_seconds or 0.0) for e in steps]
    assert len(steps) == 4 and waits[0] < 1.0, waits
    assert all(wait >= 1.4 for wait in waits[1:3]), waits  # the loader's time is in s/step
    assert all(e.step_seconds >= 1.4 + (e.compute_seconds or 0.0) for e in steps[1:3])


@pytest.mark.slow
def test_a_compiled_demo_run_trains_to_the_end_on_a_cpu(home: Path) -> None:
    write_preset(home, "compiled", short_demo_toml(16, train={"batch_size": 8}).replace("[train]", '[train]\ncompile = "on"'))
    code, events = _train(home, "compiled", "compiled")
    assert code == 0
    plan = next(e for e in events if isinstance(e, TrainPlan))
    assert "compile on" in plan.speed and "lengths bucketed" in plan.speed
    phases = [e.name for e in events if isinstance(e, Phase)]
    assert "compiling" in phases and phases[phases.index("compiling") + 1] == "training"
    steps = [e for e in events if isinstance(e, StepEnd)]
    assert len(steps) == 2 and steps[0].paused_seconds > 0  # the compilation, out of the first step's s/step
    done = events[-1]
    assert isinstance(done, Done) and done.reason == "completed" and done.final_path
