"""Keeping the selected preset's column in view when a table is wider than its panel.

With five or more presets the presets table scrolls sideways; selecting a preset scrolls just
enough to show its column, while the first (label) column stays fixed on the left.
"""

from __future__ import annotations

from textual.geometry import Region, Spacing
from textual.widget import Widget
from textual.widgets import DataTable


def reveal_column(table: DataTable, index: int) -> None:
    """Scroll `table` sideways (never up or down) so column `index` is fully visible."""
    widths = [column.get_render_width(table) for column in table.columns.values()]
    reveal_span(table, widths, index, table.fixed_columns)


def reveal_span(widget: Widget, widths: list[int], index: int, fixed_columns: int) -> None:
    """Scroll `widget` sideways so the column `index` of these render widths is fully visible
    beside the `fixed_columns` that never scroll (a DataTable's, or the strip-drawn presets table's)."""
    if not 0 <= index < len(widths):
        return
    region = Region(sum(widths[:index]), int(widget.scroll_y), widths[index], 1)
    spacing = Spacing(0, 0, 0, sum(widths[:fixed_columns]))
    widget.scroll_to_region(region, spacing=spacing, animate=False, y_axis=False, force=True)
