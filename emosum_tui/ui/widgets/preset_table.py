"""The presets side by side: one row per parameter, one column per preset.

A value that differs from the chosen baseline is highlighted and carries its ratio ("x2",
"-40%"), so "what changed and by how much" is read, not worked out. Colours come from the
component classes in `app.tcss`; widths are measured by Rich (cell width), so Chinese text in a
value lines up like English.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.widgets import DataTable

from emosum_tui.core.presets import Preset, iter_keys
from emosum_tui.ui.format import change_text, value_text
from emosum_tui.ui.widgets.columns import reveal_column

MAX_VALUE_WIDTH = 16


def cell_text(value: object, base: object, is_baseline: bool) -> tuple[str, bool]:
    """The cell's words and whether it differs from the baseline."""
    text = value_text(value)
    if is_baseline or value == base:
        return text, False
    change = change_text(base, value)
    return (f"{text} {change}" if change else text), True


class PresetTable(DataTable):
    """Every parameter of every preset; the selected column stands out, changes are coloured."""

    COMPONENT_CLASSES = {  # noqa: RUF012 - Textual's own declaration style
        "preset-table--changed",
        "preset-table--selected",
        "preset-table--edited",
        "preset-table--key",
        "preset-table--section",
    }

    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="none", zebra_stripes=True, show_cursor=False, fixed_columns=1, **kwargs)  # type: ignore[arg-type]

    def show(self, presets: list[Preset], selected: int, baseline: int, edited: frozenset[str] = frozenset()) -> None:
        """Redraw for these presets; `edited` names columns holding unsaved edits."""
        scroll = self.scroll_offset
        self.clear(columns=True)
        if not presets:
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
                text, differs = cell_text(preset.values[key], base.values[key], preset is base)
                own_edit = preset.name in edited and preset.parent is not None and preset.parent.values[key] != preset.values[key]
                cells.append((text, differs, own_edit))
            rows.append((key, cells))

        self.add_column(Text("parameter", style=key_style), key="parameter")
        for index, preset in enumerate(presets):
            label = preset.name
            if index == baseline:
                label += " (base)"
            if index == selected:
                label = "▶ " + label
            width = max(cell_len(label), *(min(cell_len(cells[index][0]), MAX_VALUE_WIDTH) for _, cells in rows))
            style = selected_style if index == selected else Style()
            self.add_column(Text(label, style=style + Style(bold=True)), width=width, key=preset.name)

        for key, cells in rows:
            if key.startswith("["):
                self.add_row(Text(key, style=section_style), *([""] * len(presets)), key=key)
                continue
            label = key if "." not in key else "  " + key.split(".", 1)[1]
            row: list[Text] = [Text(label, style=key_style)]
            for index, (text, differs, own_edit) in enumerate(cells):
                style = Style()
                if differs:
                    style += changed_style
                if own_edit:
                    style += edited_style
                if index == selected:
                    style += selected_style
                row.append(Text(text, style=style, no_wrap=True, overflow="ellipsis"))
            self.add_row(*row, key=key)
        self.scroll_to(scroll.x, scroll.y, animate=False)
        self.call_after_refresh(reveal_column, self, selected + 1)
