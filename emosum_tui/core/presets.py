"""Training presets: strict TOML files that may extend one another.

A preset is visible data. `full.toml` says `extends = "original"` and lists only what it
changes, so the difference between two plans is explicit and can be priced by the cost model.
Loading is strict: an unknown key, a wrong type or an impossible value is a `PresetError`
whose message names the file, the key and the value. Torch-free: the console uses this.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from emosum_tui.builtin import BUILTIN_PRESETS, BUILTIN_ROOT
from emosum_tui.core.paths import presets_dir, workspace
from emosum_tui.core.preset_fields import Field
from emosum_tui.core.preset_schema import SCHEMA, TOP_LEVEL
from emosum_tui.i18n import _, pgettext

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


class PresetError(ValueError):
    """A preset file the user can fix: the message names file, key and value (in the interface's
    language of the moment it is raised)."""


class ExtendsCycleError(PresetError):
    """`extends` leads back to a file already on the chain."""


# ---------------------------------------------------------------------------------------------
# The loaded preset.


@dataclass(frozen=True)
class Preset:
    """A fully resolved preset plus where each value came from.

    `values` maps dotted keys ("train.batch_size") to values; `origin` maps each key to the
    file that set it last (None for the schema default); `parent` is the resolved preset this
    one extends.
    """

    name: str
    path: Path
    description: str
    values: dict[str, Any]
    origin: dict[str, Path | None]
    parent: Preset | None = None
    chain: tuple[Path, ...] = field(default=())

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def section(self, name: str) -> dict[str, Any]:
        """One TOML table as a plain dict (`preset.section("train")["batch_size"]`)."""
        prefix = name + "."
        return {k[len(prefix):]: v for k, v in self.values.items() if k.startswith(prefix)}

    def changed_from_parent(self) -> dict[str, tuple[Any, Any]]:
        """Keys whose value differs from the parent's: {key: (parent value, this value)}."""
        if self.parent is None:
            return {}
        return {k: (self.parent.values[k], v) for k, v in self.values.items() if self.parent.values[k] != v}

    def diff(self, other: Preset) -> dict[str, tuple[Any, Any]]:
        """Keys where `other` differs from this preset: {key: (this value, other value)}."""
        return {k: (v, other.values[k]) for k, v in self.values.items() if other.values[k] != v}

    # Convenience views used everywhere; each is a plain reading of `values`.
    @property
    def effective_batch(self) -> int:
        return self["train.batch_size"] * self["train.grad_accum"]

    @property
    def output_dir(self) -> Path:
        return resolve_path(self["save.output_dir"].format(preset=self.name))

    @property
    def train_file(self) -> Path:
        return resolve_path(self["data.train_file"])

    @property
    def validation_file(self) -> Path:
        return resolve_path(self["data.validation_file"])

    @property
    def trim_extra_files(self) -> list[Path]:
        return [resolve_path(text) for text in self["model.trim_extra_files"]]

    @property
    def builds_model_from_config(self) -> bool:
        return bool(self["model.config"])

    def to_toml_dict(self) -> dict[str, Any]:
        """Nested tables, ready for `dump_toml` (the preset as run)."""
        out: dict[str, Any] = {"description": self.description}
        for key, value in self.values.items():
            section, name = key.split(".", 1)
            out.setdefault(section, {})[name] = value
        return out


def with_values(preset: Preset, changes: dict[str, Any]) -> Preset:
    """A copy of a preset with some values changed (what-if pricing changes one key at a time)."""
    return replace(preset, values={**preset.values, **changes})


def resolve_path(text: str) -> Path:
    """A preset path: absolute as given, relative to the workspace otherwise."""
    path = Path(text).expanduser()
    return path if path.is_absolute() else workspace() / path


def workspace_or_sample(text: str) -> Path:
    """A data path as a built-in preset means it: the workspace's file when it is there, else the
    package's copy (the bundled sample), else the workspace's path (so an error names where the
    user's file is expected). This is what lets `demo` train from an empty folder."""
    path = resolve_path(text)
    packaged = BUILTIN_ROOT / text
    if not path.exists() and not Path(text).expanduser().is_absolute() and packaged.exists():
        return packaged
    return path


SAMPLE_PATH_KEYS = ("data.train_file", "data.validation_file")


