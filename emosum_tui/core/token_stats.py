"""Token-length statistics of a preset's data, with the preset's own tokenizer when it is here.

What a run costs and what it throws away both follow from token lengths: the cost model
prices real padded batches, and the truncation share says how much of each target the `fast`
preset's 128 tokens cut off. Counting uses `sentencepiece` directly (mT5's tokenizer is a
SentencePiece model plus one EOS token), so it stays torch-free. When the tokenizer is not on
this machine (a hub model never downloaded), lengths come from a characters-per-token ratio
and the basis says so. Results are cached by the data file's hash and the tokenizer's hash.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emosum_tui.core.atomic import write_bytes_atomic
from emosum_tui.core.data import PairFields, file_digest, read_pairs
from emosum_tui.core.paths import cache_dir
from emosum_tui.core.sampling import LengthStats, subsample_indices
from emosum_tui.core.tokenizer_files import find_spiece
from emosum_tui.i18n import N_
from emosum_tui.i18n.phrase import Translatable

if TYPE_CHECKING:
    from emosum_tui.core.presets import Preset

# Without the tokenizer: mT5's SentencePiece averages about 4 characters per token on this
# English counselling text (DESIGN.md: ~550 chars ~150 tokens, ~1,600 chars ~350 tokens) and
# about 1.5 characters per token on Chinese. An approximation, flagged in the basis.
LATIN_CHARS_PER_TOKEN = 4.0
CJK_CHARS_PER_TOKEN = 1.5


def _is_cjk(char: str) -> bool:
    code = ord(char)
    return 0x3000 <= code <= 0x9FFF or 0xF900 <= code <= 0xFAFF or 0xFF00 <= code <= 0xFFEF


def approx_tokens(text: str) -> int:
    cjk = sum(1 for char in text if _is_cjk(char))
    return math.ceil((len(text) - cjk) / LATIN_CHARS_PER_TOKEN + cjk / CJK_CHARS_PER_TOKEN) + 1


def count_tokens(texts: list[str], spiece: Path | None) -> list[int]:
    """Token count of each text as the model sees it (pieces + EOS), or the ratio estimate."""
    if spiece is None:
        return [approx_tokens(text) for text in texts]
    import sentencepiece as spm

    processor = spm.SentencePieceProcessor(model_file=str(spiece))
    return [len(ids) + 1 for ids in processor.encode(texts)]


@dataclass(frozen=True)
class FileTokens:
    """Per-row token lengths of one file's good rows, in file order (unclipped)."""

    path: Path
    source: list[int]
    target: list[int]

    def clipped(self, max_source: int, max_target: int) -> list[tuple[int, int]]:
        return [(min(s, max_source), min(t, max_target)) for s, t in zip(self.source, self.target, strict=True)]


@dataclass(frozen=True)
class Truncation:
    """How much a max length cuts: the share of rows cut and the share of tokens lost."""

    rows_cut: float
    tokens_cut: float

    @classmethod
    def of(cls, lengths: list[int], limit: int) -> Truncation:
        if not lengths:
            return cls(0.0, 0.0)
        rows = sum(1 for n in lengths if n > limit) / len(lengths)
        lost = sum(max(0, n - limit) for n in lengths) / max(1, sum(lengths))
        return cls(rows, lost)


@dataclass(frozen=True)
class TokenReport:
    """Token statistics of a preset's train and validation files at its max lengths."""

    train: FileTokens
    validation: FileTokens | None
    max_source: int
    max_target: int
    basis: str
    exact: bool  # True when counted with the real tokenizer

    @property
    def source_stats(self) -> LengthStats:
        return LengthStats.of(self.train.source)

    @property
    def target_stats(self) -> LengthStats:
        return LengthStats.of(self.train.target)

    @property
    def source_truncation(self) -> Truncation:
        return Truncation.of(self.train.source, self.max_source)

    @property
    def target_truncation(self) -> Truncation:
        return Truncation.of(self.train.target, self.max_target)

    def as_dict(self) -> dict[str, Any]:
        return {
            "basis": self.basis,
            "exact": self.exact,
            "max_source_tokens": self.max_source,
            "max_target_tokens": self.max_target,
            "source": self.source_stats.as_dict(),
            "target": self.target_stats.as_dict(),
            "source_rows_cut": self.source_truncation.rows_cut,
            "source_tokens_cut": self.source_truncation.tokens_cut,
            "target_rows_cut": self.target_truncation.rows_cut,
            "target_tokens_cut": self.target_truncation.tokens_cut,
        }


