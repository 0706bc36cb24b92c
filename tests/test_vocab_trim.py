"""Vocabulary trimming is exact: the same pieces re-numbered, the same logits for kept ids.

The checkpoint is hub-like: an mT5 with an untied LM head saved with `save_pretrained`, and a
SentencePiece tokenizer trained on more text than the bundled sample, so the sample uses only
part of its vocabulary.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from emosum_tui.core.data import PairFields, read_pairs
from emosum_tui.core.vocab_trim import KeptPieces, TrimError, trim_tokenizer_json, used_piece_ids
from emosum_tui.trainer.vocab_trim import check_same_ids, kept_pieces, slice_model, write_tokenizer

ROOT = Path(__file__).resolve().parents[1]
TRAIN = ROOT / "data" / "train" / "Emotion_Summary.jsonl"
VALIDATION = ROOT / "data" / "validation" / "Emotion_Summary.jsonl"


def sample_texts(*files: Path) -> list[str]:
    return [text for path in files for pair in read_pairs(path, PairFields()).pairs for text in (pair.source, pair.target)]


def other_text() -> list[str]:
    """Text the sample does not contain: the tokenizer learns pieces the data never uses."""
    import random

    rng = random.Random(7)
    letters = "abcdefghijklmnopqrstuvwxyzäöüéèàçñ"
    words = ["".join(rng.choice(letters) for _ in range(rng.randint(3, 9))) for _ in range(3000)]
    chinese = [chr(0x4E00 + rng.randrange(3000)) for _ in range(4000)]
    return [" ".join(rng.choice(words) for _ in range(12)) for _ in range(1500)] + [
        "".join(chinese[i:i + 30]) for i in range(0, 4000, 30)]


@pytest.fixture(scope="module")
def hub_like(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A local mT5 folder: untied head, tokenizer.json + spiece.model, vocab much larger than the sample uses."""
    import sentencepiece as spm
    import torch
    from transformers import MT5Config, MT5ForConditionalGeneration, T5Tokenizer

    folder = tmp_path_factory.mktemp("mt5-hub-like")
    buffer = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(sample_texts(TRAIN) + other_text()), model_writer=buffer, vocab_size=3000,
        model_type="unigram", character_coverage=1.0, pad_id=0, eos_id=1, unk_id=2, bos_id=-1,
        num_threads=1, hard_vocab_limit=False, minloglevel=2,
    )
    (folder / "spiece.model").write_bytes(buffer.getvalue())
    tokenizer = T5Tokenizer.from_pretrained(str(folder), extra_ids=0)
    tokenizer.save_pretrained(str(folder))
    torch.manual_seed(0)
    config = MT5Config(vocab_size=len(tokenizer) + 12, d_model=32, d_ff=64, d_kv=8, num_layers=2, num_decoder_layers=2,
                       num_heads=4, tie_word_embeddings=False, pad_token_id=0, eos_token_id=1, decoder_start_token_id=0)
    model = MT5ForConditionalGeneration(config)
    model.lm_head.weight = torch.nn.Parameter(torch.randn_like(model.shared.weight))  # untied, as in google/mt5-*
    model.save_pretrained(str(folder))
    return folder


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
    assert kept.original_size == 3012  # tokenizer pieces + the model's padded rows, as in mT5
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
