"""Which model folder a user means: a run directory, a training output folder, or a model folder.

The rule: a run dir means its final model (`<output_dir>/final`, the output dir from the run's
status file or its `done` event), else its latest `checkpoint-N` with a note saying so; a folder
holding `final/` or checkpoints means the same; a model folder is used as is. Either way the
folder must be a seq2seq model with weights and a tokenizer, checked here from files alone, so
a bad path is one clear message naming it before any subprocess imports torch. Messages are
in the interface's language (they are only ever shown). Torch-free.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emosum_tui.core.checkpoints import checkpoint_problem, checkpoints
from emosum_tui.core.run_state_words import state_word
from emosum_tui.core.rundir import PRESET_FILE, is_run_dir, read_run
from emosum_tui.i18n import _

FINAL_DIR = "final"
WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json")
TOKENIZER_FILES = ("tokenizer.json", "spiece.model", "sentencepiece.bpe.model", "vocab.json", "vocab.txt")


class ModelDirError(ValueError):
    """A folder that cannot be generated from; the message names the path and what is missing."""


@dataclass(frozen=True)
class ResolvedModel:
    """The model folder to load, where it came from, and the run's preset when there is one."""

    model_dir: Path
    kind: str  # "final", "checkpoint" or "model"
    run_dir: Path | None = None
    preset_file: Path | None = None  # the run's preset.toml: its data fields and token limits
    step: int | None = None  # a checkpoint's optimizer step
    note: str = ""  # said to the user when the choice is not the obvious one

    def describe(self) -> str:
        where = f"{self.model_dir}"
        if self.kind == "checkpoint":
            where = _("{folder} (checkpoint at step {step})").format(folder=where, step=self.step)
        return _("{model}; {note}").format(model=where, note=self.note) if self.note else where


def check_model_dir(path: Path) -> None:
    """Raise ModelDirError unless `path` holds an encoder-decoder config, weights and a tokenizer."""
    config_path = path / "config.json"
    if not path.is_dir():
        raise ModelDirError(_("{path}: no such folder").format(path=path))
    if not config_path.is_file():
        raise ModelDirError(_("{path}: not a model folder (no config.json) and not a run directory").format(path=path))
    try:
        config: Any = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelDirError(_("{path}: unreadable ({error})").format(path=config_path, error=exc)) from exc
    if not isinstance(config, dict):
        raise ModelDirError(_("{path}: not a JSON object").format(path=config_path))
    architectures = [str(a) for a in config.get("architectures") or []]
    seq2seq = config.get("is_encoder_decoder") is True or any(a.endswith("ForConditionalGeneration") for a in architectures)
    if not seq2seq:
        kind = config.get("model_type") or "unknown"
        raise ModelDirError(_("{path}: model_type {kind} is not an encoder-decoder (seq2seq) model").format(
            path=config_path, kind=repr(kind)))
    if not any((path / name).is_file() for name in WEIGHT_FILES):
        raise ModelDirError(_("{path}: no weights ({files})").format(path=path, files=" / ".join(WEIGHT_FILES[::2])))
    if not any((path / name).is_file() for name in TOKENIZER_FILES):
        raise ModelDirError(_("{path}: no tokenizer ({files}); save one with the model").format(
            path=path, files=" / ".join(TOKENIZER_FILES[:2])))


def latest_checkpoint(output_dir: Path) -> tuple[Path, int] | None:
    """The newest complete `checkpoint-N` under `output_dir`, with N: a save cut short is
    skipped, as `--resume` skips it (core.checkpoints)."""
    complete = [(step, path) for step, path in checkpoints(output_dir) if checkpoint_problem(path) is None]
    if not complete:
        return None
    step, path = complete[-1]
    return path, step


def _from_output_dir(output_dir: Path, run_dir: Path | None, final_path: str | None, why_no_final: str) -> ResolvedModel:
    preset_file = run_dir / PRESET_FILE if run_dir is not None and (run_dir / PRESET_FILE).is_file() else None
    final = Path(final_path) if final_path else output_dir / FINAL_DIR
    if final.is_dir():
        check_model_dir(final)
        return ResolvedModel(final, "final", run_dir, preset_file)
    latest = latest_checkpoint(output_dir)
    if latest is None:
        where = run_dir if run_dir is not None else output_dir
        raise ModelDirError(_("{path}: no final model and no checkpoint in {folder} ({why})").format(
            path=where, folder=output_dir, why=why_no_final))
    path, step = latest
    check_model_dir(path)
    note = _("no final model ({why}): using the latest checkpoint, {checkpoint}").format(why=why_no_final, checkpoint=path.name)
    return ResolvedModel(path, "checkpoint", run_dir, preset_file, step=step, note=note)


def _run_output_dir(run_dir: Path, recorded: str) -> Path | None:
    if recorded:
        return Path(recorded)
    from emosum_tui.core.presets import PresetError
    from emosum_tui.core.rundir import load_run_preset

    try:
        return load_run_preset(run_dir / PRESET_FILE).output_dir
    except (PresetError, OSError):
        return None


def resolve_model_dir(path: str | Path) -> ResolvedModel:
    """The model folder `path` stands for (see the module's rule); raises ModelDirError."""
    path = Path(path).expanduser()
    if not path.exists():
        raise ModelDirError(_("{path}: no such folder").format(path=path))
    if not path.is_dir():
        raise ModelDirError(_("{path}: a file, not a model folder or a run directory").format(path=path))
    if (path / "config.json").is_file():
        check_model_dir(path)
        return ResolvedModel(path, "model")
    if is_run_dir(path):
        summary = read_run(path)
        output_dir = _run_output_dir(path, summary.output_dir)
        if output_dir is None:
            raise ModelDirError(_("{path}: the run records no output folder (status.json, events.jsonl and preset.toml say "
                                  "none)").format(path=path))
        status = state_word(summary.status)
        why = (_("the run is {status} at step {step}").format(status=status, step=summary.steps) if summary.steps
               else _("the run is {status}").format(status=status))
        return _from_output_dir(output_dir, path, summary.final_path, why)
    if (path / FINAL_DIR).is_dir() or latest_checkpoint(path) is not None:
        return _from_output_dir(path, None, None, _("no final/ folder"))
    raise ModelDirError(_("{path}: not a model folder (no config.json) and not a run directory").format(path=path))
