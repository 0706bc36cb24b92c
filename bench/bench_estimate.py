"""Predicted vs measured, side by side in one run on this machine.

1. demo: the throughput prior and a calibration, an estimate kept in the run dir, then the
   trainer's own `emosum-tui train demo --headless`; total time, s/step, checkpoint bytes,
   final model bytes, peak disk (sampled while it runs) and final disk, as ratios.
2. mid: the same, end to end, for a mid-size config written here (`extends = "demo"`, a
   config-built mT5 of d_model 256, 4+4 layers, 256/256 tokens: ~2 s/step on 2 CPU cores, 36
   steps with two evaluations and checkpoints of ~100 MB). It stands in for `fast`, whose
   mt5-small weights cannot be downloaded here and which takes hours on a CPU.
3. fast (mt5-small shape, 128/128, batch 4 x 2): how long calibration takes, and its s/step
   next to real Seq2SeqTrainer optimizer steps of that shape (config-built mt5-small, random
   weights, rows with the data's token lengths).

    .venv/bin/python bench/bench_estimate.py [--skip-mid] [--skip-fast] [--real-steps 3]

The last line prints the figures as measured/predicted ratios (1.00 = exact). Run it on a
quiet machine: other processes on the same cores make any timing meaningless (`*_best`
ratios use the fastest real step, the one least disturbed by them).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[1]

MID = """
extends = "demo"
description = "bench_estimate: a mid-size config-built mT5, about 2 s/step on 2 CPU cores"
[model]
name = "bench-mid-mt5"
config = { d_model = 256, d_ff = 1024, d_kv = 32, num_layers = 4, num_decoder_layers = 4, num_heads = 8 }
[data]
train_samples = 96
validation_samples = 16
[train]
epochs = 3
batch_size = 8
grad_accum = 1
max_source_tokens = 256
max_target_tokens = 256
[eval]
strategy = "steps"
steps = 18
[save]
logging_steps = 3
steps = 18
checkpoints_kept = 1
"""


def private_home(tmp: Path) -> Path:
    """A project home of our own under `tmp` (the checkout's presets and data, its own caches, the
    hub switched off), so a bench never writes into the checkout or reads another run's caches."""
    home = tmp / "home"
    (home / "presets").mkdir(parents=True)  # the built-ins come from the package
    shutil.copytree(CHECKOUT / "emosum_tui" / "builtin" / "data", home / "data")
    os.environ.update(EMOSUM_HOME=str(home), EMOSUM_CACHE=str(home / ".cache"), HF_HUB_OFFLINE="1",
                      HF_HUB_CACHE=str(home / "no-hf-cache"))
    return home


def folder_bytes(path: Path) -> int:
    total = 0
    for item in path.rglob("*"):
        try:
            if item.is_file():
                total += item.stat().st_size
        except OSError:
            pass  # a file removed while we looked (checkpoint rotation)
    return total


class DiskSampler(threading.Thread):
    """The output folder's size every 5 ms: the peak disk a run reached (a short-lived peak can be missed)."""

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        self.path = path
        self.peak = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            if self.path.exists():
                self.peak = max(self.peak, folder_bytes(self.path))
            time.sleep(0.005)


