"""The basis of each figure of the selected preset: what was assumed, counted or measured.

Figures that rest on the same basis share one line, so ten figures take four or five lines
that wrap to the panel instead of a column cut off at the screen's edge.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from emosum_tui.ui.widgets.estimate_table import METRICS, EstimateCell


def basis_lines(cell: EstimateCell) -> list[tuple[str, str]]:
    """(labels, basis) for one estimate, figures that share a basis on one line."""
    if cell.error or cell.estimate is None:
        return []
    basis_map = cell.estimate.basis or {}
    grouped: dict[str, list[str]] = {}
    for metric in METRICS:
        text = str(basis_map.get(metric.field, "")).strip()
        if text:
            grouped.setdefault(text, []).append(metric.label)
    return [(", ".join(labels), text) for text, labels in grouped.items()]


class BasisNotes(Static):
    """Where each figure of the selected preset comes from, wrapped to the panel's width."""

    def show(self, name: str, cell: EstimateCell) -> None:
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
        for number, (labels, basis) in enumerate(lines):
            if number:
                text.append("\n")
            text.append(labels, style="bold")
            text.append(f": {basis}")
        self.update(text)
