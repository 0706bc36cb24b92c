"""Calibration: a few real training micro-batches of a preset's exact shape on this machine.

Run as `python -m emosum_tui.probe.calibrate SPEC.json CACHE_DIR` (the launcher is
`emosum_tui.core.calibration.CalibrationJob`). The model is an mT5 built from the preset's
config with random weights: the same speed as the pretrained weights, with no download, so
it works offline even for mt5-base. Batches have the preset's batch size and the data's real
lengths, padded to the longest row as DataCollatorForSeq2Seq pads them. Warm-up is excluded;
the optimizer update (clip, step, schedule, zero grad) is timed apart from the micro-batches,
so a step with any grad-accum is `grad_accum x micro-batch + update`. The preset's speed switches
apply as the trainer applies them (compile with the length ladder, TF32, fused AdamW, padding
multiple), and the peak memory of the training steps is reported (what `estimate --tune` fits).
"""

from __future__ import annotations

import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emosum_tui.core.calibration import CalibrationSpec
from emosum_tui.core.model_flops import forward_flops, param_count, train_flops
from emosum_tui.core.model_shapes import ModelShape
from emosum_tui.probe import emit, report

LARGE = 20_000_000  # parameters above which the model is built without random initialisation
# Token ids 0-2 are mT5's pad, EOS and UNK: random rows draw from the rest.
FIRST_ORDINARY_TOKEN = 3
LABEL_PAD = -100  # what DataCollatorForSeq2Seq pads labels with (ignored by the loss)
GRAD_CLIP = 1.0  # the Trainer's default max_grad_norm
DISK_PROBE_MEGABYTES = 32


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


