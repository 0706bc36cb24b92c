"""GPU figures for `fast`, `full` and the user's `original` plan: s/step, tokens/s, MFU, estimate vs measured.

Needs a CUDA GPU (`--tiny` checks the plumbing on a CPU with a toy shape). No hub download:
each preset's mT5 is built from its published config (`KNOWN_SHAPES`) with random weights and
a separate LM head, as the google/mt5-* checkpoints have, and saved as a local model folder
with a SentencePiece tokenizer trained on the bundled sample (vocab 4,000: lengths near mT5's
own on this English text). A preset `gpu-NAME` (`extends = "NAME"`, `model.name` = that
folder) is then, side by side in one run:

  1. calibrated (`CalibrationJob`: real micro-batches of its shape on this GPU) and estimated;
  2. trained to the end by the real trainer, `emosum-tui train gpu-NAME --headless`, while NVML
     is read every 0.25 s by the console's own `monitor.nvml` (GPU use while steps run, memory)
     and psutil reads the trainer's CPU;
  3. compared: measured/predicted total time, s/step and disk; GPU memory used (NVML) vs the
     predicted peak; non-padding tokens/s (the trainer's StepEnd events); model FLOPs
     utilisation = the cost model's FLOPs per step / measured s/step, over the H100's dense
     bf16 peak (989 TFLOP/s) and over a bf16 8192^3 matmul measured here.

The bundled sample has 400 train rows, so runs are short (fast: 50 steps; full: 120; original
cut to 1 epoch, 50 steps); full and original evaluate loss only (see OVERRIDES); the step
shapes are the presets' own.

`--before-after` trains each preset twice: "before" with the speed switches off as they were
before they existed (no compile, no TF32, unfused AdamW; padding to 8 came with bf16), then
"after" with the defaults (compile with the length ladder, TF32, fused AdamW, padding to 8);
`--tune` then measures the preset's micro-batch sizes at the same effective batch
(`estimate --tune`'s probe) and trains the pick as "tuned". Only "after" is calibrated. Each
run reports s/step, non-padding tokens/s, MFU, GPU busy %, memory and compile time; the last
line is `RESULT ...`. One command for a GPU session:

    python bench/bench_gpu.py --before-after --tune --presets fast full --rows 200
    python bench/bench_gpu.py [--presets fast full original lean] [--tiny]
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_estimate import CalibrationJobRunner, DiskSampler, folder_bytes, private_home
from bench_throughput import merge

H100_BF16_DENSE = 989.4e12  # NVIDIA H100 SXM datasheet, dense bf16 tensor-core peak
TOKENIZER_VOCAB = 4000

TOKENIZER_PRESET = f"""
extends = "demo"
description = "bench_gpu: the bundled sample's SentencePiece at vocab {TOKENIZER_VOCAB}"
[model]
tokenizer_vocab_size = {TOKENIZER_VOCAB}
"""

# Per run: the preset it extends and what is changed so the run fits a lease (the step shape is
# never changed, except in `full-wide`: full's effective batch of 8 as 8 x 1 instead of 2 x 4,
# the doctor's advice when the GPU waits on the CPU's kernel launches).
BASES = {"fast": "fast", "full": "full", "original": "original", "full-wide": "full", "lean": "lean"}
BEFORE = '[train]\ncompile = "off"\ntf32 = false\nfused_optimizer = false\npad_to_multiple_of = 8\n'
OVERRIDES = {
    "fast": "",
    "lean": "[eval]\npredict_with_generate = false\n",
    # A generation eval of random weights never meets EOS: 100 rows x 512 new tokens, ~10 min
    # on its own (the estimate prices it so). Loss-only evaluation keeps the lease for training.
    "full": "[eval]\npredict_with_generate = false\n",
    "original": "[train]\nepochs = 1\n[eval]\npredict_with_generate = false\n",
    "full-wide": "[train]\nbatch_size = 8\ngrad_accum = 1\n[eval]\npredict_with_generate = false\n",
}


def build_model_folder(shape, spiece: Path, folder: Path) -> None:  # type: ignore[no-untyped-def]
    """A local model folder like a downloaded google/mt5-*: config.json, weights with a separate lm_head, tokenizer."""
    import torch
    from safetensors.torch import load_file, save_file
    from transformers import MT5Config, MT5ForConditionalGeneration, T5Tokenizer

    folder.mkdir(parents=True, exist_ok=True)
    tokenizer = T5Tokenizer.from_pretrained(str(spiece.parent), extra_ids=0)
    config = MT5Config(**shape.mt5_config_kwargs(), pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
                       decoder_start_token_id=tokenizer.pad_token_id)
    torch.manual_seed(0)
    with torch.device("cuda" if torch.cuda.is_available() else "cpu"):  # random init of 250,112 x d on the GPU: seconds
        model = MT5ForConditionalGeneration(config)
    model = model.to("cpu")
    model.config.tie_word_embeddings = False  # as the official config.json says
    model.save_pretrained(str(folder))
    # save_pretrained drops lm_head (MT5Config forces tying); the real checkpoints carry it, and
    # transformers keeps a separate head when the file has one. Write it back, different values.
    weights = folder / "model.safetensors"
    state = load_file(str(weights))
    state["lm_head.weight"] = (state["shared.weight"] * 0.5).contiguous()
    save_file(state, str(weights), metadata={"format": "pt"})
    tokenizer.save_pretrained(str(folder))
    shutil.copy(spiece, folder / "spiece.model")


def bf16_matmul_flops() -> float:
    """Measured bf16 8192^3 matmul rate on this GPU (random data, median of 10 after warm-up)."""
    import torch

    a = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
    b = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
    for _ in range(3):
        a @ b
    times = []
    for _ in range(10):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        a @ b
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end) / 1000)
    del a, b
    torch.cuda.empty_cache()
    return 2 * 8192**3 / statistics.median(times)


class GpuSampler(threading.Thread):
    """NVML through the console's own reader, every 0.25 s: utilisation and memory used."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        from emosum_tui.monitor.nvml import Nvml

        self.nvml = Nvml()
        self.util: list[tuple[float, float]] = []  # (time, util %): the training steps' window is cut out after
        self.memory: list[int] = []
        self.power: list[float] = []
        self.trainer_cpu: list[float] = []  # % of one core, the trainer process (set `pid`)
        self.pid: int | None = None
        self.stop = threading.Event()
        first = self.nvml.readings()
        self.baseline = first[0].memory_used if first and first[0].memory_used is not None else 0
        self.name = first[0].name if first else "no GPU seen by NVML"

    def run(self) -> None:
        import psutil

        process = None
        while not self.stop.is_set():
            if process is None and self.pid is not None:
                process = psutil.Process(self.pid)
                process.cpu_percent()
            elif process is not None:
                with contextlib.suppress(psutil.Error):  # the trainer has just exited
                    self.trainer_cpu.append(process.cpu_percent())
            for reading in self.nvml.readings()[:1]:
                if reading.util_percent is not None:
                    self.util.append((time.time(), reading.util_percent))
                if reading.memory_used is not None:
                    self.memory.append(reading.memory_used)
                if reading.power_w is not None:
                    self.power.append(reading.power_w)
            time.sleep(0.25)


