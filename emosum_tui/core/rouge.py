"""ROUGE-1/2/L F1 for predictions against references, and the constant baseline beside them.

Scores come from the `rouge-score` package with `TextTokenizer`: lower-cased Latin words and
digits, and every CJK character a token of its own. rouge-score's default tokenizer keeps only
`[a-z0-9]`, so a Chinese reflection would score zero against anything.

ROUGE-L is computed here from an exact bit-parallel LCS length (Hyyrö's algorithm on Python
integers) with rouge-score's own precision/recall/F formula: rouge-score's LCS is a pure-Python
table that takes ~0.7 s per pair on the 1,000-word official items, this one a few milliseconds,
and both give the same number (a test pins it).

The baseline: the targets are largely one template, so a model that always writes the "most
typical target" scores high without reading the dialogue. `constant_baseline` picks that target
(the one with the highest mean ROUGE-L against a seeded sample of the others) and scores it
against every reference: the number a model has to beat. Torch-free.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from rouge_score import rouge_scorer, scoring

# CJK ideographs (with extensions A and compatibility), kana, and Hangul syllables: one token each.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_TOKEN = re.compile(rf"[{_CJK}]|[0-9a-z\u00c0-\u024f]+")


class TextTokenizer:
    """rouge-score's `tokenizer=` object: `tokenize(text) -> list[str]`."""

    def tokenize(self, text: str) -> list[str]:
        return _TOKEN.findall(text.lower())


TOKENIZER = TextTokenizer()


def tokenize(text: str) -> list[str]:
    """The tokens ROUGE counts (and generated lengths are measured in)."""
    return TOKENIZER.tokenize(text)


@dataclass(frozen=True)
class RougeScores:
    """Mean F1 of ROUGE-1, ROUGE-2 and ROUGE-L over the rows scored (0..1)."""

    rouge1: float
    rouge2: float
    rougeL: float  # the name every ROUGE report uses
    rows: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ConstantBaseline:
    """The most typical target, always predicted, and what it scores against every reference."""

    text: str
    index: int  # its position in the references given
    typicality: float  # its mean ROUGE-L F1 against the sample of others
    compared_with: int  # how many other references that mean was taken over
    scores: RougeScores

    def as_dict(self) -> dict[str, Any]:
        body = asdict(self)
        body["scores"] = self.scores.as_dict()
        return body


@dataclass(frozen=True)
class EvaluationSummary:
    """A model's predictions scored, with the constant baseline on the same references."""

    model: RougeScores
    baseline: ConstantBaseline
    mean_generated_tokens: float
    mean_reference_tokens: float
    distinct_share: float  # distinct predictions / predictions: 1/N means one constant answer

    def as_dict(self) -> dict[str, Any]:
        return {
            "model": {**self.model.as_dict(), "mean_generated_tokens": self.mean_generated_tokens,
                      "distinct_share": self.distinct_share},
            "baseline": {**self.baseline.scores.as_dict(), "text": self.baseline.text, "index": self.baseline.index,
                         "typicality": self.baseline.typicality, "compared_with": self.baseline.compared_with},
            "mean_reference_tokens": self.mean_reference_tokens,
        }


# ---------------------------------------------------------------------------------------------
# Scoring.


def lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common subsequence of two token lists, bit-parallel (exact)."""
    if not a or not b:
        return 0
    if len(a) < len(b):
        a, b = b, a  # the bit vector runs over the longer list: fewer loop turns in Python
    matches: dict[str, int] = {}
    for position, token in enumerate(a):
        matches[token] = matches.get(token, 0) | (1 << position)
    full = (1 << len(a)) - 1
    v = full
    for token in b:
        u = v & matches.get(token, 0)
        v = ((v + u) | (v - u)) & full
    return len(a) - v.bit_count()


def _rouge_l(prediction: list[str], reference: list[str]) -> float:
    lcs = lcs_length(prediction, reference)
    if lcs == 0:
        return 0.0
    return scoring.fmeasure(lcs / len(prediction), lcs / len(reference))


_NGRAMS = rouge_scorer.RougeScorer(["rouge1", "rouge2"], tokenizer=TOKENIZER)


def score_pair(prediction: str, reference: str) -> tuple[float, float, float]:
    """(ROUGE-1, ROUGE-2, ROUGE-L) F1 of one prediction against one reference."""
    ngrams = _NGRAMS.score(reference, prediction)  # rouge-score's order: (target, prediction)
    return ngrams["rouge1"].fmeasure, ngrams["rouge2"].fmeasure, _rouge_l(tokenize(prediction), tokenize(reference))


def score_pairs(predictions: Sequence[str], references: Sequence[str]) -> RougeScores:
    """Mean F1 over aligned predictions and references (both the same length)."""
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predictions for {len(references)} references")
    if not references:
        return RougeScores(0.0, 0.0, 0.0, 0)
    totals = [0.0, 0.0, 0.0]
    for prediction, reference in zip(predictions, references, strict=True):
        for i, value in enumerate(score_pair(prediction, reference)):
            totals[i] += value
    n = len(references)
    return RougeScores(totals[0] / n, totals[1] / n, totals[2] / n, n)


# ---------------------------------------------------------------------------------------------
# The constant baseline.


def typical_target(references: Sequence[str], candidates: int = 32, sample: int = 32, seed: int = 0) -> tuple[int, float, int]:
    """(index, mean ROUGE-L, others compared) of the most typical reference.

    Up to `candidates` distinct references (a seeded sample) are each compared with up to `sample`
    others (one seeded sample, the candidate itself left out); the highest mean ROUGE-L wins, ties
    to the earliest. Deterministic for the same references and seed.
    """
    if not references:
        raise ValueError("no references to pick a typical target from")
    first_of: dict[str, int] = {}
    for index, text in enumerate(references):
        first_of.setdefault(text, index)
    distinct = sorted(first_of.values())
    rng = random.Random(seed)
    chosen = distinct if len(distinct) <= candidates else sorted(rng.sample(distinct, candidates))
    everyone = range(len(references))
    others = list(everyone) if len(references) <= sample + 1 else sorted(rng.sample(everyone, sample + 1))
    tokens = {i: tokenize(references[i]) for i in {*chosen, *others}}
    best = (-1.0, 0, 0)
    for index in chosen:
        compared = [j for j in others if j != index][:sample]
        if not compared:
            return index, 0.0, 0
        mean = sum(_rouge_l(tokens[index], tokens[j]) for j in compared) / len(compared)
        if mean > best[0]:
            best = (mean, index, len(compared))
    return best[1], best[0], best[2]


def constant_baseline(references: Sequence[str], seed: int = 0) -> ConstantBaseline:
    """The most typical target predicted for every row, scored against every reference."""
    index, typicality, compared = typical_target(references, seed=seed)
    text = references[index]
    scores = score_pairs([text] * len(references), references)
    return ConstantBaseline(text=text, index=index, typicality=typicality, compared_with=compared, scores=scores)


# ---------------------------------------------------------------------------------------------
# Beyond ROUGE: is the model writing anything of its own?


def mean_tokens(texts: Sequence[str]) -> float:
    """Mean length in ROUGE tokens (0 for no texts)."""
    return sum(len(tokenize(t)) for t in texts) / len(texts) if texts else 0.0


def distinct_share(texts: Sequence[str]) -> float:
    """Distinct texts (after trimming spaces) / texts: 1.0 all different, 1/N one constant answer."""
    return len({t.strip() for t in texts}) / len(texts) if texts else 0.0


def summarize(predictions: Sequence[str], references: Sequence[str], seed: int = 0) -> EvaluationSummary:
    """The model's ROUGE, the constant baseline's on the same references, and the length/diversity figures."""
    return EvaluationSummary(
        model=score_pairs(predictions, references),
        baseline=constant_baseline(references, seed=seed),
        mean_generated_tokens=mean_tokens(predictions),
        mean_reference_tokens=mean_tokens(references),
        distinct_share=distinct_share(predictions),
    )
