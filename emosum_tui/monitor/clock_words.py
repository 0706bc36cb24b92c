"""The step clock's words for what it times and what its expectation rests on.

Identifiers (a phase, an estimate kind) stay English in files and `--json`; these are the
`Translatable` texts for them, English as a str and `shown()` in the interface's language.
"""

from __future__ import annotations

from emosum_tui.i18n import N_
from emosum_tui.i18n.phrase import Translatable

PHASE_WORDS = {  # core.events.PHASES, as the clock's message names them
    "starting": N_("starting"),
    "loading_model": N_("loading model"),
    "loading_data": N_("loading data"),
    "tokenising": N_("tokenising"),
    "training": N_("training"),
    "compiling": N_("compiling"),
    "evaluating": N_("evaluating"),
    "saving": N_("saving"),
    "done": N_("done"),
}
ESTIMATE_BASES = {  # what an expected step time taken from the run's estimate rests on, by its kind
    "calibrated": N_("calibrated estimate"),
    "prior": N_("prior estimate"),
    "given": N_("given estimate"),
    "": N_("kept estimate"),
}


def phase_words(phase: str, spaced: bool) -> str:
    """A phase in words; `spaced`: its underscores as spaces ("loading model"), else as it is."""
    english = phase.replace("_", " ") if spaced else phase
    known = PHASE_WORDS.get(phase)
    return Translatable(known) if known is not None and known == english else english


def estimate_basis(kind: str) -> str:
    """"calibrated estimate", "prior estimate", "given estimate", "kept estimate" ("" = not said)."""
    known = ESTIMATE_BASES.get(kind)
    return Translatable(known) if known is not None else Translatable("{kind} estimate", kind=kind)
