"""Failure advice: a run ended in an error; say what happened and the smallest change that fixes it.

`advise(run_dir)` reads the run's event log and the preset as run and returns a
`FailureAdvice`. Where the fix is a preset change that a checkpoint can safely continue under
(halving the micro-batch while doubling grad-accum keeps the effective batch, so the Trainer's
step count and data position stay the same), `apply_and_resume` writes a derived preset next
to the run (`<run_dir>/preset-<fix>.toml`, extending the preset as run) and resumes from the
last checkpoint. Torch-free; nothing is deleted (an incomplete checkpoint is set aside by renaming).
The advice reads in the interface's language of the moment it is made; `to_dict` and the
derived preset keep the English.
"""

from __future__ import annotations

import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from emosum_tui.core.checkpoints import last_complete_checkpoint, set_aside_incomplete_checkpoints
from emosum_tui.core.events import EVENTS_FILE, CheckpointSaved, Error, RunStart, read_events
from emosum_tui.core.presets import Preset, PresetError, dump_toml, load_preset
from emosum_tui.doctor.findings import Finding, gib
from emosum_tui.i18n import N_
from emosum_tui.i18n.phrase import Joined, Phrase, Said, english
from emosum_tui.monitor.resources import free_disk_at


@dataclass(frozen=True)
class FailureAdvice:
    """One failed run, explained. `changes` is the preset change "apply and resume" makes ({} = none offered).
    `title`, `happened` and `fix` are `Said`: shown as they are, English in `to_dict` and files."""

    classification: str
    title: str
    happened: str  # what the trainer said, with the step and numbers
    fix: str  # the smallest change that fixes it
    changes: dict[str, Any] = field(default_factory=dict)
    suffix: str = ""  # names the derived preset: preset-<suffix>.toml
    checkpoint: Path | None = None  # where a resume continues from
    trainer_advice: tuple[str, ...] = ()

    @property
    def can_resume(self) -> bool:
        """Apply-and-resume is offered: a safe change (or none needed) and a checkpoint to continue from."""
        return (bool(self.changes) or self.classification == "interrupted") and self.checkpoint is not None

    def as_finding(self) -> Finding:
        return Finding(self.classification, "error", self.title, self.happened, self.fix)

    def to_dict(self) -> dict[str, Any]:
        """The advice for `--json`: English, whatever the interface's language."""
        return {**asdict(self), "title": english(self.title), "happened": english(self.happened), "fix": english(self.fix)}


def _advice(kind: str, title: str, happened: Said, fix: Phrase | str, **rest: Any) -> FailureAdvice:
    return FailureAdvice(kind, Said(title), happened, Said(fix), **rest)


def _preset_as_run(run_dir: Path) -> Preset | None:
    try:
        return load_preset(run_dir / "preset.toml")
    except PresetError:
        return None


def _output_dir(run_dir: Path, preset: Preset | None) -> Path | None:
    starts = [e for e in read_events(run_dir / EVENTS_FILE) if isinstance(e, RunStart)]
    if starts and starts[-1].output_dir:
        return Path(starts[-1].output_dir)
    return preset.output_dir if preset else None


def advise(run_dir: Path) -> FailureAdvice | None:
    """Advice for the run's error, or None when it has not failed (or was resumed since)."""
    run_dir = Path(run_dir)
    events = read_events(run_dir / EVENTS_FILE)
    starts = [i for i, e in enumerate(events) if isinstance(e, RunStart)]
    current = events[starts[-1]:] if starts else events  # a resume starts a new chapter of the log
    errors = [e for e in current if isinstance(e, Error)]
    if not errors:
        return None
    preset = _preset_as_run(run_dir)
    output_dir = _output_dir(run_dir, preset)
    checkpoint = last_complete_checkpoint(output_dir) if output_dir else None
    saved = [e for e in events if isinstance(e, CheckpointSaved)]
    disk_free = free_disk_at(output_dir) if output_dir else None
    return advice_for(errors[-1], preset, checkpoint, saved[-1].bytes if saved else None, disk_free)


