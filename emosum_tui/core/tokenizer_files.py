"""Finding (or, for `demo`, building) a preset's SentencePiece model without torch.

mT5's tokenizer is a SentencePiece unigram model (`spiece.model`), so token counts can come
from the `sentencepiece` library alone: the console can price real token lengths without
importing transformers. For a hub model the file is looked up in the local Hugging Face cache
(never downloaded here); for a model built from an inline config (`demo`) a tokenizer is
trained on the preset's train file, once, deterministically, and cached by the file's hash.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import TYPE_CHECKING

from emosum_tui.core.atomic import write_bytes_atomic
from emosum_tui.core.data import PairFields, file_digest, read_pairs
from emosum_tui.core.paths import cache_dir

if TYPE_CHECKING:
    from emosum_tui.core.presets import Preset

SPIECE = "spiece.model"


def hf_hub_cache() -> Path:
    """The Hugging Face hub cache, as `huggingface_hub` resolves it (HF_HUB_CACHE, HF_HOME)."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    home = os.environ.get("HF_HOME") or os.path.join(os.environ.get("XDG_CACHE_HOME", "~/.cache"), "huggingface")
    return Path(home).expanduser() / "hub"


def cached_hub_file(repo_id: str, filename: str) -> Path | None:
    """A file of a hub model if it is in the local cache (any snapshot), else None."""
    folder = hf_hub_cache() / ("models--" + repo_id.replace("/", "--")) / "snapshots"
    if not folder.is_dir():
        return None
    for snapshot in sorted(folder.iterdir(), key=lambda p: p.stat().st_mtime, reverse=True):
        candidate = snapshot / filename
        if candidate.exists():
            return candidate
    return None


def demo_tokenizer_dir(preset: Preset) -> Path:
    """Where the trained tokenizer of an inline-config preset lives (keyed by data + vocab)."""
    key = f"{file_digest(preset.train_file)}-v{preset['model.tokenizer_vocab_size']}"
    return cache_dir() / "tokenizers" / key


def build_demo_tokenizer(preset: Preset) -> Path:
    """Train (once) the SentencePiece model of an inline-config preset; return its path.

    Deterministic: same train file and vocab size give the same model, trained on a single
    thread from the rows in file order. The special pieces match mT5's: pad=0, eos=1, unk=2.
    """
    import sentencepiece as spm

    folder = demo_tokenizer_dir(preset)
    model = folder / SPIECE
    if model.exists():
        return model
    fields = PairFields.from_preset(preset)
    pairs = read_pairs(preset.train_file, fields).pairs
    sentences = [text for pair in pairs for text in (pair.source, pair.target)]
    buffer = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(sentences),
        model_writer=buffer,
        vocab_size=preset["model.tokenizer_vocab_size"],
        model_type="unigram",
        character_coverage=0.9995,
        pad_id=0,
        eos_id=1,
        unk_id=2,
        bos_id=-1,
        num_threads=1,
        input_sentence_size=0,
        shuffle_input_sentence=False,
        hard_vocab_limit=False,
        minloglevel=2,
    )
    write_bytes_atomic(model, buffer.getvalue())  # a crash never leaves a half-written tokenizer
    return model


def find_spiece(preset: Preset, build: bool = True) -> Path | None:
    """The preset's SentencePiece model on this machine, or None when it is not here.

    `build=False` never trains one (a quick look for the console)."""
    if preset.builds_model_from_config:
        folder = demo_tokenizer_dir(preset)
        if (folder / SPIECE).exists() or not build:
            return folder / SPIECE if (folder / SPIECE).exists() else None
        return build_demo_tokenizer(preset)
    name = preset["model.name"]
    local = Path(name).expanduser()
    if local.is_dir():
        return local / SPIECE if (local / SPIECE).exists() else None
    return cached_hub_file(name, SPIECE)
