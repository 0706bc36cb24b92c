"""Textual's footer, with each key's description in the interface's language.

Key descriptions are written in English where the bindings are declared (class attributes, read
once at import) and marked with `N_`; the footer translates them each time it is composed, so a
language switch shows in the footer as soon as it recomposes.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer as TextualFooter
from textual.widgets._footer import FooterKey, FooterLabel

from emosum_tui.i18n import N_, _

# Textual's own command-palette key, which this footer draws too.
TEXTUAL_WORDS = (N_("palette"), N_("Open the command palette"))


class Footer(TextualFooter):
    def compose(self) -> ComposeResult:
        for widget in super().compose():
            if isinstance(widget, FooterKey):
                widget.description = _(widget.description)
                if widget.tooltip:
                    widget.tooltip = _(str(widget.tooltip))
            elif isinstance(widget, FooterLabel):
                widget.update(_(str(widget.content)))
            yield widget
