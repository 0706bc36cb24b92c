"""Read a gettext `.po` catalog into a lookup table, so the package ships text files only.

The catalog is small (about 1,100 entries) and read once per language, so parsing the `.po`
at start-up costs about 20 ms (and nothing in English) and spares a compile step in the build. Entries marked
`fuzzy` and empty translations are skipped: gettext's rule is that those fall back to English.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

Key = tuple[str | None, str]  # (msgctxt, msgid)


class PoSyntaxError(ValueError):
    """A line of a `.po` file that is not gettext syntax (names the file and the line)."""


@dataclass
class Catalog:
    """Translations by (context, msgid); a plural entry holds its forms, Chinese has one."""

    singular: dict[Key, str] = field(default_factory=dict)
    plural: dict[Key, list[str]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.singular) + len(self.plural)


@dataclass
class _Entry:
    context: str | None = None
    msgid: str | None = None
    msgid_plural: str | None = None
    strings: dict[int, str] = field(default_factory=dict)
    fuzzy: bool = False


_ESCAPE = re.compile(r"\\(.)")
_ESCAPED = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}  # the C escapes gettext writes


def _unquote(text: str, path: Path, number: int) -> str:
    text = text.strip()
    if not (len(text) >= 2 and text[0] == text[-1] == '"'):
        raise PoSyntaxError(f"{path}:{number}: expected a quoted string, found {text[:40]!r}")
    body = text[1:-1]
    if "\\" not in body:
        return body
    try:
        return _ESCAPE.sub(lambda match: _ESCAPED[match.group(1)], body)
    except KeyError as exc:
        raise PoSyntaxError(f"{path}:{number}: unknown escape \\{exc.args[0]}") from None


def read_po(path: Path) -> Catalog:
    """The translated, non-fuzzy entries of `path`; the header entry (msgid "") is skipped."""
    catalog = Catalog()
    entry = _Entry()
    target: tuple[str, int] | None = None  # which string continuation lines extend

    def finish() -> None:
        nonlocal entry
        if entry.msgid and not entry.fuzzy:
            key = (entry.context, entry.msgid)
            if entry.msgid_plural is None:
                if entry.strings.get(0):
                    catalog.singular[key] = entry.strings[0]
            elif entry.strings and all(entry.strings.values()):
                catalog.plural[key] = [entry.strings[i] for i in sorted(entry.strings)]
        entry = _Entry()

    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        starts_entry = line.startswith("#") or line.startswith(("msgctxt ", "msgid "))
        if starts_entry and entry.strings:  # the previous entry's msgstr lines are over
            finish()
            target = None
        if line.startswith("#"):
            entry.fuzzy = entry.fuzzy or (line.startswith("#,") and "fuzzy" in line)
            continue
        if line.startswith('"'):
            if target is None:
                raise PoSyntaxError(f"{path}:{number}: a continued string with nothing before it")
            _append(entry, target, _unquote(line, path, number))
            continue
        keyword, _, rest = line.partition(" ")
        text = _unquote(rest, path, number)
        if keyword == "msgctxt":
            entry.context, target = text, ("msgctxt", 0)
        elif keyword == "msgid":
            entry.msgid, target = text, ("msgid", 0)
        elif keyword == "msgid_plural":
            entry.msgid_plural, target = text, ("msgid_plural", 0)
        elif keyword == "msgstr":
            entry.strings[0], target = text, ("msgstr", 0)
        elif keyword.startswith("msgstr[") and keyword.endswith("]") and keyword[7:-1].isdigit():
            index = int(keyword[7:-1])
            entry.strings[index], target = text, ("msgstr", index)
        else:
            raise PoSyntaxError(f"{path}:{number}: unknown keyword {keyword!r}")
    finish()
    return catalog


def _append(entry: _Entry, target: tuple[str, int], text: str) -> None:
    name, index = target
    if name == "msgctxt":
        entry.context = (entry.context or "") + text
    elif name == "msgid":
        entry.msgid = (entry.msgid or "") + text
    elif name == "msgid_plural":
        entry.msgid_plural = (entry.msgid_plural or "") + text
    else:
        entry.strings[index] = entry.strings.get(index, "") + text
