"""Calibration: a few real training micro-batches of a preset's exact shape on this machine.

Run as `python -m emosum_tui.probe.calibrate SPEC.json CACHE_DIR` (the launcher is
`emosum_tui.core.calibration.CalibrationJob`). The model is an mT5 built from the preset's
config with random weights: the same speed as the pretrained weights, with no download, so
it works offline even for mt5-base. Batches have the preset's batch size and the data's real
lengths, padded to the longest row as DataCollatorForSeq2Seq pads them. Warm-up is excluded;
the optimizer update (clip, step, schedule, zero grad) is timed apart from the micro-batches,
so a step with any grad-accum is `grad_accum x micro-batch + update`.
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path
from typing import Any

from emosum_tui.core.calibration import CalibrationSpec
from emosum_tui.core.model_flops import forward_flops, param_count, train_flops
from emosum_tui.core.model_shapes import ModelShape
from emosum_tui.probe import emit

LARGE = 20_000_000  # parameters above which the model is built without random initialisation


def build_model(shape: ModelShape, checkpointing: bool) -> Any:
    """A config-built MT5 with random weights (LM head untied like the real checkpoints)."""
    import contextlib

    import torch
    from transformers import MT5Config, MT5ForConditionalGeneration

    # MT5Config ties the LM head and both embeddings to `shared` in transformers 5. The
    # google/mt5-* checkpoints hold a separate lm_head (kept when loaded): untie that one only.
    config = MT5Config(**shape.mt5_config_kwargs())
    large = param_count(shape) >= LARGE
    # Random initialisation of 250,112 x d matrices takes longer than the measurement, and a
    # matmul's speed does not depend on the values: a large model is filled with a constant.
    with torch.device("meta") if large else contextlib.nullcontext():
        model = MT5ForConditionalGeneration(config)
        if not shape.tied_lm_head:
            model.lm_head.weight = torch.nn.Parameter(model.shared.weight.detach().clone())
    if large:
        model = model.to_empty(device="cpu")
        model.set_input_embeddings(model.shared)  # to_empty copies each module's tensor: tie them again
        with torch.no_grad():
            for parameter in model.parameters():
                parameter.fill_(0.01)
    if checkpointing:
        model.gradient_checkpointing_enable()
        model.config.use_cache = False
    return model


def make_batch(rows: list[tuple[int, int]], vocab: int, rng: random.Random, device: Any) -> tuple[dict[str, Any], int, int]:
    """Random token ids with these lengths, padded to the longest row (labels padded with -100)."""
    import torch

    source = max(r[0] for r in rows)
    target = max(r[1] for r in rows)
    ids = torch.zeros(len(rows), source, dtype=torch.long)
    mask = torch.zeros(len(rows), source, dtype=torch.long)
    labels = torch.full((len(rows), target), -100, dtype=torch.long)
    for i, (s, t) in enumerate(rows):
        ids[i, :s] = torch.tensor([rng.randrange(3, vocab) for _ in range(s)])
        mask[i, :s] = 1
        labels[i, :t] = torch.tensor([rng.randrange(3, vocab) for _ in range(t)])
    batch = {"input_ids": ids.to(device), "attention_mask": mask.to(device), "labels": labels.to(device)}
    return batch, source, target


def make_optimizer(model: Any, spec: CalibrationSpec) -> Any:
    """The optimizer our trainer asks the Trainer for: `adamw_torch` (torch AdamW) or Adafactor."""
    import torch

    if spec.optimizer == "adafactor":
        from transformers.optimization import Adafactor

        return Adafactor(model.parameters(), lr=spec.learning_rate, scale_parameter=False, relative_step=False, warmup_init=False)
    return torch.optim.AdamW(model.parameters(), lr=spec.learning_rate)


def run(spec: CalibrationSpec, disk_dir: Path) -> dict[str, Any]:
    emit("progress", what="importing torch")
    import contextlib

    import torch

    shape = ModelShape(**spec.shape)
    cuda = torch.cuda.is_available()
    device = torch.device("cuda" if cuda else "cpu")
    name = torch.cuda.get_device_name(0) if cuda else f"cpu ({torch.get_num_threads()} threads)"
    precision = spec.precision
    if precision == "auto":
        precision = "bf16" if cuda and torch.cuda.is_bf16_supported() else "fp32"
    half = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)

    def autocast() -> Any:
        return torch.autocast(device.type, dtype=half) if half is not None else contextlib.nullcontext()

    def sync() -> None:
        if cuda:
            torch.cuda.synchronize()

    torch.manual_seed(spec.seed)
    model = build_model(shape, spec.gradient_checkpointing).to(device)
    model.train()
    optimizer = make_optimizer(model, spec)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    emit("progress", what="model built")

    rng = random.Random(spec.seed)
    total = spec.warmup + spec.micro_batches

    def micro_batch(rows: list[tuple[int, int]] | None = None) -> tuple[float, float]:
        rows = rows or [rng.choice(spec.rows) for _ in range(spec.batch_size)]
        batch, source, target = make_batch(rows, shape.vocab_size, rng, device)
        sync()
        start = time.perf_counter()
        with autocast():
            loss = model(**batch).loss
        loss.backward()
        sync()
        return time.perf_counter() - start, train_flops(shape, len(rows), source, target, spec.gradient_checkpointing)

    def update() -> float:
        sync()
        start = time.perf_counter()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad()
        sync()
        return time.perf_counter() - start

    # Warm up on the longest rows: the largest buffers are allocated first and every later, smaller
    # shape reuses them (on a GPU, torch's caching allocator would otherwise grow inside the timed
    # batches, which the Trainer pays once and not every step).
    longest = sorted(spec.rows, key=sum)[-spec.batch_size:]
    first, first_flops = 0.0, 0.0
    for i in range(spec.warmup):
        seconds, flops_done = micro_batch(longest)
        first, first_flops = first + seconds, first_flops + flops_done
        emit("progress", what="micro-batch", done=i + 1, total=total)
    if spec.warmup:
        first += update()  # the first update allocates the optimizer state: warm-up, not measured
    per_flop: list[float] = []
    flops = 0.0
    budget_end = time.perf_counter() + spec.budget_seconds
    for i in range(spec.micro_batches):
        s, f = micro_batch()
        per_flop.append(s / f)
        flops += f
        emit("progress", what="micro-batch", done=spec.warmup + i + 1, total=total)
        if time.perf_counter() > budget_end:
            break  # a slow shape: fewer samples rather than a probe nobody waits for
    update_seconds = update()
    emit("progress", what="optimizer update", done=total, total=total)
    measured = len(per_flop)
    micro_flops = flops / measured
    # The fastest batch per FLOP, priced at the mean FLOPs: other processes on the same cores
    # only ever slow a batch down, so the best one is this machine's own speed (as timeit does).
    micro = min(per_flop) * micro_flops
    quick = time.perf_counter() > budget_end

    model.eval()
    eval_rows = spec.eval_rows or spec.rows

    def eval_batch(rows: list[tuple[int, int]]) -> tuple[float, float]:
        batch, source, target = make_batch(rows, shape.vocab_size, rng, device)
        sync()
        start = time.perf_counter()
        with autocast():
            model(**batch)
        sync()
        return time.perf_counter() - start, forward_flops(shape, len(rows), source, target)

    with torch.no_grad():
        eval_batch(sorted(eval_rows, key=sum)[-spec.eval_batch_size:])  # warm-up: eval mode, no grad, the largest shape
        timed = [eval_batch([rng.choice(eval_rows) for _ in range(spec.eval_batch_size)]) for _ in range(1 if quick else 2)]
        eval_seconds, eval_flops = min(timed, key=lambda t: t[0] / t[1])  # the fastest per FLOP, with its own FLOPs
        emit("progress", what="eval batch", done=1, total=1)
        decode = fixed = 0.0
        if spec.generate_tokens:
            batch, _, _ = make_batch([rng.choice(eval_rows) for _ in range(spec.eval_batch_size)], shape.vocab_size, rng, device)
            inputs = {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"]}

            def generate(tokens: int) -> float:
                sync()
                start = time.perf_counter()
                with autocast():
                    model.generate(**inputs, max_new_tokens=tokens, min_new_tokens=tokens, num_beams=spec.num_beams, do_sample=False)
                sync()
                return time.perf_counter() - start

            generate(2)  # warm-up
            fixed = generate(1)
            longer = generate(1 + spec.generate_tokens)
            decode = max(longer - fixed, 0.0) / spec.generate_tokens
            emit("progress", what="generate", done=1, total=1)

    from emosum_tui.probe.matmul import disk_write_bps

    return {
        "device": name,
        "micro_batch_seconds": micro,
        "micro_flops": micro_flops,
        "update_seconds": update_seconds,
        "step_seconds": spec.grad_accum * micro + update_seconds,
        "eval_batch_seconds": eval_seconds,
        "eval_flops": eval_flops,
        "decode_token_seconds": decode,
        "generate_fixed_seconds": fixed,
        "startup_seconds": 0.0,
        "disk_bps": disk_write_bps(disk_dir, megabytes=32),
        "micro_batches": measured,
        # What the first step costs beyond a steady one (allocation, lazy init): paid once per run.
        "warmup_seconds": max(first - first_flops * min(per_flop) - (update_seconds if spec.warmup else 0.0), 0.0),
    }


def main(argv: list[str]) -> int:
    try:
        body = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
        body["rows"] = [tuple(r) for r in body["rows"]]
        body["eval_rows"] = [tuple(r) for r in body["eval_rows"]]
        spec = CalibrationSpec(**body)
        emit("result", **run(spec, Path(argv[1]) if len(argv) > 1 else Path(".")))
    except Exception as exc:  # reported to the launcher as a value
        emit("error", message=f"{type(exc).__name__}: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