def advice_for(error: Error, preset: Preset | None, checkpoint: Path | None = None, checkpoint_bytes: int | None = None,
               disk_free: int | None = None) -> FailureAdvice:
    """The smallest fix for one error (pure: tests call it with recorded errors)."""
    kind_of = error.type or Phrase(N_("error"))
    happened = Said(Phrase(N_("{kind} at step {step}: {message}"), kind=kind_of, step=error.step, message=error.message) if error.step
                    else Phrase(N_("{kind}: {message}"), kind=kind_of, message=error.message), strip=True)
    common = {"checkpoint": checkpoint, "trainer_advice": tuple(error.advice)}
    kind = error.classification
    if kind == "out-of-memory":
        return _oom(preset, happened, common)
    if kind == "nan-loss":
        return _nan(preset, happened, common)
    if kind == "model-not-available":
        name = preset["model.name"] if preset else Phrase(N_("the model"))
        return _advice(kind, N_("the model is not on this machine"), happened,
                       Phrase(N_("on a machine with internet: huggingface-cli download {name} (then copy the Hugging Face cache), "
                                 "or set model.name to a local folder that holds it"), name=name), **common)
    if kind == "disk-full":
        return _disk_full(preset, happened, checkpoint_bytes, disk_free, common)
    if kind == "bad-data":
        path = str(preset.train_file) if preset else Phrase(N_("the data file"))
        return _advice(kind, N_("the data could not be used"), happened,
                       Phrase(N_("emosum-tui data check {path} lists every bad line"), path=path), **common)
    if kind == "interrupted":
        return _advice(kind, N_("the run was interrupted"), happened, N_("resume it: nothing needs to change"), **common)
    return _advice(kind, N_("the trainer failed"), happened, N_("see stderr.log in the run folder for the full traceback"), **common)