def _sample_paths(flat: dict[str, Any]) -> dict[str, str]:
    """A built-in file's data paths as the bundled sample's, when the workspace has none of them.
    They fall back together: once any of the user's files is there, a missing one is an error
    naming where it is expected, so the user's data and the sample never mix in one run."""
    keys = [key for key in SAMPLE_PATH_KEYS if key in flat and not Path(flat[key]).expanduser().is_absolute()]
    if not keys or any(resolve_path(flat[key]).exists() for key in keys):
        return {}
    return {key: (BUILTIN_ROOT / flat[key]).as_posix() for key in keys if (BUILTIN_ROOT / flat[key]).exists()}


def is_builtin(path: Path) -> bool:
    """True for a preset file shipped in the package."""
    return path.parent == BUILTIN_PRESETS


def _flatten(path: Path, raw: dict[str, Any]) -> dict[str, Any]:
    """Check one file's tables against the schema and flatten them to dotted keys."""
    flat: dict[str, Any] = {}
    for key, value in raw.items():
        if key in TOP_LEVEL:
            if not isinstance(value, str):
                raise PresetError(_("{path}: key '{key}' = {value}: must be a string").format(
                    path=path, key=key, value=repr(value)))
            continue
        if key not in SCHEMA:
            known = ", ".join(sorted([*SCHEMA, *TOP_LEVEL]))
            raise PresetError(_("{path}: unknown key '{key}' (known: {known})").format(path=path, key=key, known=known))
        if not isinstance(value, dict):
            raise PresetError(_("{path}: key '{key}' = {value}: must be a table [{key}]").format(
                path=path, key=key, value=repr(value)))
        for name, item in value.items():
            dotted = f"{key}.{name}"
            spec = SCHEMA[key].get(name)
            if spec is None:
                known = ", ".join(SCHEMA[key])
                raise PresetError(_("{path}: unknown key '{key}' (known in [{table}]: {known})").format(
                    path=path, key=dotted, table=key, known=known))
            coerced = spec.coerce(item)
            if coerced is None:
                problem = _("must be {type}").format(type=spec.type_name)
            elif spec.choices and coerced not in spec.choices:
                problem = _("must be one of {choices}").format(choices=", ".join(spec.choices))
            else:
                problem = spec.check(coerced) if spec.check else None
            if problem:
                raise PresetError(_("{path}: key '{key}' = {value}: {problem}").format(
                    path=path, key=dotted, value=repr(item), problem=problem))
            flat[dotted] = coerced
    return flat


def _check_together(path: Path, values: dict[str, Any]) -> None:
    """Rules that involve two keys at once."""
    if values["model.config"] and values["model.tokenizer_vocab_size"] < 100:
        problem = _("a model built from an inline config needs a tokenizer vocab of at least 100")
        raise PresetError(_("{path}: key '{key}' = {value}: {problem}").format(
            path=path, key="model.tokenizer_vocab_size", value=repr(values["model.tokenizer_vocab_size"]), problem=problem))
    if values["train.optimizer"] == "adafactor" and values["train.grad_clip"] > 0:
        # Adafactor clips its own updates; T5 recipes run it without gradient clipping.
        problem = _("set it to 0 with optimizer = 'adafactor' (Adafactor clips its updates itself)")
        raise PresetError(_("{path}: key '{key}' = {value}: {problem}").format(
            path=path, key="train.grad_clip", value=repr(values["train.grad_clip"]), problem=problem))


def defaults() -> dict[str, Any]:
    return {f"{s}.{n}": spec.default for s, fields in SCHEMA.items() for n, spec in fields.items()}


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise PresetError(_("{path}: no such preset file").format(path=path)) from None
    except tomllib.TOMLDecodeError as exc:
        raise PresetError(_("{path}: not valid TOML: {error}").format(path=path, error=exc)) from None
    except UnicodeDecodeError as exc:
        raise PresetError(_("{path}: not UTF-8 text: {error}").format(path=path, error=exc)) from None


def is_preset_name(ref: str) -> bool:
    """True when `ref` names a preset in `presets/`; False for a path (a .toml file or a folder in it)."""
    return not ref.endswith(".toml") and Path(ref).expanduser().parent == Path(".")


def find_preset_file(name_or_path: str | Path, beside: Path | None = None) -> Path:
    """A preset name or a path to a .toml file. A name is the workspace's `presets/NAME.toml`,
    else the built-in of that name: a workspace file shadows the built-in everywhere, also where
    another built-in extends it (shadow `original` to change what every built-in starts from).
    `beside` is the file asking (for its `extends`): a file never extends itself, so
    `presets/full.toml` saying `extends = "full"` extends the built-in `full`."""
    text = str(name_or_path)
    if not is_preset_name(text):
        return Path(text).expanduser().resolve()
    mine = presets_dir() / f"{text}.toml"
    builtin = BUILTIN_PRESETS / f"{text}.toml"
    if mine.exists() and (beside is None or mine.resolve() != beside.resolve()):
        return mine
    if builtin.exists():
        return builtin
    known = ", ".join(p.stem for p in preset_files()) or pgettext("empty list", "none")
    raise PresetError(_("{path}: no preset named '{name}' in {folder} nor built in (known: {known})").format(
        path=mine, name=text, folder=mine.parent, known=known))


