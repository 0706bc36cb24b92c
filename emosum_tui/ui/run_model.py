"""A run's model for the console's screens: which folder, the run's preset, its validation rows.

The same rules as `evaluate`, `generate` and `try` (`core.model_dir`, `commands.model_session`),
but a problem is a value with a message for the screen to show, never a line on stderr: the
console owns the terminal. Torch-free: the model itself is loaded by the generation worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from emosum_tui.commands.model_session import ModelChoice
from emosum_tui.core.data import Pair, PairFields
from emosum_tui.i18n import _


@dataclass(frozen=True)
class ChoiceRead:
    """The model a run dir (or model folder) means, or why there is none to use."""

    choice: ModelChoice | None
    problem: str = ""


def read_choice(path: Path) -> ChoiceRead:
    """Resolve `path` and read the run's preset (a plain model folder has none: default fields)."""
    from emosum_tui.core.model_dir import ModelDirError, resolve_model_dir
    from emosum_tui.core.presets import PresetError
    from emosum_tui.core.rundir import load_run_preset

    try:
        resolved = resolve_model_dir(path)
    except ModelDirError as exc:
        return ChoiceRead(None, str(exc))
    preset = None
    if resolved.preset_file is not None:
        try:
            preset = load_run_preset(resolved.preset_file)
        except PresetError:
            preset = None  # the model is still usable with the default fields and token limits
    fields = PairFields.from_preset(preset) if preset is not None else PairFields()
    return ChoiceRead(ModelChoice(resolved, preset, fields))


@dataclass(frozen=True)
class RowsRead:
    """The good rows of the run's validation file (with the count of bad ones), or why none."""

    path: Path | None
    pairs: list[Pair]
    bad_rows: int = 0
    problem: str = ""


def validation_rows(choice: ModelChoice, data: Path | None = None) -> RowsRead:
    """`data`, else the run's validation file, read through the run's field mapping."""
    from emosum_tui.core.data import read_pairs

    path = data if data is not None else (choice.preset.validation_file if choice.preset is not None else None)
    if path is None:
        return RowsRead(None, [], problem=_("a model folder without a run: no validation file known"))
    try:
        read = read_pairs(path, choice.fields)
    except OSError as exc:
        return RowsRead(path, [], problem=f"{path}: {exc.strerror or exc}")
    return RowsRead(path, read.pairs, len(read.problems), "" if read.pairs else _("{path}: no usable rows").format(path=path))
