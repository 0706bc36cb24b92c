"""The basis of each figure of the selected preset: what was assumed, counted or measured.

Figures that rest on the same basis share one line, so ten figures take four or five lines
that wrap to the panel instead of a column cut off at the screen's edge.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import Static

from emosum_tui.i18n import _, pgettext
from emosum_tui.i18n.phrase import shown
from emosum_tui.ui.widgets.estimate_table import METRICS, EstimateCell

if TYPE_CHECKING:
    from emosum_tui.ui.messages import LanguageChanged


def basis_lines(cell: EstimateCell) -> list[tuple[str, str]]:
    """(labels, basis) for one estimate, figures that share a basis on one line."""
    if cell.error or cell.estimate is None:
        return []
    basis_map = cell.estimate.basis or {}
    grouped: dict[str, list[str]] = {}
    for metric in METRICS:
        text = str(shown(basis_map.get(metric.field, ""))).strip()
        if text:
            grouped.setdefault(text, []).append(_(metric.label))
    separator = pgettext("list separator", ", ")
    return [(separator.join(labels), text) for text, labels in grouped.items()]


class BasisNotes(Static):
    """Where each figure of the selected preset comes from, wrapped to the panel's width."""

    drawn_with: tuple[str, EstimateCell] | None = None  # `show`'s arguments, to redraw

    def on_language_changed(self, message: LanguageChanged) -> None:
        if self.drawn_with is not None:
            self.show(*self.drawn_with)

    def show(self, name: str, cell: EstimateCell) -> None:
        self.drawn_with = (name, cell)
        if cell.error:
            self.update(Text(f"{name}: {cell.error}"))
            self.set_class(True, "error")
            return
        self.set_class(False, "error")
        lines = basis_lines(cell)
        if not lines:
            self.update("")
            return
        text = Text()
        colon = pgettext("label separator", ": ")
        for number, (labels, basis) in enumerate(lines):
            if number:
                text.append("\n")
            text.append(labels, style="bold")
            text.append(colon + basis)
        self.update(text)
