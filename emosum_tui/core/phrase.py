"""Words for a person that are also kept on disk: an English template and its values, drawn late.

A finding, an alert or a speed-up label is made once and read twice: by a person (in the
interface's language, which the `l` key can switch after it was made) and by a file or `--json`
(always English). A `Phrase` keeps the English template (marked with `N_` where it is written)
and its named values; `str()` gives the English, `shown()` the current language. A value that
is itself a `Phrase` (or a `Translatable`, its twin for text that must stay a str) is drawn in
the same language; any other value is a value (a path, a number already formatted) and is never
translated.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from emosum_tui.i18n import gettext


class Phrase:
    """`Phrase(N_("{peak} of {free} free"), peak="7.6 GiB", free="8.0 GiB")`. Immutable and hashable."""

    __slots__ = ("template", "values")

    def __init__(self, template: str, /, **values: Any) -> None:
        object.__setattr__(self, "template", template)
        object.__setattr__(self, "values", tuple(values.items()))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def render(self, translated: bool) -> str:
        """The text in English (`translated=False`) or in the current language."""
        text = gettext(self.template) if translated and self.template else self.template
        if not self.values:
            return text
        return text.format(**{name: _render(value, translated) for name, value in self.values})

    def shown(self) -> str:
        """The text in the interface's language now."""
        return self.render(True)

    def __str__(self) -> str:
        return self.render(False)

    def __bool__(self) -> bool:
        return bool(self.template)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and (self.template, self.values) == (other.template, other.values)  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self), self.template, self.values))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"

    def __copy__(self) -> Phrase:
        return self

    def __deepcopy__(self, memo: dict) -> Phrase:
        return self


class Joined(Phrase):
    """Parts drawn one by one and joined by a separator that is itself translated
    (`Joined(N_("; "), parts)`: "；" between Chinese clauses). Plain-string parts are values."""

    __slots__ = ("parts",)

    def __init__(self, separator: str, parts: Iterable[Phrase | str]) -> None:
        super().__init__(separator)
        object.__setattr__(self, "parts", tuple(parts))

    def render(self, translated: bool) -> str:
        separator = gettext(self.template) if translated else self.template
        return separator.join(_render(part, translated) for part in self.parts)

    def __bool__(self) -> bool:
        return bool(self.parts)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and (self.template, self.parts) == (other.template, other.parts)  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self), self.template, self.parts))


class Said(str):
    """A text as a person reads it now, in the interface's language, that keeps its English
    (`english`) for what is written to files. For a value made once and shown soon after
    (failure advice), where a `Phrase` drawn late would not be a `str`. Its deep copy is the
    English as a plain str, so `dataclasses.asdict` of a record holding it is English."""

    english: str

    def __new__(cls, text: Phrase | str, *, strip: bool = False) -> Said:
        now, kept = shown(text), english(text)
        said = super().__new__(cls, now.strip() if strip else now)
        said.english = kept.strip() if strip else kept
        return said

    def __deepcopy__(self, memo: dict) -> str:
        """The English: a deep copy is what `dataclasses.asdict` (and so `--json`) is built from."""
        return self.english


def _draws_itself(value: Any) -> bool:
    """A `Phrase`, or a str that renders itself in either language (`core.translatable.Translatable`)."""
    return isinstance(value, Phrase) or (isinstance(value, str) and callable(getattr(value, "render", None)))


def _render(value: Any, translated: bool) -> Any:
    return value.render(translated) if _draws_itself(value) else value


def shown(text: Phrase | str) -> str:
    """What a person reads: a `Phrase` or `Translatable` in the current language; a plain message (a
    constant marked with `N_`, or English read back from a file) through the catalog, itself when it is not there."""
    if _draws_itself(text):
        return text.render(True)
    return gettext(text) if text else ""


def phrase(text: Phrase | str) -> Phrase:
    """Any text as a `Phrase` (a plain message becomes one without values: drawn through the catalog)."""
    if isinstance(text, Phrase):
        return text
    if _draws_itself(text):
        return Phrase("{text}", text=text)
    return Phrase(text.english if isinstance(text, Said) else text)


def english(text: Phrase | str) -> str:
    """What a file or `--json` keeps: the English."""
    return text.english if isinstance(text, Said) else str(text)
