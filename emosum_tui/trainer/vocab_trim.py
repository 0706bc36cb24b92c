"""Trim a loaded mT5 to the pieces its data uses, once per model and kept set, cached as a plain
Hugging Face model folder.

The kept set is every id the model's own tokenizer produces on the preset's train and validation
files and `model.trim_extra_files`, plus the special tokens, in the original order. The shared
embedding and the LM head keep those rows; the tokenizer files keep those pieces. The folder is
written under a temporary name and renamed when complete, so an interrupted trim is never reused,
and it loads with `from_pretrained` and plain transformers.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emosum_tui.core.data import file_digest
from emosum_tui.core.events import Event, Phase
from emosum_tui.core.paths import cache_dir
from emosum_tui.core.vocab_trim import (
    KeptPieces,
    TrimError,
    read_manifest,
    trim_cache_key,
    trim_spiece,
    trim_texts,
    trim_tokenizer_json,
    write_manifest,
)

if TYPE_CHECKING:
    from emosum_tui.core.presets import Preset
    from emosum_tui.trainer.model_loading import LoadedModel

PHASE = "trimming_vocabulary"
TOKENIZE_BATCH = 256  # rows a tokenizer call: progress often enough, overhead small
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")


def _batches(texts: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(texts), size):
        yield texts[start:start + size]


def kept_pieces(tokenizer: Any, texts: list[str], original_size: int,
                progress: Callable[[int, int], None] = lambda done, total: None) -> KeptPieces:
    """The ids `tokenizer` produces on `texts` (no truncation) plus its special tokens."""
    used: set[int] = set()
    done = 0
    for chunk in _batches(texts, TOKENIZE_BATCH):
        for ids in tokenizer(chunk, add_special_tokens=False, truncation=False)["input_ids"]:
            used.update(ids)
        done += len(chunk)
        progress(done, len(texts))
    return KeptPieces.of(used, tokenizer.all_special_ids, original_size)


def slice_model(model: Any, kept: KeptPieces) -> Any:
    """Keep the embedding and LM head rows of the kept ids, in place; `vocab_size` follows."""
    import torch

    index = torch.tensor(kept.ids, dtype=torch.long)
    old_input = model.get_input_embeddings()
    old_head = model.get_output_embeddings()
    # mT5 checkpoints hold an LM head of their own; transformers ties only when the weights are one tensor.
    tied = old_head.weight is old_input.weight
    embedding = torch.nn.Embedding(len(kept), old_input.embedding_dim)
    embedding.weight.data = old_input.weight.data.index_select(0, index).clone()
    model.set_input_embeddings(embedding)
    head = torch.nn.Linear(old_head.in_features, len(kept), bias=False)
    if tied:
        head.weight = embedding.weight
    else:
        head.weight.data = old_head.weight.data.index_select(0, index).clone()
    model.set_output_embeddings(head)
    model.config.vocab_size = len(kept)
    model.config.tie_word_embeddings = tied
    return model


def write_tokenizer(tokenizer: Any, spiece: Path | None, kept: KeptPieces, folder: Path) -> None:
    """The tokenizer's files with only the kept pieces: tokenizer.json (what transformers loads)
    and, when the original SentencePiece model is here, spiece.model (what the console counts with)."""
    staging = folder / "original-tokenizer"
    tokenizer.save_pretrained(str(staging))
    body = json.loads((staging / "tokenizer.json").read_text(encoding="utf-8"))
    (folder / "tokenizer.json").write_text(json.dumps(trim_tokenizer_json(body, kept), ensure_ascii=False), encoding="utf-8")
    remap = kept.new_id()
    for name in TOKENIZER_FILES[1:]:
        if not (staging / name).exists():
            continue
        config = json.loads((staging / name).read_text(encoding="utf-8"))
        if isinstance(config.get("unk_id"), int):
            config["unk_id"] = remap[config["unk_id"]]
        if isinstance(config.get("added_tokens_decoder"), dict):
            config["added_tokens_decoder"] = {str(remap[int(k)]): v for k, v in config["added_tokens_decoder"].items()
                                              if int(k) in remap}
        (folder / name).write_text(json.dumps(config, ensure_ascii=False, indent=2), encoding="utf-8")
    shutil.rmtree(staging)
    if spiece is not None and spiece.exists():
        (folder / "spiece.model").write_bytes(trim_spiece(spiece.read_bytes(), kept))


def check_same_ids(original: Any, trimmed: Any, kept: KeptPieces, texts: Iterable[str]) -> None:
    """Every text tokenises to the same pieces, re-numbered: the trim changed no input."""
    remap = kept.new_id()
    for chunk in _batches(list(texts), TOKENIZE_BATCH):
        before = original(chunk, add_special_tokens=True, truncation=False)["input_ids"]
        after = trimmed(chunk, add_special_tokens=True, truncation=False)["input_ids"]
        for text, old, new in zip(chunk, before, after, strict=True):
            if [remap[i] for i in old] != new:
                raise TrimError(f"the trimmed tokenizer reads {text[:60]!r}… differently: this tokenizer cannot be trimmed exactly")


def model_digest(preset: Preset, loaded: LoadedModel) -> str:
    """What identifies the source weights beyond their name: the demo's config and tokenizer."""
    if preset.builds_model_from_config:
        spiece = file_digest(loaded.spiece) if loaded.spiece else ""
        return json.dumps([preset["model.config"], preset["data.seed"], spiece], sort_keys=True)
    return preset["model.name"]


def trimmed_folder(preset: Preset, kept: KeptPieces, loaded: LoadedModel) -> Path:
    return cache_dir() / "trimmed" / trim_cache_key(preset["model.name"], model_digest(preset, loaded), kept)


def trim_loaded(preset: Preset, loaded: LoadedModel, emit: Callable[[Event], object]) -> LoadedModel:
    """The preset's model trimmed to its data: reused from the cache, or made and cached now."""
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    from emosum_tui.trainer.model_loading import LoadedModel

    source = trim_texts(preset)
    original_size = int(loaded.model.config.vocab_size)
    emit(Phase(name=PHASE, done=0, total=len(source.texts), detail="finding the pieces the data uses"))
    kept = kept_pieces(loaded.tokenizer, source.texts, original_size,
                       lambda done, total: emit(Phase(name=PHASE, done=done, total=total, detail="finding the pieces the data uses")))
    folder = trimmed_folder(preset, kept, loaded)
    if read_manifest(folder) != kept:
        emit(Phase(name=PHASE, done=len(source.texts), total=len(source.texts),
                   detail=f"keeping {len(kept):,} of {original_size:,} pieces; writing {folder}"))
        partial = folder.with_name(folder.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        model = slice_model(loaded.model, kept)
        model.save_pretrained(str(partial))
        write_tokenizer(loaded.tokenizer, loaded.spiece, kept, partial)
        check_same_ids(loaded.tokenizer, AutoTokenizer.from_pretrained(str(partial)), kept, source.texts)
        write_manifest(partial, preset["model.name"], kept, source.files)  # last: its presence marks a complete folder
        shutil.rmtree(folder, ignore_errors=True)
        partial.rename(folder)
    emit(Phase(name=PHASE, done=len(source.texts), total=len(source.texts),
               detail=f"{len(kept):,} of {original_size:,} pieces kept ({folder})"))
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    model = AutoModelForSeq2SeqLM.from_pretrained(str(folder))
    if preset["model.gradient_checkpointing"]:
        model.config.use_cache = False
    spiece = folder / "spiece.model"
    return LoadedModel(model, tokenizer, f"{loaded.source}, trimmed to {len(kept):,} pieces", spiece if spiece.exists() else None)