def padded(length: int, multiple: int | None, bucket: bool) -> int:
    """A batch's padded length as the trainer's collator makes it."""
    from emosum_tui.trainer.batching import bucket_length

    if bucket:
        return bucket_length(length, None, multiple or 8)
    return -(-length // multiple) * multiple if multiple else length


def make_batch(rows: list[tuple[int, int]], vocab: int, rng: random.Random, device: Any, multiple: int | None = None,
               bucket: bool = False) -> tuple[dict[str, Any], int, int]:
    """Random token ids with these lengths, padded to the longest row (labels padded with -100)."""
    import torch

    source = padded(max(r[0] for r in rows), multiple, bucket)
    target = padded(max(r[1] for r in rows), multiple, bucket)
    ids = torch.zeros(len(rows), source, dtype=torch.long)
    mask = torch.zeros(len(rows), source, dtype=torch.long)
    labels = torch.full((len(rows), target), LABEL_PAD, dtype=torch.long)
    for i, (s, t) in enumerate(rows):
        ids[i, :s] = torch.tensor([rng.randrange(FIRST_ORDINARY_TOKEN, vocab) for _ in range(s)])
        mask[i, :s] = 1
        labels[i, :t] = torch.tensor([rng.randrange(FIRST_ORDINARY_TOKEN, vocab) for _ in range(t)])
    batch = {"input_ids": ids.to(device), "attention_mask": mask.to(device), "labels": labels.to(device)}
    return batch, source, target


def make_optimizer(model: Any, spec: CalibrationSpec, fused: bool = False) -> Any:
    """The optimizer our trainer asks the Trainer for: `adamw_torch` (torch AdamW) or Adafactor."""
    import torch

    if spec.optimizer == "adafactor":
        from transformers.optimization import Adafactor

        return Adafactor(model.parameters(), lr=spec.learning_rate, scale_parameter=False, relative_step=False, warmup_init=False)
    return torch.optim.AdamW(model.parameters(), lr=spec.learning_rate, fused=fused or None)


class Bench:
    """The model, its optimizer and the device, with each timed operation as a method.

    Every timing is synchronised with the GPU on both sides, so it measures the work and not
    the launch. One seeded `rng` draws all batches, so a probe of a spec is repeatable.
    """

    def __init__(self, spec: CalibrationSpec) -> None:
        import torch

        self.spec = spec
        self.shape = ModelShape(**spec.shape)
        self.cuda = torch.cuda.is_available()
        self.device = torch.device("cuda" if self.cuda else "cpu")
        self.name = torch.cuda.get_device_name(0) if self.cuda else f"cpu ({torch.get_num_threads()} threads)"
        precision = spec.precision
        if precision == "auto":
            precision = "bf16" if self.cuda and torch.cuda.is_bf16_supported() else "fp32"
        self.half = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)
        torch.manual_seed(spec.seed)
        self.model = build_model(self.shape, spec.gradient_checkpointing).to(self.device)
        self.model.train()
        self.compiled = spec.compile == "on" or (spec.compile == "auto" and self.cuda)
        self.forward = torch.compile(self.model) if self.compiled else self.model
        if self.cuda and spec.tf32 and torch.cuda.get_device_capability(0) >= (8, 0):
            torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
        self.pad_multiple = spec.pad_to_multiple_of or (8 if self.cuda else None)
        self.optimizer = make_optimizer(self.model, spec, fused=self.cuda and spec.fused_optimizer)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, lambda step: 1.0)
        self.rng = random.Random(spec.seed)

    def autocast(self) -> Any:
        import contextlib

        import torch

        return torch.autocast(self.device.type, dtype=self.half) if self.half is not None else contextlib.nullcontext()

    def sync(self) -> None:
        if self.cuda:
            import torch

            torch.cuda.synchronize()

    def batch(self, rows: list[tuple[int, int]]) -> tuple[dict[str, Any], int, int]:
        return make_batch(rows, self.shape.vocab_size, self.rng, self.device, self.pad_multiple, self.compiled)

    def draw(self, rows: list[tuple[int, int]], size: int) -> list[tuple[int, int]]:
        return [self.rng.choice(rows) for _ in range(size)]

    def micro_batch(self, rows: list[tuple[int, int]] | None = None) -> tuple[float, float]:
        """(seconds, FLOPs) of one forward + backward, on `rows` or on a batch drawn from the spec's rows."""
        rows = rows or self.draw(self.spec.rows, self.spec.batch_size)
        batch, source, target = self.batch(rows)
        self.sync()
        start = time.perf_counter()
        with self.autocast():
            loss = self.forward(**batch).loss
        loss.backward()
        self.sync()
        return time.perf_counter() - start, train_flops(self.shape, len(rows), source, target, self.spec.gradient_checkpointing)

    def update(self) -> float:
        """Seconds of the optimizer update as the Trainer runs it: clip, step, schedule, zero grad."""
        import torch

        self.sync()
        start = time.perf_counter()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), GRAD_CLIP)
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad()
        self.sync()
        return time.perf_counter() - start

    def eval_batch(self, rows: list[tuple[int, int]]) -> tuple[float, float]:
        """(seconds, FLOPs) of one loss forward (call under no_grad, in eval mode)."""
        batch, source, target = self.batch(rows)
        self.sync()
        start = time.perf_counter()
        with self.autocast():
            self.model(**batch)
        self.sync()
        return time.perf_counter() - start, forward_flops(self.shape, len(rows), source, target)

    def generate(self, inputs: dict[str, Any], tokens: int) -> float:
        """Seconds of one `generate` call producing exactly `tokens` new tokens."""
        self.sync()
        start = time.perf_counter()
        with self.autocast():
            self.model.generate(**inputs, max_new_tokens=tokens, min_new_tokens=tokens, num_beams=self.spec.num_beams, do_sample=False)
        self.sync()
        return time.perf_counter() - start


@dataclass(frozen=True)
class TrainingTimes:
    micro_seconds: float  # the fastest micro-batch per FLOP, priced at the mean FLOPs
    micro_flops: float
    update_seconds: float
    micro_batches: int  # timed (the budget may stop before spec.micro_batches)
    warmup_extra: float  # what the first step cost beyond a steady one
    over_budget: bool


def time_training(bench: Bench) -> TrainingTimes:
    """Warm up on the longest rows, then time micro-batches until the budget runs out, then one update."""
    spec = bench.spec
    total = spec.warmup + spec.micro_batches
    # Warm up on the longest rows: the largest buffers are allocated first and every later, smaller
    # shape reuses them (on a GPU, torch's caching allocator would otherwise grow inside the timed
    # batches, which the Trainer pays once and not every step).
    longest = sorted(spec.rows, key=sum)[-spec.batch_size:]
    first, first_flops = 0.0, 0.0
    for i in range(spec.warmup):
        seconds, flops_done = bench.micro_batch(longest)
        first, first_flops = first + seconds, first_flops + flops_done
        emit("progress", what="micro-batch", done=i + 1, total=total)
    if spec.warmup:
        first += bench.update()  # the first update allocates the optimizer state: warm-up, not measured
    per_flop: list[float] = []
    flops = 0.0
    budget_end = time.perf_counter() + spec.budget_seconds
    for i in range(spec.micro_batches):
        s, f = bench.micro_batch()
        per_flop.append(s / f)
        flops += f
        emit("progress", what="micro-batch", done=spec.warmup + i + 1, total=total)
        if time.perf_counter() > budget_end:
            break  # a slow shape: fewer samples rather than a probe nobody waits for
    update_seconds = bench.update()
    emit("progress", what="optimizer update", done=total, total=total)
    micro_flops = flops / len(per_flop)
    # The fastest batch per FLOP, priced at the mean FLOPs: other processes on the same cores
    # only ever slow a batch down, so the best one is this machine's own speed (as timeit does).
    micro = min(per_flop) * micro_flops
    over_budget = time.perf_counter() > budget_end
    warmup_extra = max(first - first_flops * min(per_flop) - (update_seconds if spec.warmup else 0.0), 0.0)
    return TrainingTimes(micro, micro_flops, update_seconds, len(per_flop), warmup_extra, over_budget)


