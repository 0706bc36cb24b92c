"""Preflight of the plan's files: the model (here, in the Hugging Face cache, or a download away)
and the train and validation data (present, and their rows parse)."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from emosum_tui.core.data import PairFields, read_pairs
from emosum_tui.core.presets import Preset
from emosum_tui.core.tokenizer_files import cached_hub_file
from emosum_tui.doctor.findings import Finding
from emosum_tui.i18n import N_
from emosum_tui.i18n.phrase import Joined, Phrase

HUB_WEIGHTS = ("model.safetensors", "pytorch_model.bin")
HUB_SIZES = {"google/mt5-small": 1.2e9, "google/mt5-base": 2.3e9, "google/mt5-large": 4.9e9}

# The words of check_data for each split: whole sentences, a split's name reads differently in each language.
DATA_TEXTS = {
    "train": {
        "missing": N_("the train file is missing"),
        "put": N_("put the file there or set data.train_file in {file}"),
        "empty": N_("the train file has no usable rows"),
        "bad": N_("the train file has bad rows (they will be skipped)"),
        "ok": N_("train data is valid"),
    },
    "validation": {
        "missing": N_("the validation file is missing"),
        "put": N_("put the file there or set data.validation_file in {file}"),
        "empty": N_("the validation file has no usable rows"),
        "bad": N_("the validation file has bad rows (they will be skipped)"),
        "ok": N_("validation data is valid"),
    },
}


def _offline() -> bool:
    return any(os.environ.get(name, "").strip().lower() in ("1", "true", "yes") for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def hub_reachable(timeout: float = 1.5) -> tuple[bool, Phrase]:
    """Can this machine open a connection to the Hugging Face hub (HF_ENDPOINT)? (answer, why)."""
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
    parts = urlsplit(endpoint)
    host, port = parts.hostname or "huggingface.co", parts.port or (80 if parts.scheme == "http" else 443)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True, Phrase(N_("{host}:{port} answers"), host=host, port=port)
    except OSError as exc:
        return False, Phrase(N_("{host}:{port} unreachable ({error})"), host=host, port=port, error=str(exc))


def check_model_available(preset: Preset, reachable: Callable[[], tuple[bool, Phrase | str]] = hub_reachable) -> list[Finding]:
    """The model's files are here (cache or local dir), or the first run will need the hub (is it reachable?)."""
    name = preset["model.name"]
    if preset.builds_model_from_config:
        return [Finding("model-ok", "ok", N_("model built from the preset's inline config"),
                        Phrase(N_('model.name = "{name}" (no download)'), name=name))]
    local = Path(name).expanduser()
    if local.is_dir():
        missing: list[Phrase | str] = [f for f in ("config.json", "spiece.model") if not (local / f).exists()]
        if not any((local / w).exists() for w in HUB_WEIGHTS):
            missing.append(Phrase(N_("{first} or {second}"), first=HUB_WEIGHTS[0], second=HUB_WEIGHTS[1]))
        if missing:
            return [Finding("model-incomplete", "error", N_("the local model folder is incomplete"),
                            Phrase(N_("{folder} lacks {files}"), folder=str(local), files=Joined(N_(", "), missing)),
                            Phrase(N_("copy a complete model into {folder} (save_pretrained)"), folder=str(local)))]
        return [Finding("model-ok", "ok", N_("model found in a local folder"), str(local))]
    config = cached_hub_file(name, "config.json")
    weights = next((p for w in HUB_WEIGHTS if (p := cached_hub_file(name, w)) is not None), None)
    if config is not None and weights is not None:
        return [Finding("model-ok", "ok", N_("model found in the local Hugging Face cache"), str(weights.parent))]
    size = HUB_SIZES.get(name)
    evidence = (Phrase(N_('"{name}" is not in the local Hugging Face cache (~{size} GB to download)'), name=name, size=f"{size / 1e9:.1f}")
                if size else Phrase(N_('"{name}" is not in the local Hugging Face cache'), name=name))
    fix = Phrase(N_("on a machine with internet: huggingface-cli download {name}; or set model.name to a local folder"), name=name)
    if _offline():
        return [Finding("model-not-available", "error", N_("the model is not here and the hub is switched off"),
                        Phrase(N_("{evidence}; HF_HUB_OFFLINE/TRANSFORMERS_OFFLINE is set"), evidence=evidence), fix)]
    ok, why = reachable()
    both = Joined(N_("; "), (evidence, why))
    if not ok:
        return [Finding("model-not-available", "error", N_("the model is not here and the hub cannot be reached"), both, fix)]
    return [Finding("model-download", "warning", N_("the model will be downloaded on the first run"), both, fix)]


def check_data(preset: Preset) -> list[Finding]:
    """The train and validation files exist and their rows parse (the data layer's rules)."""
    fields = PairFields.from_preset(preset)
    out: list[Finding] = []
    for label, path in (("train", preset.train_file), ("validation", preset.validation_file)):
        words = DATA_TEXTS[label]
        if not path.is_file():
            out.append(Finding(f"data-missing-{label}", "error", words["missing"], f"data.{label}_file -> {path}",
                               Phrase(words["put"], file=preset.path.name)))
            continue
        result = read_pairs(path, fields)
        if not result.pairs:  # a file_error (empty, not JSON Lines, GB18030) says why in one line
            out.append(Finding(f"data-empty-{label}", "error", words["empty"],
                               result.file_error() or Phrase(N_("{path}: 0 good rows, {bad} bad"), path=str(path), bad=len(result.problems)),
                               f"emosum-tui data check {path}"))
        elif result.problems:
            first = Joined(N_("; "), [Phrase("{path}:{line}: {reason}", path=str(p.path), line=p.line, reason=p.reason)
                                      for p in result.problems[:3]])
            out.append(Finding(f"data-bad-rows-{label}", "warning", words["bad"],
                               Phrase(N_("{good} good, {bad} bad: {first}"), good=len(result.pairs), bad=len(result.problems), first=first),
                               Phrase(N_("emosum-tui data check {path} lists them all"), path=str(path))))
        else:
            out.append(Finding(f"data-ok-{label}", "ok", words["ok"],
                               Phrase(N_("{path}: {rows} rows"), path=str(path), rows=len(result.pairs))))
    return out
