"""Step timing: step n / N, how long this step has run, last and median s/step, rates, ETA."""

from __future__ import annotations

from rich.table import Table
from textual.widgets import Static

from emosum_tui.monitor.step_clock import ClockReading
from emosum_tui.ui.format import human_count, human_duration


def _rate(value: float | None, unit: str) -> str:
    if not value:
        return "—"
    return f"{human_count(round(value) if value >= 100 else round(value, 1))} {unit}"


def _per_step(seconds: float | None) -> str:
    return f"{human_duration(seconds)}/step" if seconds is not None else "—"


class StepPanel(Static):
    """Redrawn by the screen's clock several times a second; draws only what the reading says."""

    def __init__(self, **kwargs) -> None:
        super().__init__("", **kwargs)
        self.last: ClockReading | None = None
        self.table: Table | None = None  # what is shown, for tests and text exports

    def show(self, r: ClockReading) -> None:
        if r == self.last:
            return
        self.last = r
        table = Table.grid(padding=(0, 2))
        table.add_column(style="dim", no_wrap=True)
        table.add_column()
        total = f" / {r.total_steps:,}" if r.total_steps else ""
        table.add_row("step", f"[b]{r.step:,}[/b]{total}")
        if r.running_seconds is not None:
            what = "this step" if r.step_running else r.phase.replace("_", " ")
            limits = ""
            if r.stalled_after is not None:
                limits = f"  [dim](slow > {human_duration(r.slow_after)}, stalled > {human_duration(r.stalled_after)})[/dim]"
            table.add_row(what, f"[b]{r.running_seconds:.1f} s[/b]{limits}")
        else:
            table.add_row("this step", "—")
        median = _per_step(r.median_seconds)
        table.add_row("last / median", f"{_per_step(r.last_seconds)} / {median}  [dim]({r.measured_steps} steps)[/dim]")
        table.add_row("samples/s", _rate(r.samples_per_second, "samples/s"))
        table.add_row("tokens/s", _rate(r.tokens_per_second, "tokens/s"))
        table.add_row("elapsed", human_duration(r.elapsed_seconds) if r.elapsed_seconds is not None else "—")
        table.add_row("ETA", human_duration(r.eta_seconds) if r.eta_seconds is not None else "—")
        table.add_row("expected", f"{_per_step(r.expected_seconds)}  [dim]({r.expected_basis})[/dim]")
        if r.estimate_seconds:
            actual = r.median_seconds
            versus = f" → actual x{actual / r.estimate_seconds:.2f}" if actual else ""
            table.add_row("estimate", f"{_per_step(r.estimate_seconds)}{versus}")
        else:
            table.add_row("estimate", "[dim]no calibrated estimate for this run[/dim]")
        self.table = table
        self.update(table, layout=False)  # fixed rows in a fixed box: no reflow of the screen