def _oom(preset: Preset | None, happened: Said, common: dict[str, Any]) -> FailureAdvice:
    title = N_("out of memory")
    if preset is None:
        return _advice("out-of-memory", title, happened, N_("halve train.batch_size and double train.grad_accum"), **common)
    batch, accum = preset["train.batch_size"], preset["train.grad_accum"]
    if batch > 1:
        half = batch // 2
        new_accum = accum * 2 if batch % 2 == 0 else accum * batch // half
        effective = half * new_accum
        figures = {"batch": batch, "half": half, "accum": accum, "new_accum": new_accum, "effective": effective}
        if effective == batch * accum:
            fix = Phrase(N_("train.batch_size {batch} -> {half} and train.grad_accum {accum} -> {new_accum}: the effective batch stays "
                            "{effective}; the same number of optimizer steps, about the same time per step"), **figures)
        else:
            fix = Phrase(N_("train.batch_size {batch} -> {half} and train.grad_accum {accum} -> {new_accum}: the effective batch stays "
                            "{effective} (was {was}); the same number of optimizer steps, about the same time per step"),
                         **figures, was=batch * accum)
        return _advice("out-of-memory", title, happened, fix,
                       changes={"train.batch_size": half, "train.grad_accum": new_accum}, suffix="halfbatch", **common)
    if not preset["model.gradient_checkpointing"]:
        return _advice("out-of-memory", title, happened,
                       N_("train.batch_size is already 1: set model.gradient_checkpointing = true "
                          "(much less activation memory, about 30% slower)"),
                       changes={"model.gradient_checkpointing": True}, suffix="checkpointing", **common)
    source, target = preset["train.max_source_tokens"], preset["train.max_target_tokens"]
    return _advice("out-of-memory", title, happened,
                   Phrase(N_("batch 1 with gradient checkpointing still does not fit: start a new run with shorter "
                             "train.max_source_tokens ({source} -> {half}) / max_target_tokens ({target}), or "
                             "train.optimizer = \"adafactor\" (about half AdamW's memory)"), source=source, half=source // 2, target=target),
                   **common)


def _nan(preset: Preset | None, happened: Said, common: dict[str, Any]) -> FailureAdvice:
    title = N_("the loss became NaN/inf")
    if preset is not None and preset["train.precision"] == "fp16":
        return _advice("nan-loss", title, happened,
                       N_("mT5 overflows in fp16: train.precision \"fp16\" -> \"auto\" (bf16 where the GPU has it, else fp32); "
                          "the last checkpoint was saved before the NaN"),
                       changes={"train.precision": "auto"}, suffix="no-fp16", **common)
    lr = preset["train.learning_rate"] if preset else None
    # A resumed run restores the scheduler's learning rate from the checkpoint, so a new rate needs a new run.
    if lr:
        fix: Phrase | str = Phrase(N_("start a new run with train.learning_rate {rate} -> {half} and train.grad_clip = 1.0 (AdamW)"),
                                   rate=f"{lr:g}", half=f"{lr / 2:g}")
    else:
        fix = N_("lower train.learning_rate and train.grad_clip = 1.0 (AdamW)")
    return _advice("nan-loss", title, happened, fix, **common)


def _disk_full(preset: Preset | None, happened: Said, checkpoint_bytes: int | None, disk_free: int | None,
               common: dict[str, Any]) -> FailureAdvice:
    where = str(preset.output_dir) if preset else Phrase(N_("the output folder"))
    parts = [Phrase(N_("each checkpoint is {size}"), size=gib(checkpoint_bytes))] if checkpoint_bytes else []
    parts.append(Phrase(N_("{free} free at {where}: free space there or set save.output_dir on a bigger disk"),
                        free=gib(disk_free), where=where))
    changes: dict[str, Any] = {}
    if preset is not None and preset["save.checkpoints_kept"] > 1:
        parts.append(Phrase(N_("keep fewer checkpoints: save.checkpoints_kept {kept} -> 1"), kept=preset["save.checkpoints_kept"]))
        changes = {"save.checkpoints_kept": 1}
    return _advice("disk-full", N_("the disk is full"), happened, Joined(N_("; "), parts), changes=changes,
                   suffix="fewer-checkpoints", **common)


# ---------------------------------------------------------------------------------------------
# Apply and resume.


def write_derived_preset(run_dir: Path, changes: dict[str, Any], suffix: str, why: str = "") -> Path:
    """`<run_dir>/preset-<suffix>.toml`: the preset as run plus `changes` (it extends `preset.toml`).

    The output dir is pinned to the run's, so the resumed run finds its checkpoints."""
    run_dir = Path(run_dir)
    parent = load_preset(run_dir / "preset.toml")
    tables: dict[str, Any] = {"extends": "preset.toml", "description": f"{parent.description} ({why or suffix})".strip()}
    for key, value in {**changes, "save.output_dir": str(parent.output_dir)}.items():
        section, name = key.split(".", 1)
        tables.setdefault(section, {})[name] = value
    path = run_dir / f"preset-{suffix or 'fixed'}.toml"
    path.write_text(f"# Written by the failure advice of {run_dir.name}: {why or suffix}\n" + dump_toml(tables), encoding="utf-8")
    load_preset(path)  # a derived preset that does not load is a bug here, not a user error: fail now
    return path


def prepare_resume(run_dir: Path, advice: FailureAdvice) -> Path:
    """Write the derived preset and set incomplete checkpoints aside; returns the preset file
    to resume with (the run's own `preset.toml` when the fix changes nothing)."""
    if not advice.can_resume:
        raise ValueError(f"{run_dir}: no safe apply-and-resume for {advice.classification} ({english(advice.fix)})")
    if advice.changes:
        derived = write_derived_preset(run_dir, advice.changes, advice.suffix, english(advice.title))
    else:
        derived = Path(run_dir) / "preset.toml"
    if advice.checkpoint is not None:
        set_aside_incomplete_checkpoints(advice.checkpoint.parent)
    return derived


def apply_and_resume(run_dir: Path, advice: FailureAdvice, env: dict[str, str] | None = None) -> tuple[Path, subprocess.Popen]:
    """`prepare_resume`, then resume the run from its last checkpoint; returns (preset path, trainer process)."""
    from emosum_tui.core.rundir import launch_trainer

    derived = prepare_resume(run_dir, advice)
    return derived, launch_trainer(derived, Path(run_dir), resume=True, env=env)
