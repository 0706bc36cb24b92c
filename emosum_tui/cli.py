"""The `emosum-tui` command: the console by default, plus sub-commands for scripts and servers.

Each sub-command lives in `emosum_tui/commands/<name>.py` with `add_parser(subparsers)` and
`run(args) -> int`. Those modules import nothing heavy at module level, so `emosum-tui --help`
and the console start fast; the trainer side (torch) is imported only by the commands that
train or measure.
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = ("init", "presets", "data", "estimate", "train", "watch", "runs", "doctor", "generate", "evaluate", "try")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="emosum-tui",
        description="Fine-tune mT5 for LongEmotion Emotion Summary with honest estimates and live step timing.",
    )
    parser.add_argument("--preset", help="preset to select in the console (a name in presets/ or a .toml path)")
    parser.add_argument("--start", action="store_true", help="start training the selected preset at once")
    parser.add_argument("--workspace", metavar="DIR", help="the workspace folder (default: EMOSUM_WORKSPACE, else the current folder)")
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"emosum_tui.commands.{name}_cmd")
        except ModuleNotFoundError as exc:
            if exc.name != f"emosum_tui.commands.{name}_cmd":
                raise
            continue
        module.add_parser(subparsers)
    from emosum_tui.commands.help_text import apply_command_help

    apply_command_help(parser)
    return parser


def package_version() -> str:
    """The installed distribution's version, else the source tree's."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("emosum-tui")
    except PackageNotFoundError:
        from emosum_tui import __version__

        return __version__


def main(argv: list[str] | None = None) -> int:
    from emosum_tui.core.text_streams import tolerate_unencodable_output

    tolerate_unencodable_output()  # a cp936/ascii console or file gets "?" for a ✓, never a crash
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.workspace:
        from emosum_tui.core.paths import set_workspace

        set_workspace(args.workspace)
    if args.command is None:
        from emosum_tui.commands import console_cmd

        return console_cmd.run(args)
    return int(args.handler(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
