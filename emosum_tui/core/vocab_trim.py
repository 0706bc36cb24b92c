"""Vocabulary trimming without torch: which pieces a model keeps, and its tokenizer files rebuilt.

A trimmed model keeps every piece its tokenizer produces on the preset's texts, plus the special
tokens, in the original order: old id `kept[i]` becomes new id `i`. mT5's tokenizer is a
SentencePiece unigram model, whose best segmentation of a text uses only pieces that segmentation
produced, so dropping the other pieces leaves the tokenisation of those texts unchanged; other
texts may segment differently, and a piece outside the kept set can never be written.

The model's rows are sliced on the trainer side (`trainer/vocab_trim.py`); this module holds the
parts the console also needs (the kept count for the cost model) and the tokenizer files.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emosum_tui.core.atomic import write_json_atomic
from emosum_tui.core.data import PairFields, file_digest, read_pairs
from emosum_tui.core.paths import cache_dir
from emosum_tui.i18n import N_, _
from emosum_tui.i18n.phrase import Translatable

if TYPE_CHECKING:
    from emosum_tui.core.presets import Preset

MANIFEST = "trim.json"  # beside a trimmed model: what it was trimmed from, and the kept ids


class TrimError(ValueError):
    """A trim that cannot be done; the message names the key, file or value at fault."""


@dataclass(frozen=True)
class KeptPieces:
    """The original ids a trimmed model keeps, ascending (new id = position in `ids`)."""

    ids: tuple[int, ...]
    original_size: int

    def __post_init__(self) -> None:
        if list(self.ids) != sorted(set(self.ids)):
            raise ValueError("kept ids must be ascending and distinct")

    @classmethod
    def of(cls, used: Iterable[int], special: Iterable[int], original_size: int) -> KeptPieces:
        special = set(special)
        ids = sorted(set(used) | special)
        if not ids or set(ids) <= special:
            raise TrimError(_("the kept set holds no piece of the data: check the preset's train and validation files"))
        outside = [i for i in ids if not 0 <= i < original_size]
        if outside:
            raise TrimError(f"piece ids {outside[:5]} lie outside the tokenizer's {original_size} pieces")
        return cls(tuple(ids), original_size)

    def __len__(self) -> int:
        return len(self.ids)

    def new_id(self) -> dict[int, int]:
        return {old: new for new, old in enumerate(self.ids)}

    def digest(self) -> str:
        return hashlib.sha256(",".join(map(str, self.ids)).encode("ascii")).hexdigest()[:16]


def trim_cache_key(model_ref: str, model_digest: str, kept: KeptPieces) -> str:
    """The cache folder name of a trimmed model: the source model and the kept set."""
    readable = "".join(c if c.isalnum() or c in "-._" else "_" for c in model_ref)[-40:]
    source = hashlib.sha256(f"{model_ref}\n{model_digest}".encode()).hexdigest()[:12]
    return f"{readable}-{source}-{len(kept)}-{kept.digest()}"


def used_piece_ids(spiece: Path, texts: Iterable[str], batch: int = 512) -> set[int]:
    """Every SentencePiece id that `texts` tokenise to (the console's exact kept count)."""
    import sentencepiece as spm

    processor = spm.SentencePieceProcessor(model_file=str(spiece))
    used: set[int] = set()
    chunk: list[str] = []
    for text in texts:
        chunk.append(text)
        if len(chunk) >= batch:
            used.update(i for ids in processor.encode(chunk) for i in ids)
            chunk = []
    if chunk:
        used.update(i for ids in processor.encode(chunk) for i in ids)
    return used


def spiece_special_ids(spiece: Path) -> set[int]:
    """Ids of the pieces SentencePiece marks as control or unknown (pad, eos, unk...)."""
    import sentencepiece as spm

    processor = spm.SentencePieceProcessor(model_file=str(spiece))
    return {i for i in range(processor.get_piece_size()) if processor.is_control(i) or processor.is_unknown(i)}


def trim_spiece(model: bytes, kept: KeptPieces) -> bytes:
    """The SentencePiece model with only the kept pieces, in the original order."""
    from sentencepiece import sentencepiece_model_pb2

    proto = sentencepiece_model_pb2.ModelProto()
    proto.ParseFromString(model)
    if len(proto.pieces) < kept.ids[-1] + 1:
        raise TrimError(f"the SentencePiece model has {len(proto.pieces)} pieces; the kept set reaches id {kept.ids[-1]}")
    pieces = [copy.deepcopy(proto.pieces[i]) for i in kept.ids]
    del proto.pieces[:]
    proto.pieces.extend(pieces)
    # Special ids move with their pieces: the trainer spec records where pad, eos and unk are.
    remap = kept.new_id()
    for name in ("unk_id", "bos_id", "eos_id", "pad_id"):
        old = getattr(proto.trainer_spec, name)
        if old >= 0:
            if old not in remap:
                raise TrimError(f"the kept set drops the special piece {name} = {old}")
            setattr(proto.trainer_spec, name, remap[old])
    return proto.SerializeToString()


def trim_tokenizer_json(tokenizer: dict[str, Any], kept: KeptPieces) -> dict[str, Any]:
    """A `tokenizers` Unigram tokenizer.json with only the kept pieces, every id re-numbered."""
    model = tokenizer.get("model", {})
    if model.get("type") != "Unigram":
        raise TrimError(_("tokenizer.json holds a {kind} model; only SentencePiece unigram (mT5, T5) can be trimmed").format(
            kind=repr(model.get("type"))))
    vocab = model["vocab"]
    remap = kept.new_id()
    trimmed = copy.deepcopy(tokenizer)
    trimmed["model"]["vocab"] = [vocab[i] for i in kept.ids]
    if model.get("unk_id") is not None:
        if model["unk_id"] not in remap:
            raise TrimError(f"the kept set drops the unknown piece (id {model['unk_id']})")
        trimmed["model"]["unk_id"] = remap[model["unk_id"]]
    added = []
    for token in tokenizer.get("added_tokens", []):
        if token["id"] not in remap:
            if token.get("special"):
                raise TrimError(f"the kept set drops the special token {token['content']!r} (id {token['id']})")
            continue
        added.append({**token, "id": remap[token["id"]]})
    trimmed["added_tokens"] = added
    _remap_post_processor(trimmed.get("post_processor"), remap)
    return trimmed


def _remap_post_processor(processor: dict[str, Any] | None, remap: dict[int, int]) -> None:
    """Template post-processors name their special tokens' ids (T5 appends `</s>`)."""
    if not processor:
        return
    for inner in processor.get("processors", []) or []:
        _remap_post_processor(inner, remap)
    for entry in (processor.get("special_tokens") or {}).values():
        entry["ids"] = [remap[i] for i in entry.get("ids", [])]


def write_manifest(folder: Path, source: str, kept: KeptPieces, files: Sequence[Path]) -> None:
    body = {"source": source, "original_vocab_size": kept.original_size, "kept": len(kept),
            "files": [str(f) for f in files], "kept_ids": list(kept.ids)}
    (folder / MANIFEST).write_text(json.dumps(body), encoding="utf-8")


def read_manifest(folder: Path) -> KeptPieces | None:
    """The kept set a trimmed model folder was made with, or None when it is not one."""
    try:
        body = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        return KeptPieces(tuple(body["kept_ids"]), int(body["original_vocab_size"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


# ---- what the preset's trim covers, and how many pieces it keeps (torch-free) -----------------

# Without the tokenizer: one piece per distinct word form, CJK character, and a margin for
# punctuation, digits and special pieces. mT5 splits rare words into pieces other words share,
# so this overstates the kept set: the estimate errs towards slower and larger.
WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
APPROX_MARGIN = 300


@dataclass(frozen=True)
class TrimSource:
    """The texts a trim must cover, and the files they came from (named in the manifest)."""

    texts: list[str]
    files: list[Path]


def trim_texts(preset: Preset) -> TrimSource:
    """Source and target of every good row of the train and validation files (all rows: a
    subsample changes neither the trim nor its cache), and each of `model.trim_extra_files`
    (JSON Lines through the preset's fields; any other file line by line)."""
    fields = PairFields.from_preset(preset)
    texts: list[str] = []
    files = [preset.train_file]
    if preset.validation_file.exists():
        files.append(preset.validation_file)
    for path in files:
        texts.extend(text for pair in read_pairs(path, fields).pairs for text in (pair.source, pair.target))
    for extra in preset.trim_extra_files:
        if not extra.is_file():
            raise TrimError(_("{path}: key '{key}': {file} does not exist").format(
                path=preset.path, key="model.trim_extra_files", file=repr(str(extra))))
        if extra.suffix.lower() == ".jsonl":
            texts.extend(text for pair in read_pairs(extra, fields).pairs for text in (pair.source, pair.target))
        else:
            texts.extend(line for line in extra.read_text(encoding="utf-8").splitlines() if line.strip())
        files.append(extra)
    return TrimSource(texts, files)


@dataclass(frozen=True)
class KeptCount:
    """How many pieces a trimmed preset keeps, and how that was found (shown as the basis)."""

    size: int
    exact: bool
    basis: str  # English (the estimate's basis, the cache); a Translatable where it was made here


def _kept_basis(exact: bool, size: int, original_size: int, rows: int, files: str, tokenizer: str) -> str:
    figures = {"size": f"{size:,}", "original": f"{original_size:,}", "rows": f"{rows:,}", "files": files}
    if exact:
        return Translatable(N_("{size} of {original} pieces: counted with {tokenizer} on {rows} rows ({files})"), **figures,
                            tokenizer=tokenizer)
    return Translatable(N_("approximate: {size} of {original} pieces, one per distinct word and CJK character of {rows} rows "
                           "({files}); the tokenizer is not on this machine"), **figures)


def approx_kept(texts: Iterable[str]) -> int:
    words: set[str] = set()
    cjk: set[str] = set()
    for text in texts:
        for word in WORD.findall(text):
            if any(_is_cjk(c) for c in word):
                cjk.update(c for c in word if _is_cjk(c))
            else:
                words.add(word)
    return len(words) + len(cjk) + APPROX_MARGIN


def _is_cjk(char: str) -> bool:
    code = ord(char)
    return 0x3000 <= code <= 0x9FFF or 0xF900 <= code <= 0xFAFF or 0xFF00 <= code <= 0xFFEF


def kept_count(preset: Preset, original_size: int) -> KeptCount:
    """The kept count of a trimmed preset: counted with its SentencePiece model when that is on
    this machine (cached by the files' and the tokenizer's hashes), else approximated."""
    from emosum_tui.core.tokenizer_files import find_spiece

    spiece = find_spiece(preset, build=False)
    source = trim_texts(preset)
    digests = [file_digest(path) for path in source.files]
    key = hashlib.sha256("\n".join([*digests, file_digest(spiece) if spiece else "approx", *preset["data.source_fields"],
                                      preset["data.target_field"], preset["data.source_prefix"]]).encode()).hexdigest()[:20]
    cache = cache_dir() / "kept_pieces" / f"{key}.json"
    try:
        body = json.loads(cache.read_text(encoding="utf-8"))
        size, exact = min(int(body["size"]), original_size), bool(body["exact"])
        words = body.get("basis_words")  # what the basis was made of, to say it again in the reader's language
        basis = _kept_basis(exact, size, original_size, **words) if isinstance(words, dict) else str(body["basis"])
        return KeptCount(size, exact, basis)
    except (OSError, ValueError, KeyError, TypeError):
        pass  # not counted yet, or a damaged cache: count again
    words = {"rows": len(source.texts) // 2, "files": ", ".join(path.name for path in source.files),
             "tokenizer": spiece.name if spiece is not None else ""}
    if spiece is not None:
        size = len(used_piece_ids(spiece, source.texts) | spiece_special_ids(spiece))
    else:
        size = min(original_size, approx_kept(source.texts))
    result = KeptCount(size, spiece is not None, _kept_basis(spiece is not None, size, original_size, **words))
    write_json_atomic(cache, {"size": result.size, "exact": result.exact, "basis": result.basis, "basis_words": words})
    return result
