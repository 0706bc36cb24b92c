"""Vocabulary trimming is exact: the same pieces re-numbered, the same logits for kept ids.

The checkpoint is hub-like: an mT5 with an untied LM head saved with `save_pretrained`, and a
SentencePiece tokenizer trained on more text than the bundled sample, so the sample uses only
part of its vocabulary.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.model_folders import HUB_LIKE_PIECES, PADDED_ROWS, TRAIN, VALIDATION, build_hub_like_mt5, sample_texts

from emosum_tui.core.data import PairFields, read_pairs
from emosum_tui.core.vocab_trim import KeptPieces, TrimError, trim_tokenizer_json, used_piece_ids
from emosum_tui.trainer.vocab_trim import check_same_ids, kept_pieces, slice_model, write_tokenizer


@pytest.fixture(scope="module")
def hub_like(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_hub_like_mt5(tmp_path_factory.mktemp("mt5-hub-like"))


@pytest.fixture(scope="module")
def trimmed(hub_like: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, KeptPieces]:
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(hub_like))
    model = AutoModelForSeq2SeqLM.from_pretrained(str(hub_like))
    kept = kept_pieces(tokenizer, sample_texts(TRAIN, VALIDATION), model.config.vocab_size)
    folder = tmp_path_factory.mktemp("trimmed")
    slice_model(model, kept).save_pretrained(str(folder))
    write_tokenizer(tokenizer, hub_like / "spiece.model", kept, folder)
    return folder, kept


def test_the_sample_uses_a_fraction_of_the_vocabulary(hub_like: Path, trimmed: tuple[Path, KeptPieces]) -> None:
    _, kept = trimmed
    assert kept.original_size == HUB_LIKE_PIECES + PADDED_ROWS  # tokenizer pieces + the model's padded rows, as in mT5
    assert 3 < len(kept) < kept.original_size / 2
    assert {0, 1, 2} <= set(kept.ids)  # pad, eos, unk always kept


def test_every_row_tokenises_to_the_same_pieces_renumbered(hub_like: Path, trimmed: tuple[Path, KeptPieces]) -> None:
    from transformers import AutoTokenizer

    folder, kept = trimmed
    original = AutoTokenizer.from_pretrained(str(hub_like))
    again = AutoTokenizer.from_pretrained(str(folder))
    texts = sample_texts(TRAIN, VALIDATION)
    check_same_ids(original, again, kept, texts)  # raises on any row that differs
    remap = kept.new_id()
    first = original(texts[0]).input_ids
    assert again(texts[0]).input_ids == [remap[i] for i in first]
    assert again.decode(again(texts[0]).input_ids, skip_special_tokens=True) == original.decode(first, skip_special_tokens=True)


def test_kept_logits_equal_the_original_model(hub_like: Path, trimmed: tuple[Path, KeptPieces]) -> None:
    import torch
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    folder, kept = trimmed
    original_tok = AutoTokenizer.from_pretrained(str(hub_like))
    original = AutoModelForSeq2SeqLM.from_pretrained(str(hub_like)).eval()
    small_tok = AutoTokenizer.from_pretrained(str(folder))
    small = AutoModelForSeq2SeqLM.from_pretrained(str(folder)).eval()
    assert small.config.vocab_size == len(kept)
    assert original.lm_head.weight.data_ptr() != original.shared.weight.data_ptr()
    assert small.lm_head.weight.data_ptr() != small.shared.weight.data_ptr()  # still untied after the trim
    pairs = read_pairs(VALIDATION, PairFields()).pairs[:4]
    index = torch.tensor(kept.ids)
    for pair in pairs:
        before = original_tok(pair.source, text_target=pair.target, return_tensors="pt", truncation=True, max_length=64)
        after = small_tok(pair.source, text_target=pair.target, return_tensors="pt", truncation=True, max_length=64)
        with torch.no_grad():
            full = original(**before).logits
            trim = small(**after).logits
        torch.testing.assert_close(trim, full.index_select(-1, index), rtol=1e-5, atol=1e-5)


def test_trimmed_model_generates_with_plain_transformers(trimmed: tuple[Path, KeptPieces]) -> None:
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    folder, _ = trimmed
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    model = AutoModelForSeq2SeqLM.from_pretrained(str(folder))
    out = model.generate(**tokenizer("Client: I feel lost.", return_tensors="pt"), max_new_tokens=5, do_sample=False)
    assert out.shape[1] >= 2
    assert max(out[0].tolist()) < model.config.vocab_size


def test_sentencepiece_count_matches_the_model_tokenizer(hub_like: Path, trimmed: tuple[Path, KeptPieces]) -> None:
    """The console counts kept pieces with SentencePiece alone (no transformers)."""
    _, kept = trimmed
    texts = sample_texts(TRAIN, VALIDATION)
    console = used_piece_ids(hub_like / "spiece.model", texts) | {0, 1, 2}
    assert abs(len(console) - len(kept)) <= max(3, len(kept) // 100)


def test_a_kept_set_without_data_or_dropping_a_special_token_is_refused(hub_like: Path) -> None:
    with pytest.raises(TrimError, match="no piece of the data"):
        KeptPieces.of([], [0, 1, 2], 100)
    body = json.loads((hub_like / "tokenizer.json").read_text(encoding="utf-8"))
    with pytest.raises(TrimError, match="drops"):
        trim_tokenizer_json(body, KeptPieces((0, 1, 5, 9), 3000))  # unk (2) not kept


def test_a_non_unigram_tokenizer_is_refused() -> None:
    with pytest.raises(TrimError, match="only SentencePiece unigram"):
        trim_tokenizer_json({"model": {"type": "BPE", "vocab": {}}}, KeptPieces((0, 1, 2), 10))