def run_preset(home: Path, name: str, peak_measured: float | None, calibrate: bool = True) -> dict[str, float]:
    from emosum_tui.core import calibration as cal
    from emosum_tui.core.cost_model import estimate
    from emosum_tui.core.estimate_record import compare, measured, write_estimate
    from emosum_tui.core.events import EVENTS_FILE, Phase, StepBegin, StepEnd, read_events
    from emosum_tui.core.presets import load_preset

    preset = load_preset(name)
    device = cal.measure_device(use_cache=False)
    started = time.perf_counter()
    job = CalibrationJobRunner(preset).run() if calibrate else None
    calibration_s = time.perf_counter() - started
    predicted = estimate(preset, calibration=job, device=device)
    prior = estimate(preset, device=device)
    print(f"{name}: prior {prior.seconds_per_step:.3f} s/step ({device.matmul_flops / 1e12:.1f} TFLOP/s fp32 probe)"
          + (f", calibrated {predicted.seconds_per_step:.3f} s/step in {calibration_s:.0f} s on {job.device}" if job else ""))
    run_dir = home / "runs" / name
    write_estimate(run_dir, predicted)
    output = preset.output_dir
    shutil.rmtree(output, ignore_errors=True)
    disk, gpu = DiskSampler(output), GpuSampler()
    disk.start()
    gpu.start()
    wall = time.perf_counter()
    done = subprocess.Popen([sys.executable, "-m", "emosum_tui", "train", name, "--headless", "--run-dir", str(run_dir)],
                            env=dict(os.environ), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    gpu.pid = done.pid
    stderr = done.communicate()[1]
    wall = time.perf_counter() - wall
    for sampler in (disk, gpu):
        sampler.stop.set()
        sampler.join()
    if done.returncode != 0:
        raise SystemExit(f"{name} run failed:\n{stderr[-3000:]}")
    for row in compare(run_dir):
        print(f"  {row.figure:<20} predicted {row.predicted!s:>22}  measured {row.measured!s:>22}  ratio {row.ratio}")
    rows = {r.key: r for r in compare(run_dir)}
    got = measured(run_dir)
    events = read_events(run_dir / EVENTS_FILE)
    steps = [e for e in events if isinstance(e, StepEnd)][1:]  # the first step warms up
    begins = [e.t for e in events if isinstance(e, StepBegin)]
    # GPU use while optimizer steps run (not start-up, evaluation tail or the final save).
    busy = [u for t, u in gpu.util if begins and begins[0] <= t <= steps[-1].t]
    s_step = statistics.median(e.step_seconds for e in steps)
    tokens = statistics.median(e.tokens_per_second for e in steps)
    step_flops = preset["train.grad_accum"] * predicted.details["train_flops_per_micro_batch"]
    achieved = step_flops / s_step
    used = max(gpu.memory, default=0) - gpu.baseline
    phases = [e for e in events if isinstance(e, Phase)]
    compile_s = sum(b.t - a.t for a, b in itertools.pairwise(phases) if a.name == "compiling")
    final_disk = folder_bytes(output)
    print(f"  {got.steps_done} steps, median {s_step:.3f} s/step, {tokens:,.0f} non-padding tokens/s, "
          f"{step_flops / 1e12:.2f} TFLOP/step -> {achieved / 1e12:.1f} TFLOP/s = MFU {achieved / H100_BF16_DENSE:.1%} of 989, "
          f"compiling {compile_s:.0f} s"
          + (f", {achieved / peak_measured:.1%} of the measured bf16 matmul" if peak_measured else ""))
    print(f"  GPU ({gpu.name}): util while stepping median {statistics.median(busy) if busy else float('nan'):.0f}% "
          f"(max {max(busy, default=float('nan')):.0f}%, {len(busy)} readings), memory used {used / 2**30:.1f} GiB over idle vs predicted peak "
          f"{predicted.peak_memory_bytes / 2**30:.1f} GiB, power max {max(gpu.power, default=float('nan')):.0f} W; "
          f"trainer CPU median {statistics.median(gpu.trainer_cpu) if gpu.trainer_cpu else float('nan'):.0f}% of a core")
    print(f"  disk peak {disk.peak / 1e9:.2f} GB vs predicted {predicted.peak_disk_bytes / 1e9:.2f}; "
          f"final {final_disk / 1e9:.2f} GB vs {predicted.final_disk_bytes / 1e9:.2f}; process wall {wall:.1f} s")
    short = name.removeprefix("gpu-")
    figures = {
        f"{short}_s_step_abs": s_step,
        f"{short}_tokens_per_s_abs": tokens,
        f"{short}_mfu_pct": 100 * achieved / H100_BF16_DENSE,
        f"{short}_gpu_busy_pct": statistics.median(busy) if busy else float("nan"),
        f"{short}_memory_gib_abs": used / 2**30,
        f"{short}_compile_s_abs": compile_s,
        f"{short}_s_step": s_step / predicted.seconds_per_step,
        f"{short}_prior_s_step": s_step / prior.seconds_per_step,
        f"{short}_total": rows["total_seconds"].ratio or float("nan"),
        f"{short}_memory": used / predicted.peak_memory_bytes if used else float("nan"),
        f"{short}_peak_disk": disk.peak / predicted.peak_disk_bytes,
        f"{short}_final_disk": final_disk / predicted.final_disk_bytes,
    }
    (home / f"{short}.json").write_text(json.dumps({"figures": figures, "estimate": predicted.as_dict()}, indent=1), encoding="utf-8")
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--presets", nargs="+", default=["fast", "full", "original"], choices=sorted(OVERRIDES))
    parser.add_argument("--tiny", action="store_true", help="a toy shape instead of mt5-small/base: checks the plumbing on a CPU")
    parser.add_argument("--keep", type=Path, help="copy each preset's figures and estimate (JSON) here")
    parser.add_argument("--before-after", action="store_true", help="train each preset with the speed switches off, then on")
    parser.add_argument("--tune", action="store_true", help="then measure its micro-batch sizes and train the fastest that fits")
    parser.add_argument("--rows", type=int, default=0, help="training rows per run (0 = every row of the sample)")
    args = parser.parse_args()
    import torch

    if not torch.cuda.is_available() and not args.tiny:
        raise SystemExit("bench_gpu needs a CUDA GPU (torch.cuda.is_available() is False); --tiny checks the plumbing on a CPU")
    from emosum_tui.core.model_shapes import KNOWN_SHAPES, ModelShape, shape_for
    from emosum_tui.core.presets import load_preset
    from emosum_tui.core.tokenizer_files import find_spiece

    peak = bf16_matmul_flops() if torch.cuda.is_available() else None
    if peak:
        print(f"bf16 8192^3 matmul on {torch.cuda.get_device_name(0)}: {peak / 1e12:.0f} TFLOP/s")
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="bench-gpu-") as tmp:
        home = private_home(Path(tmp))
        (home / "presets" / "gpu-tokenizer.toml").write_text(TOKENIZER_PRESET, encoding="utf-8")
        spiece = find_spiece(load_preset("gpu-tokenizer"), build=True)
        assert spiece is not None
        folders: dict[str, Path] = {}
        for name in args.presets:
            shape, _ = shape_for(load_preset(BASES[name]))
            if args.tiny:
                shape = ModelShape(64, 128, 16, 2, 2, 4, 8000, name="tiny")
            assert shape.name in KNOWN_SHAPES or args.tiny
            if shape.key() not in folders:
                folder = home / "models" / shape.key()
                started = time.perf_counter()
                build_model_folder(shape, spiece, folder)
                print(f"built {shape.name} as {folder.name} in {time.perf_counter() - started:.0f} s "
                      f"({folder_bytes(folder) / 1e9:.2f} GB)")
                folders[shape.key()] = folder
            text = merge(f'extends = "{BASES[name]}"\n[model]\nname = {json.dumps(str(folders[shape.key()]))}\n',
                         OVERRIDES[name], f"[data]\ntrain_samples = {args.rows}\n" if args.rows else "")
            if args.before_after:
                (home / "presets" / f"gpu-{name}-before.toml").write_text(merge(text, BEFORE), encoding="utf-8")
                figures.update(run_preset(home, f"gpu-{name}-before", peak, calibrate=False))
            (home / "presets" / f"gpu-{name}.toml").write_text(text, encoding="utf-8")
            figures.update(run_preset(home, f"gpu-{name}", peak))
            if args.tune:
                figures.update(tune_and_run(home, name, text, peak))
            if args.keep:
                args.keep.mkdir(parents=True, exist_ok=True)
                shutil.copy(home / f"{name}.json", args.keep / f"{name}.json")
    parts = [f"{k.removesuffix('_abs')} {v:,.3g}" if k.endswith("_abs") else f"{k} {v:.1f}%" if k.endswith("_pct") else f"{k} x{v:.3f}"
             for k, v in figures.items()]
    where = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"
    print(f"GPU figures ({where}; ratios measured/predicted): " + " | ".join(parts))
    if args.before_after or args.tune:
        print_side_by_side(args.presets, figures, where)
    return 0