def load_preset(name_or_path: str | Path, _seen: tuple[Path, ...] = ()) -> Preset:
    """Resolve a preset and everything it extends; raise PresetError on anything wrong."""
    path = find_preset_file(name_or_path)
    if path in _seen:
        cycle = " -> ".join(p.name for p in (*_seen, path))
        raise ExtendsCycleError(_("{path}: key 'extends' makes a cycle: {cycle}").format(path=path, cycle=cycle))
    raw = _read_toml(path)
    flat = _flatten(path, raw)
    parent: Preset | None = None
    if "extends" in raw:
        base = raw["extends"]
        # A relative path in `extends` is relative to the file that says it.
        try:
            target = find_preset_file(path.parent / base if base.endswith(".toml") else base, beside=path)
            parent = load_preset(target, (*_seen, path))
        except ExtendsCycleError:
            raise
        except PresetError as exc:
            raise PresetError(_("{path}: key 'extends' = {value}: {problem}").format(
                path=path, value=repr(base), problem=exc)) from None
        values, origin = dict(parent.values), dict(parent.origin)
    else:
        values, origin = defaults(), dict.fromkeys(defaults(), None)
    if is_builtin(path):
        flat.update(_sample_paths(flat))
    values.update(flat)
    origin.update(dict.fromkeys(flat, path))
    _check_together(path, values)
    return Preset(
        name=path.stem,
        path=path,
        description=raw.get("description", parent.description if parent else ""),
        values=values,
        origin=origin,
        parent=parent,
        chain=(*(parent.chain if parent else ()), path),
    )


def preset_files() -> list[Path]:
    """The workspace's presets, then every built-in that none of them shadows (same name)."""
    mine = sorted(presets_dir().glob("*.toml"))
    names = {p.stem for p in mine}
    return mine + [p for p in sorted(BUILTIN_PRESETS.glob("*.toml")) if p.stem not in names]


def shadowed_builtins() -> list[str]:
    """Names of built-in presets that a workspace preset of the same name replaces."""
    return sorted(p.stem for p in BUILTIN_PRESETS.glob("*.toml") if (presets_dir() / p.name).exists())


def preset_reference(preset: Preset) -> str:
    """How to name `preset` again later: its name when that name finds this very file, else its
    absolute path."""
    try:
        found = find_preset_file(preset.path.stem)
    except PresetError:
        found = None
    return preset.path.stem if found is not None and found.resolve() == preset.path.resolve() else preset.path.as_posix()


def load_all() -> tuple[list[Preset], list[PresetError]]:
    """Every preset in `presets/`; a broken one is reported, the rest still load."""
    presets: list[Preset] = []
    errors: list[PresetError] = []
    for path in preset_files():
        try:
            presets.append(load_preset(path))
        except PresetError as exc:
            errors.append(exc)
    order = {"original": 0, "full": 1, "fast": 2, "demo": 3}
    presets.sort(key=lambda p: (order.get(p.name, 9), p.name))
    return presets, errors


def iter_keys() -> Iterator[tuple[str, Field]]:
    for section, fields in SCHEMA.items():
        for name, spec in fields.items():
            yield f"{section}.{name}", spec


def format_toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(format_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "{ " + ", ".join(f"{k} = {format_toml_value(v)}" for k, v in value.items()) + " }"
    return repr(value)


def dump_toml(tables: dict[str, Any]) -> str:
    """Write nested tables as TOML (the standard library reads TOML but does not write it)."""
    lines = [f"{k} = {format_toml_value(v)}" for k, v in tables.items() if not isinstance(v, dict)]
    for section, body in tables.items():
        if isinstance(body, dict):
            lines += ["", f"[{section}]"]
            lines += [f"{k} = {format_toml_value(v)}" for k, v in body.items()]
    return "\n".join(lines) + "\n"


def derived_preset_text(parent: Preset, changes: dict[str, Any], description: str) -> str:
    """A new preset file that extends `parent` with only `changes` ("save as new preset")."""
    tables: dict[str, Any] = {"extends": parent.name, "description": description}
    for key, value in changes.items():
        section, name = key.split(".", 1)
        tables.setdefault(section, {})[name] = value
    return dump_toml(tables)
