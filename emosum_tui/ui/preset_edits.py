"""Editing a preset in the console: parse a typed value, validate it like a file, save the result.

An edit goes through the same strict loader as a preset file (the candidate is written as a
derived preset, `extends = <name>` plus the changes, and loaded), so a bad value reads exactly
like a mistake in a `.toml` file. Saving writes `presets/<new>.toml` with only the changes and
never replaces an existing file.
"""

from __future__ import annotations

import dataclasses
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

from emosum_tui.builtin import BUILTIN_PRESETS
from emosum_tui.core.paths import presets_dir
from emosum_tui.core.presets import (
    SCHEMA,
    Preset,
    PresetError,
    derived_preset_text,
    format_toml_value,
    load_preset,
    preset_reference,
)
from emosum_tui.i18n import _

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def field_of(key: str) -> Any:
    section, name = key.split(".", 1)
    return SCHEMA[section][name]


def parse_value(key: str, text: str) -> Any:
    """What the user typed, read as a TOML value (`4`, `1e-4`, `true`, `["a", "b"]`).

    A bare word for a text field is taken as that text, so `google/mt5-small` needs no quotes.
    Raises PresetError naming the key and the text when it is not a value at all."""
    text = text.strip()
    is_text = field_of(key).kind is str
    try:
        value = tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        if is_text and text:
            return text
        raise PresetError(_("key '{key}' = {text}: not a value (examples: 4, 1e-4, true, \"text\", [\"a\", \"b\"])").format(
            key=key, text=repr(text))) from None
    return text if is_text and not isinstance(value, str) else value  # a folder named 123 is still text


def apply_changes(base: Preset, changes: dict[str, Any]) -> Preset:
    """`base` with `changes`, loaded through the strict loader; raises PresetError like a file would.

    The result is named `<base>*` (unsaved) and its parent is `base`, so the presets table can
    mark exactly the edited values."""
    if not changes:
        return base
    text = _derived_text(base, changes, base.description)
    with tempfile.TemporaryDirectory(prefix="emosum-edit-") as folder:
        path = Path(folder) / f"{base.name}.edited.toml"
        path.write_text(text, encoding="utf-8")
        try:
            loaded = load_preset(path)
        except PresetError as exc:
            raise PresetError(str(exc).replace(str(path), _("{name} (edited)").format(name=base.name))) from None
    return dataclasses.replace(loaded, name=f"{base.name}*", path=base.path, parent=base, description=base.description)


def _derived_text(base: Preset, changes: dict[str, Any], description: str) -> str:
    """`derived_preset_text`, with `extends` as a path when `base`'s name would not find it
    (a file outside presets/, or a built-in that a workspace preset shadows)."""
    text = derived_preset_text(base, changes, description)
    reference = preset_reference(base)
    if reference != base.name:
        text = text.replace(f"extends = {format_toml_value(base.name)}", f"extends = {format_toml_value(reference)}", 1)
    return text


def check_new_name(name: str) -> str | None:
    """Why `name` cannot be a new preset file name, or None when it can."""
    if not NAME_PATTERN.match(name):
        return _("'{name}': use letters, digits, '-', '_' or '.' (no spaces or slashes)").format(name=name)
    target = presets_dir() / f"{name}.toml"
    if target.exists():
        return _("{path} already exists: choose another name (existing presets are never overwritten)").format(path=target)
    if (BUILTIN_PRESETS / f"{name}.toml").exists():
        return _("a built-in preset '{name}' already exists: choose another name (a file of that name would replace it)").format(name=name)
    return None


def save_new_preset(base: Preset, changes: dict[str, Any], name: str, description: str = "") -> Path:
    """Write `presets/<name>.toml` = `extends = base` + `changes`; refuse to replace a file."""
    problem = check_new_name(name)
    if problem:
        raise PresetError(problem)
    # The description is written into the preset file: English, like every file the tool writes.
    text = _derived_text(base, changes, description or f"{base.name} with {len(changes)} change(s) made in the console")
    target = presets_dir() / f"{name}.toml"
    target.parent.mkdir(parents=True, exist_ok=True)  # a new workspace has no presets/ yet
    with target.open("x", encoding="utf-8") as handle:  # "x": fails rather than overwrite a file made meanwhile
        handle.write(text)
    try:
        load_preset(target)
    except PresetError:
        target.unlink()  # never leave a preset file behind that does not load
        raise
    return target


def load_presets(preselect: str | None, selected: int = 0) -> tuple[list[Preset], int, list[str]]:
    """Every preset in presets/, plus `preselect` (a name or a .toml path) when it is elsewhere;
    returns the presets, the index to select and the load errors to show."""
    from emosum_tui.core.presets import load_all

    presets, errors = load_all()
    messages = [str(e) for e in errors]
    if preselect:
        try:
            wanted = load_preset(preselect)
        except PresetError as exc:
            messages.append(str(exc))
        else:
            if wanted.path not in [p.path for p in presets]:
                presets.append(wanted)
            selected = next(i for i, p in enumerate(presets) if p.path == wanted.path)
    return presets, min(selected, max(0, len(presets) - 1)), messages
