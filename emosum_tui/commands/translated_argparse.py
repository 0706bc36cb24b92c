"""argparse in the interface's language: "usage:", the section titles, `-h`'s help and the common
error messages.

argparse words its own text through `gettext.gettext` with no catalog of ours, so they are
replaced at argparse's public seams: the usage prefix (`HelpFormatter.add_usage`), the group
titles (`add_argument_group`, which also makes "positional arguments" and "options"), a `-h` of
our own (`add_help=False`), and `error()`, which rewords argparse's few common messages through
`ARGPARSE_ERRORS` before printing them. English comes out as argparse writes it.
"""

from __future__ import annotations

import argparse
import re
import sys
from typing import Any, NoReturn

from rich.cells import cell_len

from emosum_tui.commands.terminal_text import wrap
from emosum_tui.i18n import N_, _

GROUP_TITLES = {
    "positional arguments": N_("positional arguments"),
    "options": N_("options"),
    "optional arguments": N_("options"),  # argparse before Python 3.10
}
_CJK_HEADING = re.compile(r"^(\S.*[^\x00-\x7f]):$", re.M)
_PREFIX_MARK = "\x1f"  # stands in for a translated "usage: " while argparse measures it in characters

# argparse's messages as it words them in English, and ours with named placeholders.
ARGUMENT_PREFIX = re.compile(r"argument (?P<argument>.+?): (?P<message>.*)", re.S)
ARGPARSE_ERRORS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"the following arguments are required: (?P<arguments>.+)", re.S),
     N_("the following arguments are required: {arguments}")),
    (re.compile(r"unrecognized arguments: (?P<arguments>.+)", re.S), N_("unrecognized arguments: {arguments}")),
    (re.compile(r"invalid choice: (?P<value>.+) \(choose from (?P<choices>.+)\)", re.S),
     N_("invalid choice: {value} (choose from {choices})")),
    (re.compile(r"invalid (?P<type>\S+) value: (?P<value>.+)", re.S), N_("invalid {type} value: {value}")),
    (re.compile(r"expected one argument"), N_("expected one argument")),
    (re.compile(r"expected at least one argument"), N_("expected at least one argument")),
    (re.compile(r"expected at most one argument"), N_("expected at most one argument")),
    (re.compile(r"ambiguous option: (?P<option>\S+) could match (?P<matches>.+)", re.S),
     N_("ambiguous option: {option} could match {matches}")),
    (re.compile(r"not allowed with argument (?P<other>.+)", re.S), N_("not allowed with argument {other}")),
    (re.compile(r"one of the arguments (?P<arguments>.+) is required", re.S), N_("one of the arguments {arguments} is required")),
)


def translate_error(message: str) -> str:
    """argparse's English `message` in the current language (as it is when not one of the known)."""
    prefixed = ARGUMENT_PREFIX.fullmatch(message)
    if prefixed:
        return _("argument {argument}: {message}").format(argument=prefixed["argument"],
                                                          message=translate_error(prefixed["message"]))
    for pattern, template in ARGPARSE_ERRORS:
        found = pattern.fullmatch(message)
        if found:
            return _(template).format(**found.groupdict())
    return message


class TranslatedHelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions and epilogs as written (they are filled by cells beforehand), option help
    wrapped by cells, and "usage: " translated and measured in cells."""

    def add_usage(self, usage: str | None, actions: Any, groups: Any, prefix: str | None = None) -> None:
        if prefix is None:
            self._usage_prefix = _("usage: ")
            prefix = _PREFIX_MARK * cell_len(self._usage_prefix)  # argparse indents wrapped usage by len(prefix)
        super().add_usage(usage, actions, groups, prefix)

    def format_help(self) -> str:
        text = super().format_help()
        prefix = getattr(self, "_usage_prefix", None)
        if prefix is not None:
            text = text.replace(_PREFIX_MARK * cell_len(prefix), prefix, 1)
        return _CJK_HEADING.sub("\\1：", text)  # argparse ends a section title with ":"; Chinese takes "："

    def _split_lines(self, text: str, width: int) -> list[str]:
        if cell_len(text) == len(text):
            return super()._split_lines(text, width)
        return wrap(text, width)


class TranslatedParser(argparse.ArgumentParser):
    """An ArgumentParser (and, through `add_subparsers`, every sub-command's) speaking the
    interface's language."""

    def __init__(self, *args: Any, add_help: bool = True, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", TranslatedHelpFormatter)
        super().__init__(*args, add_help=False, **kwargs)
        if add_help:
            self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS,
                              help=_("show this help message and exit"))

    def add_argument_group(self, title: str | None = None, *args: Any, **kwargs: Any) -> Any:
        if title in GROUP_TITLES:
            title = _(GROUP_TITLES[title])
        return super().add_argument_group(title, *args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, _("{prog}: error: {message}").format(prog=self.prog, message=translate_error(message)) + "\n")
