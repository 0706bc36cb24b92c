"""A hub-like local mT5 folder: what `save_pretrained` writes for google/mt5-*, at a tiny size.

Untied LM head, tokenizer.json + spiece.model, and a SentencePiece vocabulary trained on more
text than the bundled sample, so the sample uses only part of it (what vocabulary trimming needs).
"""

from __future__ import annotations

import io
import random
from pathlib import Path

from emosum_tui.core.data import PairFields, read_pairs

CHECKOUT = Path(__file__).resolve().parents[2]
TRAIN = CHECKOUT / "emosum_tui" / "builtin" / "data" / "train" / "Emotion_Summary.jsonl"
VALIDATION = CHECKOUT / "emosum_tui" / "builtin" / "data" / "validation" / "Emotion_Summary.jsonl"
HUB_LIKE_PIECES = 3000
PADDED_ROWS = 12  # mT5's embedding has a few rows more than its tokenizer has pieces


def sample_texts(*files: Path) -> list[str]:
    return [text for path in files for pair in read_pairs(path, PairFields()).pairs for text in (pair.source, pair.target)]


def other_text() -> list[str]:
    """Text the sample does not contain: words of random letters and CJK characters."""
    rng = random.Random(7)
    letters = "abcdefghijklmnopqrstuvwxyzäöüéèàçñ"
    words = ["".join(rng.choice(letters) for _ in range(rng.randint(3, 9))) for _ in range(3000)]
    chinese = [chr(0x4E00 + rng.randrange(3000)) for _ in range(4000)]
    return [" ".join(rng.choice(words) for _ in range(12)) for _ in range(1500)] + [
        "".join(chinese[i:i + 30]) for i in range(0, 4000, 30)]


def build_hub_like_mt5(folder: Path) -> Path:
    """Write the model folder into `folder` (created) and return it."""
    import sentencepiece as spm
    import torch
    from transformers import MT5Config, MT5ForConditionalGeneration, T5Tokenizer

    folder.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(sample_texts(TRAIN) + other_text()), model_writer=buffer, vocab_size=HUB_LIKE_PIECES,
        model_type="unigram", character_coverage=1.0, pad_id=0, eos_id=1, unk_id=2, bos_id=-1,
        num_threads=1, hard_vocab_limit=False, minloglevel=2,
    )
    (folder / "spiece.model").write_bytes(buffer.getvalue())
    tokenizer = T5Tokenizer.from_pretrained(str(folder), extra_ids=0)
    tokenizer.save_pretrained(str(folder))
    torch.manual_seed(0)
    config = MT5Config(vocab_size=len(tokenizer) + PADDED_ROWS, d_model=32, d_ff=64, d_kv=8, num_layers=2,
                       num_decoder_layers=2, num_heads=4, tie_word_embeddings=False, pad_token_id=0, eos_token_id=1,
                       decoder_start_token_id=0)
    model = MT5ForConditionalGeneration(config)
    model.lm_head.weight = torch.nn.Parameter(torch.randn_like(model.shared.weight))  # untied, as in google/mt5-*
    model.save_pretrained(str(folder))
    return folder
