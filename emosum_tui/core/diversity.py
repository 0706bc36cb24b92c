"""Low target diversity: when one constant prediction already scores high, ROUGE means little.

The user's targets are mostly one template: a model that writes the same reflection for
every dialogue would look excellent on validation ROUGE. We measure exactly that: pick the
most typical target (the one with the highest mean overlap with the others) and score it, as
a constant prediction, against every target with ROUGE-1 and ROUGE-2 F1 (n-gram overlap, the
definitions of Lin 2004; words lower-cased, each CJK character a token).
"""

from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import dataclass

from emosum_tui.i18n import N_
from emosum_tui.i18n.phrase import Translatable

_TOKEN = re.compile(r"[\u3000-\u9fff\uf900-\ufaff]|[^\W_]+", re.UNICODE)

# A constant prediction sharing half of every target's bigrams is a template, not a summary.
LOW_DIVERSITY_ROUGE2 = 0.5


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


def _ngrams(words: list[str], n: int) -> Counter[tuple[str, ...]]:
    return Counter(tuple(words[i : i + n]) for i in range(len(words) - n + 1))


def _f1(prediction: Counter, reference: Counter) -> float:
    overlap = sum((prediction & reference).values())
    if overlap == 0:
        return 0.0
    precision = overlap / sum(prediction.values())
    recall = overlap / sum(reference.values())
    return 2 * precision * recall / (precision + recall)


@dataclass(frozen=True)
class DiversityReport:
    rows: int
    unique_share: float  # distinct targets / targets
    constant_rouge1: float  # mean ROUGE-1 F1 of the most typical target against all
    constant_rouge2: float
    constant_example: str  # the start of that constant prediction

    @property
    def low(self) -> bool:
        return self.constant_rouge2 >= LOW_DIVERSITY_ROUGE2

    def message(self) -> str:
        """The verdict in one line: English as a str (--json), a Translatable where shown."""
        if self.low:
            template = N_("LOW target diversity: one constant prediction scores ROUGE-1 {rouge1}, ROUGE-2 {rouge2} against all "
                          "{rows} targets ({distinct} of targets distinct); validation ROUGE will say little about the model")
        else:
            template = N_("target diversity ok: one constant prediction scores ROUGE-1 {rouge1}, ROUGE-2 {rouge2} against all "
                          "{rows} targets ({distinct} of targets distinct)")
        return Translatable(template, rouge1=f"{self.constant_rouge1:.2f}", rouge2=f"{self.constant_rouge2:.2f}", rows=self.rows,
                            distinct=f"{self.unique_share:.0%}")


def target_diversity(targets: list[str], sample: int = 300, candidates: int = 15, seed: int = 0) -> DiversityReport:
    """Score the most typical target as a constant prediction (deterministic for a seed)."""
    if not targets:
        return DiversityReport(0, 0.0, 0.0, 0.0, "")
    rng = random.Random(seed)
    pool = targets if len(targets) <= sample else rng.sample(targets, sample)
    grams = [(_ngrams(words, 1), _ngrams(words, 2)) for words in map(tokens, pool)]
    picks = range(len(pool)) if len(pool) <= candidates else rng.sample(range(len(pool)), candidates)

    def mean_scores(index: int) -> tuple[float, float]:
        one, two = grams[index]
        r1 = sum(_f1(one, ref1) for ref1, _ in grams) / len(grams)
        r2 = sum(_f1(two, ref2) for _, ref2 in grams) / len(grams)
        return r1, r2

    best = max(picks, key=lambda i: mean_scores(i)[0])
    rouge1, rouge2 = mean_scores(best)
    return DiversityReport(
        rows=len(targets),
        unique_share=len(set(targets)) / len(targets),
        constant_rouge1=rouge1,
        constant_rouge2=rouge2,
        constant_example=pool[best][:160],
    )
