"""The selected preset's data in a few lines: rows used, token lengths, and what truncation cuts.

`fast` trains on 128 target tokens while the reflections run to ~350: the share of rows and
of tokens cut off is the price of that speed, shown next to the speed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from emosum_tui.core.sampling import rows_for
from emosum_tui.i18n import _
from emosum_tui.i18n.phrase import shown
from emosum_tui.ui.format import human_count, percent

if TYPE_CHECKING:
    from emosum_tui.core.presets import Preset
    from emosum_tui.core.token_stats import TokenReport
    from emosum_tui.ui.messages import LanguageChanged


def summary_table(preset: Preset, report: TokenReport) -> Table:
    """A two-column Rich table (label, value) for one preset's TokenReport."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    total = len(report.train.source)
    used = rows_for(total, preset["data.train_samples"], preset["data.train_fraction"])
    table.add_row(_("train rows"), _("{used} of {total}").format(used=human_count(used), total=human_count(total)))
    if report.validation is not None:
        total_val = len(report.validation.source)
        limit = preset["data.validation_samples"]
        val_used = min(limit, total_val) if limit > 0 else total_val
        table.add_row(_("validation rows"), _("{used} of {total}").format(used=human_count(val_used), total=human_count(total_val)))
    else:
        table.add_row(_("validation rows"), Text(_("no file {path}").format(path=preset["data.validation_file"]), style="italic"))
    source, target = report.source_stats, report.target_stats
    for label, stats in ((_("source tokens"), source), (_("target tokens"), target)):
        table.add_row(label, _("mean {mean}, p90 {p90}, max {max}").format(
            mean=f"{stats.mean:.0f}", p90=f"{stats.p90:.0f}", max=f"{stats.max:.0f}"))
    src_cut, tgt_cut = report.source_truncation, report.target_truncation
    for label, cut in ((_("cut at {tokens} (source)").format(tokens=report.max_source), src_cut),
                       (_("cut at {tokens} (target)").format(tokens=report.max_target), tgt_cut)):
        table.add_row(label, _("{rows} of rows, {tokens} of tokens").format(rows=percent(cut.rows_cut), tokens=percent(cut.tokens_cut)))
    table.add_row(_("basis"), Text(shown(report.basis), style="dim"))
    return table


class DataSummary(Static):
    """Token statistics of the selected preset, drawn from a TokenReport computed in a worker."""

    drawn_with: tuple[Preset | None, TokenReport | None, str] | None = None  # `show`'s arguments, to redraw

    def on_language_changed(self, message: LanguageChanged) -> None:
        if self.drawn_with is not None:
            self.show(*self.drawn_with)

    def show(self, preset: Preset | None, report: TokenReport | None, error: str = "") -> None:
        self.drawn_with = (preset, report, error)
        self.set_class(bool(error), "error")
        self.set_class(preset is not None and not error and report is None, "pending")
        if preset is None:
            self.update("")
        elif error:
            self.update(Text(_("data of {name}: {error}").format(name=preset.name, error=error)))
        elif report is None:
            self.update(Text(_("data of {name}: reading and counting tokens…").format(name=preset.name)))
        else:
            self.update(summary_table(preset, report))