def tune_and_run(home: Path, name: str, text: str, peak: float | None) -> dict[str, float]:
    """`estimate --tune`'s measurement of gpu-NAME, then a run of the pick (or the preset's own)."""
    from emosum_tui.core.presets import load_preset
    from emosum_tui.core.tuning import tune

    started = time.perf_counter()
    result = tune(load_preset(f"gpu-{name}"))
    print(f"gpu-{name} tuned in {time.perf_counter() - started:.0f} s: {result.verdict}")
    for c in result.candidates:
        print(f"  {c.batch_size} x {c.grad_accum}: {c.step_seconds or float('nan'):.3f} s/step, "
              f"{c.tokens_per_second or 0:,.0f} tokens/s, peak {c.peak_memory_bytes / 2**30:.1f} GiB, fits {c.fits} {c.error or ''}")
    pick = result.pick
    changes = f"[train]\nbatch_size = {pick.batch_size}\ngrad_accum = {pick.grad_accum}\n" if pick else ""
    (home / "presets" / f"gpu-{name}-tuned.toml").write_text(merge(text, changes), encoding="utf-8")
    return run_preset(home, f"gpu-{name}-tuned", peak, calibrate=False)


def print_side_by_side(presets: list[str], figures: dict[str, float], where: str) -> None:
    """tokens/s, s/step, MFU, GPU busy, memory and compile time per variant; then the RESULT line."""
    variants = [v for v in ("before", "", "tuned") if any(f"{p}{'-' + v if v else ''}_tokens_per_s_abs" in figures for p in presets)]
    print(f"\n{'run':<16}{'tokens/s':>12}{'s/step':>9}{'MFU':>7}{'GPU busy':>10}{'memory':>10}{'compile':>9}")
    parts = []
    for preset in presets:
        for variant in variants:
            key = f"{preset}-{variant}" if variant else preset
            if f"{key}_tokens_per_s_abs" not in figures:
                continue
            f = {k.removeprefix(key + "_"): v for k, v in figures.items() if k.startswith(key + "_")}
            print(f"{key:<16}{f['tokens_per_s_abs']:>12,.0f}{f['s_step_abs']:>9.3f}{f['mfu_pct']:>6.1f}%{f['gpu_busy_pct']:>9.0f}%"
                  f"{f['memory_gib_abs']:>7.1f} GiB{f['compile_s_abs']:>8.0f} s")
            parts.append(f"{key} {f['tokens_per_s_abs']:,.0f} tok/s MFU {f['mfu_pct']:.1f}%")
        before, after = figures.get(f"{preset}-before_tokens_per_s_abs"), figures.get(f"{preset}_tokens_per_s_abs")
        best = figures.get(f"{preset}-tuned_tokens_per_s_abs", after)
        if before and best:
            parts.append(f"{preset} best/before x{best / before:.2f}")
    print(f"RESULT bench_gpu ({where}): " + " | ".join(parts))


if __name__ == "__main__":
    sys.exit(main())
