"""Output that never crashes on a console or file whose encoding cannot hold every character.

A Windows console or a redirected `emosum-tui doctor > report.txt` may use a legacy code page
(cp936, cp1252) or `PYTHONIOENCODING=ascii`; printing a ✓ mark or a Chinese sample would raise
UnicodeEncodeError and lose the whole report. Characters the stream cannot hold are replaced
instead (with "?"), the rest is printed as it is; UTF-8 streams are left untouched.
"""

from __future__ import annotations

import codecs
import contextlib
import sys
from typing import TextIO


def _is_utf(stream: TextIO) -> bool:
    try:
        return codecs.lookup(stream.encoding or "ascii").name.startswith("utf")
    except LookupError:
        return False


def tolerate_unencodable_output(streams: tuple[TextIO, ...] | None = None) -> None:
    """Make stdout and stderr (or `streams`) replace what their encoding cannot hold."""
    for stream in streams if streams is not None else (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if stream is None or reconfigure is None or _is_utf(stream):
            continue
        with contextlib.suppress(ValueError, OSError):  # a closed or detached stream: nothing will be printed to it
            reconfigure(errors="replace")
