"""Vocabulary trimming as the doctor offers it: priced against the same plan untrimmed.

Most of mT5's parameters are the 250,112-row embedding and LM head; a preset that does not trim
is offered the trim with the step speed-up and checkpoint size the cost model gives it, and the
change that applies it (one key on the presets screen).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from emosum_tui.doctor.findings import Finding, gib
from emosum_tui.i18n import N_
from emosum_tui.i18n.phrase import Phrase

if TYPE_CHECKING:
    from emosum_tui.core.calibration import DeviceProfile
    from emosum_tui.core.presets import Preset
    from emosum_tui.core.token_stats import TokenLengths
    from emosum_tui.doctor.facts import PlanFacts


@dataclass(frozen=True)
class TrimOffer:
    """Trimming the vocabulary, priced: the pieces kept and how much faster a step gets."""

    vocab_size: int
    original_vocab_size: int
    step_speedup: float  # untrimmed s/step / trimmed s/step
    checkpoint_bytes: tuple[int, int]  # before, after
    basis: str


def trim_offer(preset: Preset, lengths: TokenLengths, profile: DeviceProfile | None) -> TrimOffer | None:
    """What `model.trim_vocabulary = true` would change, both plans priced on the same device
    prior (a calibration is per shape), or None when the preset trims already or builds its model."""
    from emosum_tui.core.cost_model import estimate
    from emosum_tui.core.presets import with_values

    if preset["model.trim_vocabulary"] or preset.builds_model_from_config:
        return None
    before = estimate(preset, lengths=lengths, device=profile)
    after = estimate(with_values(preset, {"model.trim_vocabulary": True}), lengths=lengths, device=profile)
    return TrimOffer(vocab_size=after.vocab_size, original_vocab_size=before.vocab_size,
                     step_speedup=before.seconds_per_step / after.seconds_per_step,
                     checkpoint_bytes=(before.checkpoint_bytes, after.checkpoint_bytes), basis=after.basis.get("vocab_size", ""))


TRIM_WORTH = 1.25  # offer trimming when it makes a step at least this much faster


def check_vocabulary(plan: PlanFacts | None) -> list[Finding]:
    """Offer vocabulary trimming, priced, when the preset does not trim and it pays."""
    offer = plan.trim if plan is not None else None
    if offer is None or offer.step_speedup < TRIM_WORTH:
        return []
    before, after = offer.checkpoint_bytes
    return [Finding("vocab-untrimmed", "info",
                    Phrase(N_("trimming the vocabulary makes each step ≈x{speedup} faster"), speedup=f"{offer.step_speedup:.1f}"),
                    Phrase(N_("{basis}; checkpoint {before} → {after}"), basis=offer.basis, before=gib(before), after=gib(after)),
                    N_("model.trim_vocabulary = true (a trimmed model can write only its data's pieces; "
                       "model.trim_extra_files adds texts)"), changes=(("model.trim_vocabulary", True),))]
