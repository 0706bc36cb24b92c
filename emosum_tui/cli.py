"""The `emosum-tui` command: the console by default, plus sub-commands for scripts and servers.

Each sub-command lives in `emosum_tui/commands/<name>.py` with `add_parser(subparsers)` and
`run(args) -> int`. Those modules import nothing heavy at module level, so `emosum-tui --help`
and the console start fast; the trainer side (torch) is imported only by the commands that
train or measure.

The interface's language is chosen before the parser is built (`--lang` is read from the
command line first), since every help text is worded in it.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from emosum_tui.i18n import LANGUAGES, LanguageError, _, choose_language, set_language

COMMANDS = ("init", "presets", "data", "estimate", "train", "watch", "runs", "doctor", "generate", "evaluate", "try")
LANG_OPTION = "--lang"


def build_parser() -> argparse.ArgumentParser:
    from emosum_tui.commands.translated_argparse import TranslatedParser

    parser = TranslatedParser(
        prog="emosum-tui",
        description=_("Fine-tune mT5 for LongEmotion Emotion Summary with honest estimates and live step timing."),
    )
    parser.add_argument("--preset", help=_("preset to select in the console (a name in presets/ or a .toml path)"))
    parser.add_argument("--start", action="store_true", help=_("start training the selected preset at once"))
    parser.add_argument("--workspace", metavar="DIR",
                        help=_("the workspace folder (default: EMOSUM_WORKSPACE, else the current folder)"))
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}",
                        help=_("show program's version number and exit"))
    parser.add_argument(LANG_OPTION, metavar="LANG",
                        help=_("interface language: en or zh_CN (default: EMOSUM_LANG, else the system's language)"))
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


def take_language_option(argv: list[str]) -> tuple[str | None, list[str]]:
    """(the value of `--lang X` / `--lang=X` anywhere before `--`, the other arguments); the last one
    given wins, "" when it has no value."""
    requested: str | None = None
    rest: list[str] = []
    index = 0
    while index < len(argv):
        arg = argv[index]
        if arg == "--":
            rest += argv[index:]
            break
        if arg == LANG_OPTION:
            has_value = index + 1 < len(argv) and not argv[index + 1].startswith("-")
            requested = argv[index + 1] if has_value else ""
            index += 2 if has_value else 1
            continue
        if arg.startswith(LANG_OPTION + "="):
            requested = arg.split("=", 1)[1]
        else:
            rest.append(arg)
        index += 1
    return requested, rest


def choose_interface_language(argv: list[str]) -> list[str] | None:
    """Set the interface's language from `--lang`, EMOSUM_LANG or the system; the arguments left for
    the parser, or None after saying on stderr (in the language chosen without it) that `--lang` is wrong."""
    encoding = getattr(sys.stdout, "encoding", None)
    requested, rest = take_language_option(argv)
    try:
        if requested == "":
            raise LanguageError(requested)
        set_language(choose_language(requested, encoding))
        return rest
    except LanguageError:
        set_language(choose_language(None, encoding))
    choices = ", ".join(LANGUAGES)
    if not requested:
        message = _("{option} needs a value: one of {choices}").format(option=LANG_OPTION, choices=choices)
    else:
        message = _("{option} {value}: no interface in this language; choose one of {choices}").format(
            option=LANG_OPTION, value=requested, choices=choices)
    print(_("{prog}: error: {message}").format(prog="emosum-tui", message=message), file=sys.stderr)
    return None


def main(argv: list[str] | None = None) -> int:
    from emosum_tui.core.text_streams import tolerate_unencodable_output

    tolerate_unencodable_output()  # a cp936/ascii console or file gets "?" for a ✓, never a crash
    rest = choose_interface_language(sys.argv[1:] if argv is None else list(argv))
    if rest is None:
        return 2
    parser = build_parser()
    args = parser.parse_args(rest)
    if args.workspace:
        from emosum_tui.core.paths import set_workspace

        set_workspace(args.workspace)
    if args.command is None:
        from emosum_tui.commands import console_cmd

        return console_cmd.run(args)
    return int(args.handler(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
