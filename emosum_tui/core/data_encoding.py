"""What a data file's bytes are, before they are read as JSON Lines: the encoding, and whether
the file is JSON Lines at all.

Files are read where the encoding is certain and rejected with one message where it is a guess,
and never rewritten: the user's file is their record, and a silent conversion would hide which
bytes the model trained on.
- UTF-8, with or without BOM: read.
- UTF-16 / UTF-32 with a BOM (what Windows PowerShell 5's `>` writes): read.
- UTF-16 without a BOM: read when the file has NUL bytes (never in UTF-8 JSON) and exactly one
  byte order decodes to JSON-looking text.
- GB18030/GBK (the legacy code page of Chinese Windows): rejected, naming it and the conversion,
  because a file of another legacy code page can decode as GB18030 too and would train on
  garbled text.
- Empty, a JSON array, or one object spread over several lines: rejected, saying so.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from emosum_tui.i18n import N_
from emosum_tui.i18n.phrase import Translatable

UTF8_BOM = b"\xef\xbb\xbf"
# Longest first: the UTF-32 LE BOM begins with the UTF-16 LE one.
# The labels are English where stored (--json) and Translatable where shown.
BOMS: tuple[tuple[bytes, str, str], ...] = (
    (b"\xff\xfe\x00\x00", "utf-32-le", Translatable(N_("UTF-32 LE with BOM"))),
    (b"\x00\x00\xfe\xff", "utf-32-be", Translatable(N_("UTF-32 BE with BOM"))),
    (UTF8_BOM, "utf-8", Translatable(N_("UTF-8 with BOM"))),
    (b"\xff\xfe", "utf-16-le", Translatable(N_("UTF-16 LE with BOM"))),
    (b"\xfe\xff", "utf-16-be", Translatable(N_("UTF-16 BE with BOM"))),
)
BOM_FREE_UTF16 = (
    ("utf-16-le", Translatable(N_("UTF-16 LE without BOM"))),
    ("utf-16-be", Translatable(N_("UTF-16 BE without BOM"))),
)
JSON_PUNCTUATION = '{}":,'
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")
CJK_SHARE = 0.5  # GB18030 is named only when at least this share of the non-ASCII text it decodes to is Chinese
JSON_LINES_EXPECTED = Translatable(N_("JSON Lines expected: one object per line"))


@dataclass(frozen=True)
class DecodedData:
    """A data file's text as UTF-8 bytes (BOM removed), what it was read as, or why it cannot be read."""

    body: bytes
    encoding: str  # in words: "UTF-8", "UTF-8 with BOM", "UTF-16 LE without BOM", …
    problem: str | None = None  # the one message for the whole file; then `body` is empty

    @property
    def converted(self) -> bool:
        """Read from an encoding other than UTF-8 (said in reports: the file itself is left as it is)."""
        return not self.encoding.startswith("UTF-8")


def utf8_conversion(path: Path, python_codec: str) -> str:
    """The one-line conversions to UTF-8, PowerShell and Python, with this file's names filled in."""
    out = path.with_name(f"{path.stem}.utf8{path.suffix or '.jsonl'}")
    powershell = f"Get-Content '{path}' | Set-Content -Encoding utf8 '{out}'"
    python = (f"python -c \"import pathlib; pathlib.Path(r'{out}').write_text(pathlib.Path(r'{path}')"
              f".read_text(encoding='{python_codec}'), encoding='utf-8')\"")
    return Translatable(N_("convert it once and use the copy: PowerShell: {powershell}  (Windows PowerShell 5 reads the "
                           "system code page); Python: {python}"), powershell=powershell, python=python)


def _as_utf8(text: str, encoding: str) -> DecodedData:
    return DecodedData(text.encode("utf-8"), encoding)


def _unreadable(path: Path, encoding: str, what: str, python_codec: str | None) -> DecodedData:
    if python_codec:
        what = Translatable(N_("{problem}; {conversion}"), problem=what, conversion=utf8_conversion(path, python_codec))
    return DecodedData(b"", encoding, what)


