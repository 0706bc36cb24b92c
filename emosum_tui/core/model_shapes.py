"""The shape of a preset's mT5, known without downloading or importing anything heavy.

The cost model needs layer sizes, not weights. The public mT5 configs are facts (DESIGN.md):
vocab 250,112, gated-GELU feed-forward, an LM head *untied* from the embedding in the real
checkpoints (transformers 5 keeps a checkpoint's separate `lm_head.weight` when it loads one).
A local model folder gives its `config.json`; the demo's inline config gives the rest, with
the vocabulary of its trained tokenizer. A model built from an inline config by
`MT5Config(**config)` in transformers 5 ties the LM head to the embedding (MT5Config forces
`tie_word_embeddings=True`), unless the inline config says `tie_word_embeddings = false`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emosum_tui.i18n import N_, _
from emosum_tui.i18n.phrase import Translatable

if TYPE_CHECKING:
    from emosum_tui.core.presets import Preset

MT5_VOCAB = 250_112


@dataclass(frozen=True)
class ModelShape:
    """What the cost model prices: the sizes of one T5 v1.1 / mT5 encoder-decoder."""

    d_model: int
    d_ff: int
    d_kv: int
    num_layers: int
    num_decoder_layers: int
    num_heads: int
    vocab_size: int
    tied_lm_head: bool = False
    gated: bool = True
    relative_attention_num_buckets: int = 32
    name: str = ""

    @property
    def inner(self) -> int:
        """Width of the attention projections (heads x d_kv; 384 for mt5-small, not 512)."""
        return self.num_heads * self.d_kv

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def key(self) -> str:
        """A stable text key for caches (same shape = same speed)."""
        parts = (self.d_model, self.d_ff, self.d_kv, self.num_layers, self.num_decoder_layers, self.num_heads, self.vocab_size)
        return "x".join(str(p) for p in parts) + ("-tied" if self.tied_lm_head else "") + ("" if self.gated else "-relu")

    def mt5_config_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for `transformers.MT5Config` (the probe builds this model)."""
        return {
            "d_model": self.d_model,
            "d_ff": self.d_ff,
            "d_kv": self.d_kv,
            "num_layers": self.num_layers,
            "num_decoder_layers": self.num_decoder_layers,
            "num_heads": self.num_heads,
            "vocab_size": self.vocab_size,
            "feed_forward_proj": "gated-gelu" if self.gated else "relu",
            "relative_attention_num_buckets": self.relative_attention_num_buckets,
        }


def _mt5(name: str, d_model: int, d_ff: int, layers: int, heads: int) -> ModelShape:
    return ModelShape(d_model, d_ff, 64, layers, layers, heads, MT5_VOCAB, tied_lm_head=False, name=name)


# The published google/mt5-* configs (config.json on the hub), so no download is needed.
KNOWN_SHAPES: dict[str, ModelShape] = {
    "google/mt5-small": _mt5("google/mt5-small", 512, 1024, 8, 6),
    "google/mt5-base": _mt5("google/mt5-base", 768, 2048, 12, 12),
    "google/mt5-large": _mt5("google/mt5-large", 1024, 2816, 24, 16),
    "google/mt5-xl": _mt5("google/mt5-xl", 2048, 5120, 24, 32),
}


class ShapeError(ValueError):
    """A model whose shape cannot be known here (message names the preset key and value)."""


def shape_from_config(config: dict[str, Any], name: str = "", vocab_size: int | None = None, tied_default: bool = False) -> ModelShape:
    """A shape from a `config.json`-like dict (missing keys take MT5Config's defaults)."""
    num_layers = int(config.get("num_layers", 8))
    proj = str(config.get("feed_forward_proj", "gated-gelu"))
    tied = config.get("tie_word_embeddings", tied_default)
    return ModelShape(
        d_model=int(config.get("d_model", 512)),
        d_ff=int(config.get("d_ff", 1024)),
        d_kv=int(config.get("d_kv", 64)),
        num_layers=num_layers,
        num_decoder_layers=int(config.get("num_decoder_layers") or num_layers),
        num_heads=int(config.get("num_heads", 6)),
        vocab_size=int(vocab_size if vocab_size is not None else config.get("vocab_size", MT5_VOCAB)),
        tied_lm_head=bool(tied),
        gated=proj.startswith("gated"),
        relative_attention_num_buckets=int(config.get("relative_attention_num_buckets", 32)),
        name=name,
    )