def bench_run(home: Path, name: str) -> dict[str, float]:
    """Calibrate preset `name`, keep its estimate, run it to the end, and compare."""
    from emosum_tui.core import calibration as cal
    from emosum_tui.core.cost_model import estimate
    from emosum_tui.core.estimate_record import compare, write_estimate
    from emosum_tui.core.presets import load_preset

    preset = load_preset(name)
    device = cal.measure_device()
    print(f"device prior: {device}")
    started = time.perf_counter()
    job = CalibrationJobRunner(preset).run()
    print(f"{name} calibration: {time.perf_counter() - started:.1f} s -> {job}")
    predicted = estimate(preset, calibration=job, device=device)
    prior = estimate(preset, device=device)
    run_dir = home / "runs" / f"bench-{name}"
    write_estimate(run_dir, predicted)
    output = preset.output_dir
    shutil.rmtree(output, ignore_errors=True)
    sampler = DiskSampler(output)
    sampler.start()
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    wall = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "emosum_tui", "train", name, "--headless", "--run-dir", str(run_dir)],
                          env=env, capture_output=True, text=True)
    wall = time.perf_counter() - wall
    sampler.stop.set()
    sampler.join()
    if done.returncode != 0:
        raise SystemExit(f"{name} run failed:\n{done.stderr[-3000:]}")
    rows = {r.key: r for r in compare(run_dir)}
    for row in rows.values():
        print(f"  {row.figure:<20} predicted {row.predicted!s:>22}  measured {row.measured!s:>22}  ratio {row.ratio}")
    final_disk = folder_bytes(output)
    print(f"  {'peak disk':<20} predicted {predicted.peak_disk_bytes:>22}  measured {sampler.peak:>22}")
    print(f"  {'final disk':<20} predicted {predicted.final_disk_bytes:>22}  measured {final_disk:>22}")
    print(f"  total (process wall incl. interpreter start) {wall:.1f} s; prior-only estimate {prior.total_seconds:.1f} s")
    from emosum_tui.core.estimate_record import measured

    fastest = min(measured(run_dir).step_seconds)
    return {
        f"{name}_total": rows["total_seconds"].ratio or float("nan"),
        f"{name}_s_step": rows["seconds_per_step"].ratio or float("nan"),
        f"{name}_s_step_best": fastest / predicted.seconds_per_step,  # least disturbed by other processes
        f"{name}_prior_total": (rows["total_seconds"].measured or float("nan")) / prior.total_seconds,
        f"{name}_ckpt": rows["checkpoint_bytes"].ratio or float("nan"),
        f"{name}_final_model": rows["final_model_bytes"].ratio or float("nan"),
        f"{name}_peak_disk": sampler.peak / predicted.peak_disk_bytes,
        f"{name}_final_disk": final_disk / predicted.final_disk_bytes,
    }


class CalibrationJobRunner:
    """Run a CalibrationJob to the end (no cache), printing its progress."""

    def __init__(self, preset: object) -> None:
        from emosum_tui.core.calibration import CalibrationJob

        self.job = CalibrationJob(preset, use_cache=False, on_progress=lambda p: print(f"    … {p.what} {p.done}/{p.total}"))

    def run(self):  # type: ignore[no-untyped-def]
        result = self.job.start().wait()
        if result is None:
            raise SystemExit(f"calibration failed: {self.job.error}")
        return result


