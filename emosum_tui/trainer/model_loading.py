"""The model and tokenizer a preset names: a hub name (local cache), a local folder, or the demo.

Hub names never trigger a long hang on an offline machine: when `HF_HUB_OFFLINE` is set or the
hub cannot be reached, loading is local-only and a missing model is a `ModelNotAvailable` whose
message says exactly that. The demo builds a tiny mT5 from the preset's inline config with a
SentencePiece tokenizer trained on the bundled sample (built once, cached, deterministic).
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from emosum_tui.core.presets import Preset
from emosum_tui.core.tokenizer_files import find_spiece, hf_hub_cache
from emosum_tui.trainer.health import ModelNotAvailable

TRUE = ("1", "true", "yes", "on")
HUB_PROBE_SECONDS = 3.0  # an unreachable hub must not hold up the start of a run
HTTPS_PORT = 443


@dataclass
class LoadedModel:
    model: Any
    tokenizer: Any
    source: str  # what was loaded, for the event log ("config-built", a path, "google/mt5-small (local cache)")
    spiece: Path | None  # the SentencePiece model, copied next to the final model


def hub_reachable(timeout: float = HUB_PROBE_SECONDS) -> bool:
    host = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co")).hostname or "huggingface.co"
    try:
        with socket.create_connection((host, HTTPS_PORT), timeout=timeout):
            return True
    except OSError:
        return False


def hub_offline() -> bool:
    return any(os.environ.get(name, "").lower() in TRUE for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def build_demo(preset: Preset) -> LoadedModel:
    """A tiny mT5 from the preset's inline config; seeded, so the same preset gives the same weights."""
    import torch
    from transformers import MT5Config, MT5ForConditionalGeneration, T5Tokenizer

    spiece = find_spiece(preset, build=True)
    assert spiece is not None  # built on demand for an inline-config preset
    # transformers converts a folder holding `spiece.model` into its fast T5 tokenizer.
    tokenizer = T5Tokenizer.from_pretrained(str(spiece.parent), extra_ids=0)
    settings = dict(preset["model.config"])
    settings.update(
        vocab_size=len(tokenizer),
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.pad_token_id,
    )
    settings.setdefault("tie_word_embeddings", False)  # as in mT5: the LM head is its own matrix
    torch.manual_seed(preset["data.seed"])
    model = MT5ForConditionalGeneration(MT5Config(**settings))
    return LoadedModel(model, tokenizer, f"config-built mT5 (vocab {len(tokenizer)})", spiece)


def load_pretrained(preset: Preset) -> LoadedModel:
    """A local folder or a hub name, never a silent download on an offline machine."""
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    name = preset["model.name"]
    local = Path(name).expanduser()
    if local.is_dir():
        tokenizer = AutoTokenizer.from_pretrained(str(local))
        model = AutoModelForSeq2SeqLM.from_pretrained(str(local))
        return LoadedModel(model, tokenizer, str(local), find_spiece(preset, build=False))
    offline = hub_offline() or not hub_reachable()
    try:
        tokenizer = AutoTokenizer.from_pretrained(name, local_files_only=offline)
        model = AutoModelForSeq2SeqLM.from_pretrained(name, local_files_only=offline)
    except OSError as exc:
        where = "the hub cannot be reached" if offline else "downloading it failed"
        raise ModelNotAvailable(f"{name} is not in the local cache at {hf_hub_cache()} and {where}: {exc}") from exc
    source = f"{name} ({'local cache' if offline else 'hub or local cache'})"
    return LoadedModel(model, tokenizer, source, find_spiece(preset, build=False))


def load_model(preset: Preset) -> LoadedModel:
    loaded = build_demo(preset) if preset.builds_model_from_config else load_pretrained(preset)
    if preset["model.gradient_checkpointing"]:
        loaded.model.config.use_cache = False  # the cache is useless (and warned about) with checkpointing
    return loaded
