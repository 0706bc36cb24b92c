"""Live rules on the loss: diverged (NaN/inf) or not learning (flat after warm-up)."""

from __future__ import annotations

import math
import statistics

from emosum_tui.doctor.findings import Finding
from emosum_tui.doctor.live_window import LiveWindow
from emosum_tui.i18n import N_
from emosum_tui.i18n.phrase import Joined, Phrase

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
    said = [Phrase(N_("loss = {loss} at step {step}"), loss=str(first.loss), step=first.step)]
    if first.learning_rate is not None:
        said.append(Phrase(N_("learning rate {rate}"), rate=f"{first.learning_rate:.2e}"))
    if first.grad_norm is not None:
        said.append(Phrase(N_("grad norm {norm}"), norm=str(first.grad_norm)))
    evidence = Phrase(N_("{seen}; {bad} non-finite steps; precision {precision}"), seen=Joined(N_(", "), said), bad=len(bad),
                      precision=precision or Phrase(N_("unknown")))
    if "fp16" in precision:
        fix: Phrase | str = N_('set train.precision = "bf16" (GPU with bf16) or "fp32": mT5 overflows in fp16; resume from the last checkpoint')
    elif window.learning_rate:
        fix = Phrase(N_("halve train.learning_rate (now {rate}); keep train.grad_clip = 1.0 (AdamW); resume from the last checkpoint "
                        "before the NaN"), rate=f"{window.learning_rate:g}")
    else:
        fix = N_("lower train.learning_rate; keep train.grad_clip = 1.0 (AdamW); resume from the last checkpoint before the NaN")
    return Finding("loss-nan", "error", N_("the loss is NaN/inf: training diverged"), evidence, fix)


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
    advice = N_("AdamW ~5e-5-3e-4, Adafactor ~1e-3 for T5; check the data with `emosum-tui data check` (targets that repeat one "
                "template give a loss that stops early)")
    return Finding(
        "loss-flat",
        "warning",
        N_("the loss is not decreasing after warm-up"),
        Phrase(N_("mean loss {early} over steps {first}-{last} vs {late} over steps {tail_first}-{tail_last} (warm-up {warmup} steps)"),
               early=f"{early:.3f}", first=head[0][0], last=head[-1][0], late=f"{late:.3f}", tail_first=tail[0][0],
               tail_last=tail[-1][0], warmup=window.warmup_steps),
        Phrase(N_("check train.learning_rate (now {rate}): {advice}"), rate=f"{lr:g}", advice=Phrase(advice)) if lr
        else Phrase(N_("check train.learning_rate: {advice}"), advice=Phrase(advice)),
    )
