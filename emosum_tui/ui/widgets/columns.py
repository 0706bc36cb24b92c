"""Keeping the selected preset's column in view when a table is wider than its panel.

With five or more presets the presets table scrolls sideways; selecting a preset scrolls just
enough to show its column, while the first (label) column stays fixed on the left.
"""

from __future__ import annotations

from textual.geometry import Region, Spacing
from textual.widgets import DataTable


def reveal_column(table: DataTable, index: int) -> None:
    """Scroll `table` sideways (never up or down) so column `index` is fully visible."""
    columns = list(table.columns.values())
    if not 0 <= index < len(columns):
        return
    x = sum(column.get_render_width(table) for column in columns[:index])
    width = columns[index].get_render_width(table)
    fixed = sum(column.get_render_width(table) for column in columns[: table.fixed_columns])
    region = Region(x, int(table.scroll_y), width, 1)
    table.scroll_to_region(region, spacing=Spacing(0, 0, 0, fixed), animate=False, y_axis=False, force=True)
