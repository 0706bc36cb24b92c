"""What each preset will cost: steps, time, memory and disk, and the basis of every figure.

The user's "2-3 hours" came from a table with no basis; here each figure of the selected
preset says where it comes from (the model config's parameter count, the data's token
lengths, a prior or a calibration measured on this machine). A preset still being estimated
shows "estimating…", one that cannot be estimated shows why.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.style import Style
from rich.text import Text
from textual.widgets import DataTable

from emosum_tui.i18n import N_, _
from emosum_tui.ui.format import human_bytes, human_count, human_duration
from emosum_tui.ui.widgets.columns import reveal_column

if TYPE_CHECKING:
    from emosum_tui.core.cost_model import Estimate
    from emosum_tui.ui.messages import LanguageChanged

ESTIMATING = N_("estimating…")  # translated where shown


@dataclass(frozen=True)
class Metric:
    """One row of the table: the Estimate attribute, its label (English, marked: `_(label)` where
    shown) and how it reads."""

    field: str
    label: str
    show: Callable[[Any], str]


METRICS = (
    Metric("params", N_("params"), human_count),
    Metric("optimizer_steps", N_("opt. steps"), human_count),
    Metric("seconds_per_step", "s/step", human_duration),  # a unit: the same in every language
    Metric("train_seconds", N_("train time"), human_duration),
    Metric("eval_seconds", N_("eval time"), human_duration),
    Metric("total_seconds", N_("total time"), human_duration),
    Metric("peak_memory_bytes", N_("peak memory"), human_bytes),
    Metric("checkpoint_bytes", N_("checkpoint"), human_bytes),
    Metric("peak_disk_bytes", N_("peak disk"), human_bytes),
    Metric("final_disk_bytes", N_("final disk"), human_bytes),
)


@dataclass(frozen=True)
class EstimateCell:
    """What the table knows about one preset: an Estimate, an error, or nothing yet."""

    estimate: Estimate | None = None
    error: str = ""


class EstimateTable(DataTable):
    """Rows = figures, columns = presets; the selected preset's basis is drawn by `BasisNotes`."""

    COMPONENT_CLASSES = {  # noqa: RUF012 - Textual's own declaration style
        "estimate-table--selected",
        "estimate-table--pending",
        "estimate-table--error",
    }

    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="none", show_cursor=False, fixed_columns=1, **kwargs)  # type: ignore[arg-type]
        self._shown: tuple[list[str], dict[str, EstimateCell], int] | None = None  # `show`'s arguments, to redraw

    def on_language_changed(self, message: LanguageChanged) -> None:
        if self._shown is not None:
            self.show(*self._shown)

    def show(self, names: list[str], cells: dict[str, EstimateCell], selected: int) -> None:
        self._shown = (names, cells, selected)
        self.clear(columns=True)
        if not names:
            return
        selected_style = self.get_component_rich_style("estimate-table--selected")
        pending_style = self.get_component_rich_style("estimate-table--pending")
        error_style = self.get_component_rich_style("estimate-table--error")
        rows: list[list[Text]] = []
        for number, metric in enumerate(METRICS):
            row: list[Text] = [Text(_(metric.label))]
            for index, name in enumerate(names):
                cell = cells.get(name, EstimateCell())
                style = selected_style if index == selected else Style()
                if cell.error:
                    text = Text(_("error") if number == 0 else "", style=style + error_style)
                elif cell.estimate is None:
                    text = Text("…", style=style + pending_style)
                else:
                    text = Text(metric.show(getattr(cell.estimate, metric.field, None)), style=style, justify="right")
                row.append(text)
            rows.append(row)
        headers = [Text(_("estimate"))]
        for index, name in enumerate(names):
            label = ("▶ " + name) if index == selected else name
            headers.append(Text(label, style=(selected_style if index == selected else Style()) + Style(bold=True)))
        # Widths measured here (cells, not characters), not left to the table's lazy auto-width.
        for column, header in enumerate(headers):
            width = max(header.cell_len, *(row[column].cell_len for row in rows))
            self.add_column(header, width=width, key="metric" if column == 0 else names[column - 1])
        for metric, row in zip(METRICS, rows, strict=True):
            self.add_row(*row, key=metric.field)
        self.call_after_refresh(reveal_column, self, selected + 1)
