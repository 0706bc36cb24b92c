"""Text that is kept in English and shown in the reader's language, usable wherever a str is.

Some core texts (a data file's bad rows and encoding notes, the stall alarm's line, a tuning
verdict) go two ways at once: into files and machine-readable output (`--json`, the event log,
status.json, alerts.log), which stay English, and onto a screen, which speaks the interface's
language. Code that already treats them as strings (json.dumps, `.split`, `==`, `.startswith`)
must keep working, so a `Translatable` IS the English str, byte for byte, and `shown()` gives it
in the current language. It is `core.phrase.Phrase`'s idea for text that has to stay a str:
`render(translated)` and `shown()` draw it the same way.
"""

from __future__ import annotations

from typing import Any

from emosum_tui.i18n import gettext


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


def _render(value: Any, translated: bool) -> Any:
    return value.render(translated) if isinstance(value, Translatable) else value


def shown(text: Any) -> Any:
    """`text` as a person reads it: a Translatable in the current language, anything else as it is."""
    return text.shown() if isinstance(text, Translatable) else text