def _bom_free_utf16(raw: bytes, path: Path) -> DecodedData:
    """NUL bytes: UTF-16 without a BOM when one byte order decodes to JSON-looking text."""
    fits = []
    for codec, label in BOM_FREE_UTF16:
        try:
            text = raw.decode(codec)
        except UnicodeDecodeError:
            continue
        punctuation = sum(text.count(mark) for mark in JSON_PUNCTUATION)
        if punctuation and "\x00" not in text:
            fits.append((punctuation, text, label))
    if len(fits) == 1 or (len(fits) == 2 and fits[0][0] != fits[1][0]):
        _, text, label = max(fits, key=lambda fit: fit[0])
        return _as_utf8(text, label)
    what = Translatable(N_("has NUL bytes and is neither UTF-8 nor UTF-16 text (a binary file?)"))
    return _unreadable(path, "binary", what, None)


def _looks_gb18030(raw: bytes) -> bool:
    """Not UTF-8 anywhere it has non-ASCII bytes, GB18030 throughout, and Chinese when read so."""
    for line in raw.split(b"\n"):
        if max(line, default=0) >= 0x80:
            try:
                line.decode("utf-8")
                return False  # some lines are UTF-8: a file with a few bad lines, reported line by line
            except UnicodeDecodeError:
                pass
    try:
        text = raw.decode("gb18030")
    except UnicodeDecodeError:
        return False
    wide = [char for char in text if ord(char) >= 0x80]
    return bool(wide) and sum(1 for char in wide if CJK.match(char)) >= CJK_SHARE * len(wide)


def decode_data(raw: bytes, path: Path) -> DecodedData:
    """The file's bytes as UTF-8 text, or the one reason they cannot be read."""
    for bom, codec, label in BOMS:
        if raw.startswith(bom):
            try:
                return _as_utf8(raw[len(bom):].decode(codec), label)
            except UnicodeDecodeError as exc:
                what = Translatable(N_("starts with the {label} mark but is not valid {codec} at byte {offset}"),
                                    label=label, codec=codec.upper(), offset=exc.start + len(bom))
                return _unreadable(path, label, what, codec)
    if b"\x00" in raw:
        return _bom_free_utf16(raw, path)
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        if _looks_gb18030(raw):
            what = Translatable(N_("looks like GB18030/GBK (the legacy code page of Chinese Windows), not UTF-8"))
            return _unreadable(path, "GB18030", what, "gb18030")
    return DecodedData(raw, "UTF-8")  # lines that are not UTF-8 are reported one by one


def shape_problem(body: bytes, path: Path) -> str | None:
    """Why decoded text is not JSON Lines as a whole (empty, an array, a spread object), else None."""
    if not body.strip():
        return Translatable(N_("is empty (no rows)") if not body else N_("is empty (only blank lines, no rows)"))
    first = next(line for line in body.split(b"\n") if line.strip()).strip()
    if not first.startswith((b"[", b"{")):
        return None  # line by line: each bad line is reported with its number
    try:
        whole = json.loads(body)
    except ValueError:
        whole = None
    if isinstance(whole, list):
        return Translatable(N_("is a JSON array of {items} items, not JSON Lines; {expected}; {conversion}"),
                            items=len(whole), expected=JSON_LINES_EXPECTED, conversion=array_conversion(path))
    if isinstance(whole, dict) and b"\n" in body.strip():
        lines = body.strip().count(b"\n") + 1
        return Translatable(N_("is one JSON object spread over {lines} lines, not JSON Lines; {expected}"),
                            lines=lines, expected=JSON_LINES_EXPECTED)
    if first in (b"[", b"{"):  # a pretty-printed document: the first line opens it and nothing more
        spread = (N_("starts like a JSON array spread over several lines, not JSON Lines; {expected}") if first == b"["
                  else N_("starts like objects spread over several lines, not JSON Lines; {expected}"))
        return Translatable(spread, expected=JSON_LINES_EXPECTED)
    return None


def array_conversion(path: Path) -> str:
    """The one-line Python that writes a JSON array file's items as JSON Lines."""
    out = path.with_name(f"{path.stem}.jsonl" if path.suffix != ".jsonl" else f"{path.stem}.lines.jsonl")
    python = (
        f"python -c \"import json, pathlib; rows = json.loads(pathlib.Path(r'{path}').read_text(encoding='utf-8-sig')); "
        f"pathlib.Path(r'{out}').write_text(''.join(json.dumps(r, ensure_ascii=False) + '\\n' for r in rows), encoding='utf-8')\""
    )
    return Translatable(N_("convert it once: {python}"), python=python)