def demo_vocab_size(preset: Preset) -> tuple[int, str]:
    """The vocabulary a config-built model gets: the trained tokenizer's pieces when it is
    built, else the preset's `model.tokenizer_vocab_size`."""
    from emosum_tui.core.tokenizer_files import find_spiece

    spiece = find_spiece(preset, build=False)
    if spiece is not None:
        import sentencepiece as spm

        size = spm.SentencePieceProcessor(model_file=str(spiece)).get_piece_size()
        return size, Translatable(N_("vocab {size} from the trained tokenizer {file}"), size=size, file=spiece.name)
    size = int(preset["model.tokenizer_vocab_size"])
    return size, Translatable(N_("vocab {size} from model.tokenizer_vocab_size (tokenizer not built yet)"), size=size)


TRIMMED_MARK = "trimmed vocabulary: "  # in a shape's basis, before how the kept pieces were counted
TRIMMED_SHAPE = N_("{shape}; trimmed vocabulary: {kept}")  # that basis (`shape_for`), English: "{shape}; " + TRIMMED_MARK + ...


def vocabulary_basis(shape: ModelShape, shape_basis: str) -> str:
    """How the vocabulary size was found: the kept count's basis for a trimmed preset."""
    if TRIMMED_MARK not in shape_basis:
        return Translatable(N_("{pieces} pieces"), pieces=f"{shape.vocab_size:,}")
    if isinstance(shape_basis, Translatable) and "kept" in shape_basis.values:
        kept = shape_basis.values["kept"]  # the kept count's own basis, translatable
    else:
        kept = shape_basis.split(TRIMMED_MARK, 1)[1]
    return Translatable(N_("{kept}; a trimmed model can write only these pieces (model.trim_extra_files adds texts)"), kept=kept)


def shape_for(preset: Preset) -> tuple[ModelShape, str]:
    """The preset's model shape and where it came from (the basis shown to the user); with
    `model.trim_vocabulary`, the vocabulary is the pieces its data keeps."""
    shape, basis = source_shape(preset)
    if not preset["model.trim_vocabulary"]:
        return shape, basis
    from emosum_tui.core.vocab_trim import TrimError, kept_count

    try:
        kept = kept_count(preset, shape.vocab_size)
    except TrimError as exc:
        raise ShapeError(str(exc)) from None
    return replace(shape, vocab_size=kept.size), Translatable(TRIMMED_SHAPE, shape=basis, kept=kept.basis)


def source_shape(preset: Preset) -> tuple[ModelShape, str]:
    """The shape of the model the preset names, before any trim."""
    name = preset["model.name"]
    if preset.builds_model_from_config:
        vocab, vocab_basis = demo_vocab_size(preset)
        # MT5Config(**config) in transformers 5 ties the LM head whatever the kwarg says.
        shape = shape_from_config(preset["model.config"], name=name, vocab_size=vocab, tied_default=True)
        if shape.tied_lm_head:
            template = N_("inline model.config of preset {preset}, {vocab}, LM head tied to the embedding (MT5Config default)")
        else:
            template = N_("inline model.config of preset {preset}, {vocab}, LM head untied")
        return shape, Translatable(template, preset=preset.name, vocab=vocab_basis)
    local = Path(name).expanduser()
    if local.is_dir():
        config_path = local / "config.json"
        try:
            config = json.loads(config_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ShapeError(_("{path}: key '{key}' = {value}: no config.json in that folder").format(
                path=preset.path, key="model.name", value=repr(name))) from None
        except ValueError as exc:
            raise ShapeError(_("{path}: not valid JSON: {error}").format(path=config_path, error=exc)) from None
        return shape_from_config(config, name=name), f"{config_path}"
    if name in KNOWN_SHAPES:
        return KNOWN_SHAPES[name], Translatable(N_("published {model} config (known offline)"), model=name)
    from emosum_tui.core.tokenizer_files import cached_hub_file

    cached = cached_hub_file(name, "config.json")
    if cached is not None:
        config = json.loads(cached.read_text(encoding="utf-8"))
        return shape_from_config(config, name=name), Translatable(N_("{file} (local HF cache)"), file=cached)
    known = ", ".join(KNOWN_SHAPES)
    raise ShapeError(_("{path}: key '{key}' = {value}: shape unknown offline (known: {known}; or a local folder with "
                       "config.json; or a model in the local HF cache)").format(
        path=preset.path, key="model.name", value=repr(name), known=known))