def time_evaluation(bench: Bench, eval_rows: list[tuple[int, int]], quick: bool) -> tuple[float, float]:
    """(seconds, FLOPs) of the fastest eval batch per FLOP, after a warm-up on the largest shape."""
    size = bench.spec.eval_batch_size
    bench.eval_batch(sorted(eval_rows, key=sum)[-size:])  # warm-up: eval mode, no grad, the largest shape
    timed = [bench.eval_batch(bench.draw(eval_rows, size)) for _ in range(1 if quick else 2)]
    emit("progress", what="eval batch", done=1, total=1)
    return min(timed, key=lambda t: t[0] / t[1])


def time_generation(bench: Bench, eval_rows: list[tuple[int, int]]) -> tuple[float, float]:
    """(seconds per generated token, fixed seconds of a generate call): one call of 1 token and
    one of 1 + spec.generate_tokens; the difference is the per-token cost."""
    spec = bench.spec
    batch, _, _ = bench.batch(bench.draw(eval_rows, spec.eval_batch_size))
    inputs = {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"]}
    bench.generate(inputs, 2)  # warm-up
    fixed = bench.generate(inputs, 1)
    longer = bench.generate(inputs, 1 + spec.generate_tokens)
    emit("progress", what="generate", done=1, total=1)
    return max(longer - fixed, 0.0) / spec.generate_tokens, fixed


def run(spec: CalibrationSpec, disk_dir: Path) -> dict[str, Any]:
    """Time the spec's training, evaluation and generation here; the result the launcher caches."""
    emit("progress", what="importing torch")
    import torch

    from emosum_tui.probe.matmul import disk_write_bps

    bench = Bench(spec)
    emit("progress", what="model built")
    training = time_training(bench)
    bench.model.eval()
    eval_rows = spec.eval_rows or spec.rows
    with torch.no_grad():
        eval_seconds, eval_flops = time_evaluation(bench, eval_rows, quick=training.over_budget)
        decode, fixed = time_generation(bench, eval_rows) if spec.generate_tokens else (0.0, 0.0)
    return {
        "device": bench.name,
        "micro_batch_seconds": training.micro_seconds,
        "micro_flops": training.micro_flops,
        "update_seconds": training.update_seconds,
        "step_seconds": spec.grad_accum * training.micro_seconds + training.update_seconds,
        "eval_batch_seconds": eval_seconds,
        "eval_flops": eval_flops,
        "decode_token_seconds": decode,
        "generate_fixed_seconds": fixed,
        "startup_seconds": 0.0,
        "disk_bps": disk_write_bps(disk_dir, megabytes=DISK_PROBE_MEGABYTES),
        "micro_batches": training.micro_batches,
        "warmup_seconds": training.warmup_extra,  # paid once per run (allocation, lazy initialisation, compilation)
        "peak_memory_bytes": peak_memory_bytes(bench.cuda),
        "device_memory_bytes": device_memory_bytes(bench.cuda),
    }


def peak_memory_bytes(cuda: bool) -> int:
    """The most memory the steps held: torch's allocator peak on a GPU, the process's peak RSS on a CPU."""
    import torch

    if cuda:
        return int(torch.cuda.max_memory_reserved())
    import resource

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(rss if sys.platform == "darwin" else rss * 1024)  # bytes on macOS, KiB on Linux


def device_memory_bytes(cuda: bool) -> int:
    """What there is to fit into: the GPU's memory, else the machine's."""
    import torch

    if cuda:
        return int(torch.cuda.get_device_properties(0).total_memory)
    import psutil

    return int(psutil.virtual_memory().total)


def main(argv: list[str]) -> int:
    return report(lambda: run(CalibrationSpec.read(Path(argv[0])), Path(argv[1]) if len(argv) > 1 else Path(".")))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
