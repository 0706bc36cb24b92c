"""`emosum-tui presets` lists the presets; `presets show NAME` prints one fully resolved."""

from __future__ import annotations

import argparse
from typing import Any

from emosum_tui.commands.terminal_text import error
from emosum_tui.core.presets import (
    Preset,
    PresetError,
    format_toml_value,
    is_builtin,
    iter_keys,
    load_all,
    load_preset,
    shadowed_builtins,
)
from emosum_tui.core.sample_notice import print_sample_notice
from emosum_tui.i18n import _
from emosum_tui.ui.format import pad_cells


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("presets", help=_("list presets, or show one fully resolved"))
    parser.add_argument("action", nargs="?", choices=("list", "show"), default="list",
                        help=_("list (default): every preset, one summary each; show: one preset, every value and its origin"))
    parser.add_argument("name", nargs="?",
                        help=_("preset name (workspace presets/ first, then the built-ins) or path to a .toml file"))
    parser.set_defaults(handler=run)


def _summary(preset: Preset) -> str:
    samples = preset["data.train_samples"] or f"{preset['data.train_fraction']:.0%}"
    return _("{model}, rows {rows}, {epochs} ep, batch {batch_size}x{grad_accum}, {source_tokens}/{target_tokens} tok").format(
        model=preset["model.name"], rows=samples, epochs=preset["train.epochs"], batch_size=preset["train.batch_size"],
        grad_accum=preset["train.grad_accum"], source_tokens=preset["train.max_source_tokens"],
        target_tokens=preset["train.max_target_tokens"])


def list_presets() -> int:
    presets, errors = load_all()
    shadowed = set(shadowed_builtins())
    width = max((len(p.name) for p in presets), default=8)
    for preset in presets:
        base = " " + _("(extends {parent})").format(parent=preset.parent.name) if preset.parent else ""
        if is_builtin(preset.path):
            where = _("built-in")
        elif preset.name in shadowed:
            where = _("{path}, shadows the built-in").format(path=preset.path)
        else:
            where = str(preset.path)
        print(f"{preset.name:<{width}}  {_summary(preset)}{base} [{where}]")
        if preset.description:
            print(f"{'':<{width}}  {_(preset.description)}")
    for problem in errors:
        error(problem)
    print_sample_notice(presets)
    return 1 if errors else 0


def show_text(preset: Preset) -> str:
    """The resolved preset as TOML, each value marked with where it came from."""
    lines = [f"# {preset.name}: {preset.path}",
             "# " + _("chain: {chain}").format(chain=" -> ".join(p.stem for p in preset.chain))]
    if preset.description:
        lines.append(f'description = {format_toml_value(preset.description)}')
    parent = preset.parent
    section = ""
    for key, _spec in iter_keys():
        table, name = key.split(".", 1)
        if table != section:
            section = table
            lines += ["", f"[{table}]"]
        value = preset.values[key]
        origin = preset.origin[key]
        if origin == preset.path:
            if parent is not None and parent.values[key] != value:
                mark = _("changed (was {value} in {parent})").format(value=format_toml_value(parent.values[key]),
                                                                     parent=parent.name)
            elif parent is not None:
                mark = _("set here, same as {parent}").format(parent=parent.name)
            else:
                mark = _("set here")
        elif origin is None:
            mark = _("default")
        else:
            mark = _("inherited from {preset}").format(preset=origin.stem)
        if _spec.shown(value) != value:
            mark += f"; 0 = {_(_spec.zero)}"
        lines.append(f"{pad_cells(name + ' = ' + format_toml_value(value), 60)} # {mark}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    if args.action == "list" and args.name is None:
        return list_presets()
    name = args.name
    if name is None:
        error(_("`presets show` needs a preset name or path"))
        return 2
    try:
        preset = load_preset(name)
    except PresetError as exc:
        error(exc)
        return 2
    print(show_text(preset))
    return 0
