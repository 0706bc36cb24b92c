"""The interface's language: English source strings, translated through gettext catalogs.

Mark text with `_("...")` where it is shown; at import time (module constants, class
attributes, key descriptions) mark it with `N_("...")` and translate it where it is drawn, so a
language switch reaches it. Placeholders are named (`_("{n} rows").format(n=...)`) so a
translation can move them. Which language: `--lang`, then `EMOSUM_LANG`, then the operating
system's (on Windows the UI language), else English; see `choose_language`.
"""

from __future__ import annotations

import os
import sys
from functools import cache
from pathlib import Path

from emosum_tui.i18n.po_file import Catalog, read_po

ENGLISH = "en"
CHINESE = "zh_CN"
LANGUAGES = (ENGLISH, CHINESE)
LANGUAGE_NAMES = {ENGLISH: "English", CHINESE: "中文"}  # each in its own language: what a reader looks for
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "emosum_tui"
ENV_VARIABLE = "EMOSUM_LANG"

_current = ENGLISH


class LanguageError(ValueError):
    """A language name this tool has no interface for."""


def normalise(name: str) -> str:
    """"zh-CN", "zh_CN.UTF-8", "zh", "Chinese" -> "zh_CN"; "en_US", "C", "POSIX" -> "en".
    Every Chinese variant reads the one Chinese catalog: simplified text beats English there."""
    text = name.strip().split(".")[0].split("@")[0].replace("-", "_").lower()
    if text in ("c", "posix", "en") or text.startswith("en_") or text == "english":
        return ENGLISH
    if text == "zh" or text.startswith("zh_") or text in ("chinese", "中文"):
        return CHINESE
    raise LanguageError(f"no interface in language {name!r}: choose one of {', '.join(LANGUAGES)}")


def choose_language(requested: str | None = None, stream_encoding: str | None = None) -> str:
    """`requested` (the `--lang` option) wins, then EMOSUM_LANG, then the system's language.
    A bad `--lang` raises LanguageError; a bad EMOSUM_LANG or system locale falls through (the
    first with a warning on stderr). A language picked from the system only is dropped for
    English when `stream_encoding` cannot print Chinese (an ASCII pipe would show "????")."""
    if requested:
        return normalise(requested)
    from_env = os.environ.get(ENV_VARIABLE, "").strip()
    if from_env:
        try:
            return normalise(from_env)
        except LanguageError as exc:
            print(f"{ENV_VARIABLE}: {exc}; using the system's language", file=sys.stderr)
    from emosum_tui.i18n.system_language import system_language

    try:
        chosen = normalise(system_language() or ENGLISH)
    except LanguageError:
        return ENGLISH
    if chosen == CHINESE and stream_encoding and not _can_print_chinese(stream_encoding):
        return ENGLISH
    return chosen


def _can_print_chinese(encoding: str) -> bool:
    try:
        "中文".encode(encoding)
    except (LookupError, UnicodeEncodeError):
        return False
    return True


@cache
def catalog(language: str) -> Catalog:
    """The translations of `language` (English: none, the source is English)."""
    if language == ENGLISH:
        return Catalog()
    return read_po(LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po")


def set_language(language: str) -> str:
    """Make `language` (any spelling `normalise` takes) the one `_` translates into; also for
    the processes this one starts (they read EMOSUM_LANG)."""
    global _current
    _current = normalise(language)
    catalog(_current)
    os.environ[ENV_VARIABLE] = _current
    return _current


def language() -> str:
    return _current


def gettext(message: str) -> str:
    """`message` in the current language (itself when untranslated)."""
    if _current == ENGLISH:
        return message
    return catalog(_current).singular.get((None, message), message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form for `n` items: English has two, Chinese one."""
    if _current != ENGLISH:
        forms = catalog(_current).plural.get((None, singular))
        if forms:
            return forms[0]
    return singular if n == 1 else plural


def pgettext(context: str, message: str) -> str:
    """`message` in `context`, for a short word whose translation depends on where it stands."""
    if _current == ENGLISH:
        return message
    return catalog(_current).singular.get((context, message), message)


def N_(message: str) -> str:
    """Marks `message` for the catalog without translating it now (translated where drawn)."""
    return message


_ = gettext
