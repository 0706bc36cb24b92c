"""What every command's terminal text shares: core's messages in the reader's language (`shown`),
the `error:`/`warning:`/`note:` lines on stderr, and padding and wrapping measured in terminal
cells (a Chinese character takes two), so a translated label keeps its column. English text is
laid out exactly as `str.ljust` and `textwrap` would."""

from __future__ import annotations

import re
import sys
import textwrap

from rich.cells import cell_len

from emosum_tui.i18n import _
from emosum_tui.i18n.phrase import shown as said

# An ASCII word (kept whole), a run of spaces, or any other single character (a CJK character
# may end a line anywhere).
_PIECE = re.compile(r"\s+|[!-~]+|.")
_NO_LINE_START = "，。、；：！？）」』》"


def shown(text: object) -> str:
    """A message from core as a person reads it (see `i18n.phrase.shown`), as a str to print."""
    return str(said(text))


def error(message: object) -> None:
    print(_("error: {message}").format(message=shown(message)), file=sys.stderr)


def warning(message: object) -> None:
    print(_("warning: {message}").format(message=shown(message)), file=sys.stderr)


def note(message: object) -> None:
    print(_("note: {message}").format(message=shown(message)), file=sys.stderr)


def rjust(text: str, width: int) -> str:
    """`text` right-aligned in `width` cells (`ui.format.pad_cells` pads on the right)."""
    return " " * max(0, width - cell_len(text)) + text


def fill(text: str, width: int) -> str:
    """`textwrap.fill` by cells: English as textwrap does it, Chinese broken between characters."""
    if cell_len(text) == len(text):
        return textwrap.fill(text, width)
    return "\n".join(wrap(text, width))


def wrap(text: str, width: int) -> list[str]:
    if cell_len(text) == len(text):
        return textwrap.wrap(text, width)
    lines: list[str] = []
    line = ""
    for piece in _PIECE.findall(" ".join(text.split())):
        if line.strip() and cell_len(line + piece) > width and piece[0] not in _NO_LINE_START:
            lines.append(line.rstrip())
            line = piece.lstrip()
        else:
            line += piece
    if line.strip():
        lines.append(line.rstrip())
    return lines
