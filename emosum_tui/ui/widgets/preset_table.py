"""The presets side by side: one row per parameter, one column per preset.

A value that differs from the chosen baseline is highlighted and carries its ratio ("x2",
"-40%"), so "what changed and by how much" is read, not worked out. Colours come from the
component classes in `screens/presets.tcss`; widths are measured by Rich (cell width), so
Chinese text in a value lines up like English.

The table is the console's first frame, so it is drawn as one `Strip` per row (Textual's Line
API), the header and the parameter column fixed: it is plain text in known widths, and a
`DataTable` would measure and render every cell through Rich before that frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from emosum_tui.core.preset_fields import Field
from emosum_tui.core.presets import Preset, iter_keys
from emosum_tui.i18n import _
from emosum_tui.ui.format import change_text, fit_cells, value_text, zero_text
from emosum_tui.ui.widgets.columns import reveal_span

if TYPE_CHECKING:
    from emosum_tui.ui.messages import LanguageChanged

MAX_VALUE_WIDTH = 16


def cell_text(value: object, base: object, is_baseline: bool, spec: Field | None = None) -> tuple[str, bool]:
    """The cell's words and whether it differs from the baseline; a 0 that means "all" or
    "automatic" reads so, and is not a ratio of anything."""
    shown, base_shown = (spec.shown(value), spec.shown(base)) if spec else (value, base)
    text = value_text(shown) if shown is value else zero_text(value_text(shown))
    if is_baseline or value == base:
        return text, False
    change = change_text(base, value) if shown is value and base_shown is base else ""
    return (f"{text} {change}" if change else text), True


PADDING = 1  # cells of space either side of a value, as DataTable has


@dataclass(frozen=True)
class Column:
    key: str
    label: Text
    width: int  # the value's cells, without the padding

    @property
    def render_width(self) -> int:
        return self.width + 2 * PADDING


class PresetTable(ScrollView, can_focus=True):
    """Every parameter of every preset; the selected column stands out, changes are coloured."""

    COMPONENT_CLASSES = {  # noqa: RUF012 - Textual's own declaration style
        "preset-table--changed",
        "preset-table--selected",
        "preset-table--edited",
        "preset-table--key",
        "preset-table--section",
        "preset-table--header",
        "preset-table--even-row",
    }
    DEFAULT_CSS = """
    PresetTable { background: $surface; color: $foreground; }
    PresetTable:focus { background-tint: $foreground 5%; }
    PresetTable > .preset-table--header { text-style: bold; background: $panel; color: $foreground; }
    PresetTable > .preset-table--even-row { background: $surface-lighten-1 50%; }
    PresetTable:dark > .preset-table--even-row { background: $surface-darken-1 40%; }
    """
    fixed_columns = 1

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.columns: dict[str, Column] = {}
        self.rows: dict[str, list[Text]] = {}  # row key -> its cells, the parameter's label first
        self._row_keys: list[str] = []
        self._strips: dict[int, Strip] = {}  # row (-1: the header) -> the whole row, drawn once
        self._shown: tuple[list[Preset], int, int, frozenset[str]] | None = None  # `show`'s arguments, to redraw

    def on_language_changed(self, message: LanguageChanged) -> None:
        if self._shown is not None:
            self.show(*self._shown)

    # -- what tests and the screen read ------------------------------------------------------------

    def get_cell(self, row_key: str, column_key: str) -> Text:
        return self.rows[row_key][list(self.columns).index(column_key)]

    def get_row_index(self, row_key: str) -> int:
        return self._row_keys.index(row_key)

    def show(self, presets: list[Preset], selected: int, baseline: int, edited: frozenset[str] = frozenset()) -> None:
        """Redraw for these presets; `edited` names columns holding unsaved edits."""
        self._shown = (presets, selected, baseline, edited)
        self.columns, self.rows, self._row_keys, self._strips = {}, {}, [], {}
        if not presets:
            self.virtual_size = Size(0, 0)
            self.refresh()
            return
        base = presets[baseline]
        changed_style = self.get_component_rich_style("preset-table--changed")
        selected_style = self.get_component_rich_style("preset-table--selected")
        edited_style = self.get_component_rich_style("preset-table--edited")
        key_style = self.get_component_rich_style("preset-table--key")
        section_style = self.get_component_rich_style("preset-table--section")
        rows: list[tuple[str, list[tuple[str, bool, bool]]]] = []
        extends = [(p.parent.name if p.parent else "-", False, False) for p in presets]
        rows.append(("extends", extends))
        section = ""
        for key, _spec in iter_keys():
            if not key.startswith(section + "."):
                section = key.split(".", 1)[0]
                rows.append((f"[{section}]", [("", False, False)] * len(presets)))
            cells = []
            for preset in presets:
                text, differs = cell_text(preset.values[key], base.values[key], preset is base, _spec)
                own_edit = preset.name in edited and preset.parent is not None and preset.parent.values[key] != preset.values[key]
                cells.append((text, differs, own_edit))
            rows.append((key, cells))

        labels = [key if key.startswith("[") or "." not in key else "  " + key.split(".", 1)[1] for key, _cells in rows]
        header = _("parameter")
        self.columns["parameter"] = Column("parameter", Text(header, style=key_style), max(map(cell_len, [header, *labels])))
        for index, preset in enumerate(presets):
            label = preset.name
            if index == baseline:
                label = _("{name} (base)").format(name=label)
            if index == selected:
                label = "▶ " + label
            width = max(cell_len(label), *(min(cell_len(cells[index][0]), MAX_VALUE_WIDTH) for _, cells in rows))
            style = selected_style if index == selected else Style()
            self.columns[preset.name] = Column(preset.name, Text(label, style=style + Style(bold=True)), width)

        for (key, cells), label in zip(rows, labels, strict=True):
            if key.startswith("["):
                self.rows[key] = [Text(label, style=section_style), *(Text("") for _preset in presets)]
            else:
                row: list[Text] = [Text(label, style=key_style)]
                for index, (text, differs, own_edit) in enumerate(cells):
                    style = Style()
                    if differs:
                        style += changed_style
                    if own_edit:
                        style += edited_style
                    if index == selected:
                        style += selected_style
                    row.append(Text(text, style=style))
                self.rows[key] = row
            self._row_keys.append(key)
        self.virtual_size = Size(sum(c.render_width for c in self.columns.values()), len(self._row_keys) + 1)
        self.refresh()
        self.call_after_refresh(self.reveal_column, selected + 1)

    def reveal_column(self, index: int) -> None:
        """Scroll sideways (never up or down) so column `index` is fully visible."""
        reveal_span(self, [column.render_width for column in self.columns.values()], index, self.fixed_columns)

    # -- drawing ---------------------------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips = {}  # focus, theme: the rows' colours change

    def _row_strip(self, index: int) -> Strip:
        """Row `index` whole (-1: the header), every column, in the table's colours."""
        strip = self._strips.get(index)
        if strip is None:
            base = self.rich_style
            if index < 0:
                base += self.get_component_rich_style("preset-table--header")
                cells = [column.label for column in self.columns.values()]
            else:
                if index % 2:
                    base += self.get_component_rich_style("preset-table--even-row")
                cells = self.rows[self._row_keys[index]]
            segments = [
                Segment(" " * PADDING + fit_cells(cell.plain, column.width) + " " * PADDING, base + cell.style if isinstance(cell.style, Style) else base)
                for column, cell in zip(self.columns.values(), cells, strict=True)
            ]
            strip = self._strips[index] = Strip(segments, self.virtual_size.width)
        return strip

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        scroll_x, scroll_y = self.scroll_offset
        index = -1 if y == 0 else y - 1 + scroll_y
        if not self.columns or index >= len(self._row_keys):
            return Strip.blank(width, self.rich_style)
        strip = self._row_strip(index)
        fixed = sum(column.render_width for column in list(self.columns.values())[: self.fixed_columns])
        line = Strip.join([strip.crop(0, fixed), strip.crop(fixed + scroll_x, fixed + scroll_x + max(0, width - fixed))])
        return line.extend_cell_length(width, self.rich_style).crop(0, width)
