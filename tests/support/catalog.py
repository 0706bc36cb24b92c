"""The messages the source marks for translation, and which of them a catalog lacks.

`python tests/support/catalog.py SOURCE... --po FILE...` prints each marked message of the
SOURCE files or folders that no FILE translates, and placeholders a translation changed.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_file

PACKAGE = Path(__file__).resolve().parents[2] / "emosum_tui"
CATALOG = PACKAGE / "locale" / "zh_CN" / "LC_MESSAGES" / "emosum_tui.po"
PLACEHOLDER = re.compile(r"(?<!\{)\{([^{}]*)\}(?!\})")


@dataclass(frozen=True)
class Marked:
    """One marked message: where it is, its context (or None), its msgid (and plural)."""

    where: str
    context: str | None
    msgid: str
    plural: str | None = None


def marked_messages(sources: list[Path]) -> list[Marked]:
    files: list[Path] = []
    for source in sources:
        files.extend(sorted(source.rglob("*.py")) if source.is_dir() else [source])
    found: list[Marked] = []
    for path in files:
        for line, message, _comments, context in extract_from_file("python", str(path), keywords=DEFAULT_KEYWORDS):
            where = f"{path.relative_to(PACKAGE.parent) if path.is_relative_to(PACKAGE.parent) else path}:{line}"
            if isinstance(message, tuple):
                found.append(Marked(where, context, message[0], message[1]))
            else:
                found.append(Marked(where, context, message))
    return found


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def problems(sources: list[Path], po_files: list[Path]) -> list[str]:
    """One line per marked message without a translation, or whose translation changes placeholders."""
    from emosum_tui.i18n.po_file import Catalog, read_po

    merged = Catalog()
    for po in po_files:
        catalog = read_po(po)
        merged.singular.update(catalog.singular)
        merged.plural.update(catalog.plural)
    lines = []
    for mark in marked_messages(sources):
        key = (mark.context, mark.msgid)
        translations = merged.plural.get(key) if mark.plural else [merged.singular[key]] if key in merged.singular else None
        if not translations:
            lines.append(f"{mark.where}: no zh_CN translation for {mark.msgid!r}")
            continue
        wanted = placeholders(mark.msgid) | (placeholders(mark.plural) if mark.plural else set())
        for text in translations:
            if placeholders(text) != wanted:
                lines.append(f"{mark.where}: placeholders {sorted(wanted)} became {sorted(placeholders(text))} in {text!r}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sources", nargs="+", type=Path)
    parser.add_argument("--po", nargs="+", type=Path, default=[CATALOG])
    args = parser.parse_args()
    found = problems(args.sources, args.po)
    print("\n".join(found) or "every marked message is translated")
    return 1 if found else 0


if __name__ == "__main__":
    sys.path.insert(0, str(PACKAGE.parent))
    sys.exit(main())