def file_tokens(path: Path, fields: PairFields, spiece: Path | None) -> FileTokens:
    """Token lengths of a file's good rows, cached by (file hash, fields, tokenizer hash)."""
    tokenizer_key = file_digest(spiece) if spiece else f"chars{LATIN_CHARS_PER_TOKEN}-{CJK_CHARS_PER_TOKEN}"
    field_key = "-".join(fields.source_fields) + "." + fields.target_field + "." + fields.source_prefix
    cache = cache_dir() / "token_lengths" / f"{file_digest(path)}-{tokenizer_key}-{_safe(field_key)}.json"
    if cache.exists():
        try:
            body = json.loads(cache.read_text(encoding="utf-8"))
            return FileTokens(path=path, source=body["source"], target=body["target"])
        except (ValueError, KeyError):
            pass  # a damaged cache is rebuilt, never trusted
    pairs = read_pairs(path, fields).pairs
    result = FileTokens(
        path=path,
        source=count_tokens([p.source for p in pairs], spiece),
        target=count_tokens([p.target for p in pairs], spiece),
    )
    write_bytes_atomic(cache, json.dumps({"source": result.source, "target": result.target}).encode("utf-8"))
    return result


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-._" else "_" for c in text)[:80]


def token_report(preset: Preset, build_tokenizer: bool = True) -> TokenReport:
    """Token statistics of the preset's data; `build_tokenizer=False` never trains the demo's."""
    spiece = find_spiece(preset, build=build_tokenizer)
    fields = PairFields.from_preset(preset)
    train = file_tokens(preset.train_file, fields, spiece)
    validation = file_tokens(preset.validation_file, fields, spiece) if preset.validation_file.exists() else None
    if spiece is not None:
        basis = Translatable(N_("counted with the preset's tokenizer ({tokenizer})"), tokenizer=spiece)
    else:
        basis = Translatable(N_("approximate: {model} tokenizer not on this machine, ≈{latin} chars/token (Latin), "
                                "{cjk} (CJK)"),
                             model=preset["model.name"], latin=f"{LATIN_CHARS_PER_TOKEN:g}", cjk=f"{CJK_CHARS_PER_TOKEN:g}")
    return TokenReport(
        train=train,
        validation=validation,
        max_source=preset["train.max_source_tokens"],
        max_target=preset["train.max_target_tokens"],
        basis=basis,
        exact=spiece is not None,
    )


@dataclass(frozen=True)
class TokenLengths:
    """Clipped (source, target) token lengths of the rows a run trains and evaluates on."""

    train: list[tuple[int, int]]
    validation: list[tuple[int, int]]
    basis: str
    exact: bool
    train_total: int = 0  # good rows in the train file, before the preset's view
    validation_total: int = 0

    @classmethod
    def for_preset(cls, preset: Preset, build_tokenizer: bool = True) -> TokenLengths:
        """Lengths from the real data (the token report), the preset's row view applied."""
        report = token_report(preset, build_tokenizer=build_tokenizer)
        train_all = report.train.clipped(report.max_source, report.max_target)
        keep = subsample_indices(len(train_all), preset["data.train_samples"], preset["data.train_fraction"], preset["data.seed"])
        train = [train_all[i] for i in keep]
        validation: list[tuple[int, int]] = []
        if report.validation is not None:
            val_all = report.validation.clipped(report.max_source, report.max_target)
            keep = subsample_indices(len(val_all), preset["data.validation_samples"], 1.0, preset["data.seed"])
            validation = [val_all[i] for i in keep]
        total_val = len(report.validation.source) if report.validation is not None else 0
        return cls(train, validation, report.basis, report.exact, len(train_all), total_val)
