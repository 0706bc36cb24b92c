"""Live rules on the loss: diverged (NaN/inf) or not learning (flat after warm-up)."""

from __future__ import annotations

import math
import statistics

from emosum_tui.doctor.findings import Finding
from emosum_tui.doctor.live_window import LiveWindow

FLAT_MIN_STEPS = 20  # steps after warm-up before a flat loss can be told from noise
FLAT_MIN_SPAN = 5  # steps averaged at each end of the window, at the least ...
FLAT_SPAN_PARTS = 4  # ... or a quarter of the steps
FLAT_LOSS_RATIO = 0.98  # the late mean must fall below this share of the early mean to count as learning


def loss_not_finite(window: LiveWindow) -> Finding | None:
    """NaN or inf loss: training has diverged; mT5 in fp16 is the usual cause."""
    bad = [e for e in window.steps if e.loss is not None and not math.isfinite(e.loss)]
    if not bad:
        return None
    first = bad[0]
    precision = window.plan.precision if window.plan and window.plan.precision else window.precision
    evidence = f"loss = {first.loss} at step {first.step}"
    if first.learning_rate is not None:
        evidence += f", learning rate {first.learning_rate:.2e}"
    if first.grad_norm is not None:
        evidence += f", grad norm {first.grad_norm}"
    evidence += f"; {len(bad)} non-finite steps; precision {precision or 'unknown'}"
    if "fp16" in precision:
        fix = "set train.precision = \"bf16\" (GPU with bf16) or \"fp32\": mT5 overflows in fp16; resume from the last checkpoint"
    else:
        lr = window.learning_rate
        fix = (f"halve train.learning_rate (now {lr:g})" if lr else "lower train.learning_rate") + \
            "; keep train.grad_clip = 1.0 (AdamW); resume from the last checkpoint before the NaN"
    return Finding("loss-nan", "error", "the loss is NaN/inf: training diverged", evidence, fix)


def loss_flat(window: LiveWindow) -> Finding | None:
    """After warm-up the loss should fall; the same level at the end of the window as at its start says it is not learning."""
    warmup = window.warmup_steps
    losses = [(e.step, e.loss) for e in window.steps if e.step > warmup and e.loss is not None and math.isfinite(e.loss)]
    if len(losses) < FLAT_MIN_STEPS:
        return None
    k = max(FLAT_MIN_SPAN, len(losses) // FLAT_SPAN_PARTS)
    head, tail = losses[:k], losses[-k:]
    early, late = statistics.fmean(v for _, v in head), statistics.fmean(v for _, v in tail)
    if late < FLAT_LOSS_RATIO * early:
        return None
    lr = window.learning_rate
    return Finding(
        "loss-flat",
        "warning",
        "the loss is not decreasing after warm-up",
        f"mean loss {early:.3f} over steps {head[0][0]}-{head[-1][0]} vs {late:.3f} over steps {tail[0][0]}-{tail[-1][0]} "
        f"(warm-up {window.warmup_steps} steps)",
        (f"check train.learning_rate (now {lr:g}): " if lr else "check train.learning_rate: ")
        + "AdamW ~5e-5-3e-4, Adafactor ~1e-3 for T5; check the data with `emosum-tui data check` (targets that repeat one template "
        "give a loss that stops early)",
    )
