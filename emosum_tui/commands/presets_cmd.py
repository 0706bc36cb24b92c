"""`emosum-tui presets` lists the presets; `presets show NAME` prints one fully resolved."""

from __future__ import annotations

import argparse
import sys
from typing import Any

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


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("presets", help="list presets, or show one fully resolved")
    parser.add_argument("action", nargs="?", choices=("list", "show"), default="list",
                        help="list (default): every preset, one summary each; show: one preset, every value and its origin")
    parser.add_argument("name", nargs="?", help="preset name (workspace presets/ first, then the built-ins) or path to a .toml file")
    parser.set_defaults(handler=run)


def _summary(preset: Preset) -> str:
    samples = preset["data.train_samples"] or f"{preset['data.train_fraction']:.0%}"
    return (
        f"{preset['model.name']}, rows {samples}, {preset['train.epochs']} ep, "
        f"batch {preset['train.batch_size']}x{preset['train.grad_accum']}, "
        f"{preset['train.max_source_tokens']}/{preset['train.max_target_tokens']} tok"
    )


def list_presets() -> int:
    presets, errors = load_all()
    shadowed = set(shadowed_builtins())
    width = max((len(p.name) for p in presets), default=8)
    for preset in presets:
        base = f" (extends {preset.parent.name})" if preset.parent else ""
        where = "built-in" if is_builtin(preset.path) else f"{preset.path}" + (", shadows the built-in" if preset.name in shadowed else "")
        print(f"{preset.name:<{width}}  {_summary(preset)}{base} [{where}]")
        if preset.description:
            print(f"{'':<{width}}  {preset.description}")
    for error in errors:
        print(f"error: {error}", file=sys.stderr)
    print_sample_notice(presets)
    return 1 if errors else 0


def show_text(preset: Preset) -> str:
    """The resolved preset as TOML, each value marked with where it came from."""
    lines = [f"# {preset.name}: {preset.path}", f"# chain: {' -> '.join(p.stem for p in preset.chain)}"]
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
                mark = f"changed (was {format_toml_value(parent.values[key])} in {parent.name})"
            elif parent is not None:
                mark = f"set here, same as {parent.name}"
            else:
                mark = "set here"
        elif origin is None:
            mark = "default"
        else:
            mark = f"inherited from {origin.stem}"
        if _spec.shown(value) != value:
            mark += f"; 0 = {_spec.zero}"
        lines.append(f"{name + ' = ' + format_toml_value(value):<60} # {mark}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    if args.action == "list" and args.name is None:
        return list_presets()
    name = args.name
    if name is None:
        print("error: `presets show` needs a preset name or path", file=sys.stderr)
        return 2
    try:
        preset = load_preset(name)
    except PresetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(show_text(preset))
    return 0
