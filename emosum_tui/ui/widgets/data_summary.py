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
from emosum_tui.ui.format import human_count, percent

if TYPE_CHECKING:
    from emosum_tui.core.presets import Preset
    from emosum_tui.core.token_stats import TokenReport


def summary_table(preset: Preset, report: TokenReport) -> Table:
    """A two-column Rich table (label, value) for one preset's TokenReport."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    total = len(report.train.source)
    used = rows_for(total, preset["data.train_samples"], preset["data.train_fraction"])
    table.add_row("train rows", f"{human_count(used)} of {human_count(total)}")
    if report.validation is not None:
        total_val = len(report.validation.source)
        limit = preset["data.validation_samples"]
        val_used = min(limit, total_val) if limit > 0 else total_val
        table.add_row("validation rows", f"{human_count(val_used)} of {human_count(total_val)}")
    else:
        table.add_row("validation rows", Text(f"no file {preset['data.validation_file']}", style="italic"))
    source, target = report.source_stats, report.target_stats
    table.add_row("source tokens", f"mean {source.mean:.0f}, p90 {source.p90:.0f}, max {source.max:.0f}")
    table.add_row("target tokens", f"mean {target.mean:.0f}, p90 {target.p90:.0f}, max {target.max:.0f}")
    src_cut, tgt_cut = report.source_truncation, report.target_truncation
    table.add_row(
        f"cut at {report.max_source} (source)",
        f"{percent(src_cut.rows_cut)} of rows, {percent(src_cut.tokens_cut)} of tokens",
    )
    table.add_row(
        f"cut at {report.max_target} (target)",
        f"{percent(tgt_cut.rows_cut)} of rows, {percent(tgt_cut.tokens_cut)} of tokens",
    )
    table.add_row("basis", Text(report.basis, style="dim"))
    return table


class DataSummary(Static):
    """Token statistics of the selected preset, drawn from a TokenReport computed in a worker."""

    def show(self, preset: Preset | None, report: TokenReport | None, error: str = "") -> None:
        self.set_class(bool(error), "error")
        self.set_class(preset is not None and not error and report is None, "pending")
        if preset is None:
            self.update("")
        elif error:
            self.update(Text(f"data of {preset.name}: {error}"))
        elif report is None:
            self.update(Text(f"data of {preset.name}: reading and counting tokens…"))
        else:
            self.update(summary_table(preset, report))