def real_fast_steps(steps: int) -> list[float]:
    """Seconds of real Seq2SeqTrainer optimizer steps at the fast preset's exact shape."""
    import random

    from datasets import Dataset
    from transformers import DataCollatorForSeq2Seq, Seq2SeqTrainer, Seq2SeqTrainingArguments, TrainerCallback

    from emosum_tui.core.model_shapes import shape_for
    from emosum_tui.core.presets import load_preset
    from emosum_tui.core.token_stats import TokenLengths
    from emosum_tui.probe.calibrate import build_model

    preset = load_preset("fast")
    shape, _ = shape_for(preset)
    lengths = TokenLengths.for_preset(preset)
    rng = random.Random(0)
    rows = [rng.choice(lengths.train) for _ in range(8 * (steps + 1))]
    data = Dataset.from_dict({
        "input_ids": [[rng.randrange(3, shape.vocab_size) for _ in range(s - 1)] + [1] for s, _ in rows],
        "labels": [[rng.randrange(3, shape.vocab_size) for _ in range(t - 1)] + [1] for _, t in rows],
    })
    times: list[float] = []

    class Clock(TrainerCallback):
        def on_step_begin(self, args, state, control, **kwargs):  # type: ignore[no-untyped-def]
            self.start = time.perf_counter()

        def on_step_end(self, args, state, control, **kwargs):  # type: ignore[no-untyped-def]
            times.append(time.perf_counter() - self.start)
            print(f"    real step {len(times)}: {times[-1]:.2f} s")

    class Pad:
        """The minimum a DataCollatorForSeq2Seq needs of a tokenizer: padding ids."""

        pad_token_id = 0
        padding_side = "right"

        def pad(self, features, **kwargs):  # type: ignore[no-untyped-def]
            import torch

            width = max(len(f["input_ids"]) for f in features)
            ids = torch.zeros(len(features), width, dtype=torch.long)
            mask = torch.zeros(len(features), width, dtype=torch.long)
            for i, f in enumerate(features):
                ids[i, : len(f["input_ids"])] = torch.tensor(f["input_ids"])
                mask[i, : len(f["input_ids"])] = 1
            out = {"input_ids": ids, "attention_mask": mask}
            if "labels" in features[0]:
                out["labels"] = torch.stack([torch.tensor(f["labels"]) for f in features])
            return out

    model = build_model(shape, checkpointing=False)
    with tempfile.TemporaryDirectory() as out:
        args = Seq2SeqTrainingArguments(
            output_dir=out, per_device_train_batch_size=preset["train.batch_size"], gradient_accumulation_steps=preset["train.grad_accum"],
            max_steps=steps + 1, learning_rate=preset["train.learning_rate"], optim="adamw_torch", use_cpu=True, report_to=[],
            save_strategy="no", eval_strategy="no", disable_tqdm=True, logging_steps=1000,
        )
        collator = DataCollatorForSeq2Seq(Pad(), model=model, label_pad_token_id=-100)  # type: ignore[arg-type]
        Seq2SeqTrainer(model=model, args=args, train_dataset=data, data_collator=collator, callbacks=[Clock()]).train()
    return times[1:]  # the first step warms up, as the calibration's does


def bench_fast() -> dict[str, float]:
    from emosum_tui.core.cost_model import estimate
    from emosum_tui.core.presets import load_preset

    preset = load_preset("fast")
    started = time.perf_counter()
    result = CalibrationJobRunner(preset).run()
    took = time.perf_counter() - started
    predicted = estimate(preset, calibration=result).seconds_per_step
    print(f"fast calibration: {took:.1f} s, {result.micro_batch_seconds:.2f} s/micro-batch, {predicted:.2f} s/step predicted")
    real = real_fast_steps(int(os.environ.get("BENCH_REAL_STEPS", "3")))
    measured = statistics.median(real)
    print(f"fast real steps: {[round(t, 2) for t in real]} -> median {measured:.2f} s/step")
    return {"fast_calibration_s": took, "fast_s_step": measured / predicted, "fast_s_step_best": min(real) / predicted}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skip-mid", action="store_true", help="no mid-size run")
    parser.add_argument("--skip-fast", action="store_true", help="no fast-shape calibration vs real steps")
    parser.add_argument("--real-steps", type=int, default=3, help="real fast-shape optimizer steps to time (after one warm-up)")
    args = parser.parse_args()
    os.environ["BENCH_REAL_STEPS"] = str(args.real_steps)
    with tempfile.TemporaryDirectory(prefix="bench-estimate-") as tmp:
        home = private_home(Path(tmp))
        (home / "presets" / "bench-mid.toml").write_text(MID, encoding="utf-8")
        figures = bench_run(home, "demo")
        if not args.skip_mid:
            figures.update(bench_run(home, "bench-mid"))
        if not args.skip_fast:
            figures.update(bench_fast())
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    parts = [f"{k} {v:.1f} s" if k.endswith("_s") else f"{k} x{v:.3f}" for k, v in figures.items()]
    print(f"measured/predicted ({os.cpu_count()} cores, load {load:.1f}): " + " | ".join(parts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
