"""Words for a person that are also kept on disk: English kept, the reader's language drawn late.

A finding, an alert, a data-check reason or an estimate's basis is made once and read twice: by
a person (in the interface's language, which the `l` key can switch after it was made) and by a
file or `--json` (always English). Three shapes, one rule:

- `Phrase`: an English template (marked with `N_` where it is written) and its named values;
  `str()` is the English, `shown()` the current language. `Joined` joins phrases.
- `Translatable`: the same for text that must stay a `str` (json.dumps, `==`, `.split` keep
  seeing the English, byte for byte); `shown()` gives the current language.
- `Said`: a str already in the reader's language that keeps its English (`english`) for files.

`shown(text)` is what every screen and command calls to draw any of them; a value inside a
template that is itself one of them is drawn in the same language, any other value never is.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol, runtime_checkable

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


class Translatable(str):
    """`Translatable(N_("id {id} repeats line {line}"), id="'a7'", line=12)`: the str is the English.

    The template is the catalog's msgid (mark it with `N_` where it is written), with named
    placeholders only; values are formatted beforehand, and a value that is itself a
    `Translatable` is drawn in the same language (any other value is never translated)."""

    template: str
    values: dict[str, Any]

    def __new__(cls, template: str, /, **values: Any) -> Translatable:
        text = super().__new__(cls, template.format(**values))
        text.template = template
        text.values = values
        return text

    def __getnewargs_ex__(self) -> tuple[tuple[str], dict[str, Any]]:
        return (self.template,), dict(self.values)  # copies (dataclasses.asdict) and pickles keep the msgid

    def render(self, translated: bool) -> str:
        """The text in English (`translated=False`, as a plain str) or in the current language."""
        template = gettext(self.template) if translated else self.template
        return template.format(**{name: _render(value, translated) for name, value in self.values.items()})

    def shown(self) -> str:
        """The text in the interface's language now (English where the catalog has no translation)."""
        return self.render(True)


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
    return isinstance(value, (Phrase, Translatable))


@runtime_checkable
class SaysItself(Protocol):
    """A record that knows how it reads to a person (`core.data.Problem`: its file, line and reason)."""

    def shown(self) -> str: ...


def _render(value: Any, translated: bool) -> Any:
    return value.render(translated) if _draws_itself(value) else value


def shown(text: Any) -> Any:
    """What a person reads: a `Phrase` or `Translatable` in the current language, a record by its own
    `shown()`, a plain message (a constant marked with `N_`, or English read back from a file)
    through the catalog (itself when not there); any other value (a number, None) as it is."""
    if _draws_itself(text):
        return text.render(True)
    if isinstance(text, SaysItself):
        return text.shown()
    if isinstance(text, str):
        return gettext(text) if text else ""
    return text


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
