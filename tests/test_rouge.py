"""ROUGE as `evaluate` reports it: CJK text scores, ROUGE-L matches rouge-score, the baseline is the typical target."""

from __future__ import annotations

import random

import pytest
from rouge_score import rouge_scorer

from emosum_tui.core.rouge import (
    TOKENIZER,
    RougeScores,
    constant_baseline,
    distinct_share,
    lcs_length,
    mean_tokens,
    score_pair,
    score_pairs,
    summarize,
    tokenize,
    typical_target,
)


def test_tokens_are_cjk_characters_and_lower_case_words() -> None:
    assert tokenize("我很难过。Hello, World 42 café!") == ["我", "很", "难", "过", "hello", "world", "42", "café"]
    assert tokenize("  ,.!  ") == []


def test_a_chinese_pair_scores_what_a_hand_count_gives() -> None:
    # 我今天很难过 vs 我今天很开心: 4 of 6 characters shared (P = R = 2/3); bigrams 我今 今天 天很
    # shared, 3 of 5 each side (0.6); longest common subsequence 我今天很, 4 of 6 (2/3).
    rouge1, rouge2, rouge_l = score_pair("我今天很难过", "我今天很开心")
    assert rouge1 == pytest.approx(2 / 3)
    assert rouge2 == pytest.approx(0.6)
    assert rouge_l == pytest.approx(2 / 3)
    # rouge-score's own tokenizer keeps only [a-z0-9]: the same pair would score nothing.
    assert rouge_scorer.RougeScorer(["rouge1"]).score("我今天很开心", "我今天很难过")["rouge1"].fmeasure == 0.0


def test_rouge_l_is_rouge_score_s_own_number() -> None:
    scorer = rouge_scorer.RougeScorer(["rougeL"], tokenizer=TOKENIZER)
    rng = random.Random(7)
    words = ["the", "client", "felt", "sad", "我", "很", "难", "过", "and", "listened"]
    for _ in range(200):
        prediction = " ".join(rng.choice(words) for _ in range(rng.randrange(0, 25)))
        reference = " ".join(rng.choice(words) for _ in range(rng.randrange(0, 25)))
        expected = scorer.score(reference, prediction)["rougeL"].fmeasure
        assert score_pair(prediction, reference)[2] == pytest.approx(expected, abs=1e-12)


def test_lcs_length_on_small_cases() -> None:
    assert lcs_length(list("abcbdab"), list("bdcaba")) == 4
    assert lcs_length([], ["a"]) == 0
    assert lcs_length(["a", "b"], ["a", "b"]) == 2


def test_the_baseline_is_the_most_typical_target() -> None:
    references = [
        "a b c d e x",
        "a b c d y f",
        "a b c d e f",  # one edit from each of the three variants around it: the typical one
        "a b z d e f",
        "q r s t u v",
    ]
    index, typicality, compared = typical_target(references)
    assert index == 2 and compared == 4
    baseline = constant_baseline(references)
    assert baseline.text == "a b c d e f" and baseline.index == 2
    assert baseline.scores.rows == 5
    assert baseline.scores.rouge1 == pytest.approx((1 + 3 * 5 / 6 + 0) / 5)
    assert baseline.typicality == pytest.approx(typicality)


def test_the_baseline_is_deterministic_on_a_sample() -> None:
    rng = random.Random(3)
    template = "in this consultation the client presented with feelings of {} and I listened"
    references = [template.format(rng.choice(["pride", "grief", "anger"])) for _ in range(150)]
    first = typical_target(references, candidates=10, sample=10)
    assert first == typical_target(references, candidates=10, sample=10)
    assert first[2] == 10 and 0.8 < first[1] <= 1.0


def test_lengths_and_distinct_share() -> None:
    assert mean_tokens(["a b", "我很好"]) == pytest.approx(2.5)
    assert distinct_share(["x", "x ", "y", "x"]) == pytest.approx(0.5)
    assert distinct_share([]) == 0.0


def test_summary_puts_the_model_beside_the_baseline() -> None:
    references = ["the client felt sad", "the client felt proud", "the client felt sad today"]
    summary = summarize(["the client felt sad"] * 3, references)
    assert summary.model == score_pairs(["the client felt sad"] * 3, references)
    assert isinstance(summary.model, RougeScores) and summary.model.rows == 3
    assert summary.distinct_share == pytest.approx(1 / 3)
    body = summary.as_dict()
    assert set(body["model"]) >= {"rouge1", "rouge2", "rougeL", "mean_generated_tokens", "distinct_share"}
    assert set(body["baseline"]) >= {"rouge1", "rouge2", "rougeL", "text"}
    with pytest.raises(ValueError):
        score_pairs(["a"], [])
