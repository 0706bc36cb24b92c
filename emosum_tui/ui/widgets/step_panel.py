"""Step timing: step n / N, how long this step has run, last and median s/step, rates, ETA."""

from __future__ import annotations

from emosum_tui.monitor.step_clock import ClockReading
from emosum_tui.ui.format import human_count, human_duration
from emosum_tui.ui.widgets.live_text import LiveText

LABEL_WIDTH = 15  # "last / median" and two spaces: the labels form a column


def _rate(value: float | None, unit: str) -> str:
    if not value:
        return "—"
    return f"{human_count(round(value) if value >= 100 else round(value, 1))} {unit}"


def _per_step(seconds: float | None) -> str:
    return f"{human_duration(seconds)}/step" if seconds is not None else "—"


def _running(seconds: float) -> str:
    """Tenths while they matter; whole seconds after ten, so a long step redraws once a second, not five times."""
    return f"{seconds:.1f} s" if seconds < 10 else f"{seconds:.0f} s"


def step_text(r: ClockReading) -> str:
    """The panel's lines (markup): a dim label column, then the figures."""
    rows: list[tuple[str, str]] = []
    total = f" / {r.total_steps:,}" if r.total_steps else ""
    rows.append(("step", f"[b]{r.step:,}[/b]{total}"))
    if r.running_seconds is not None:
        what = "this step" if r.step_running else r.phase.replace("_", " ")
        limits = ""
        if r.stalled_after is not None:
            limits = f"  [dim](slow > {human_duration(r.slow_after)}, stalled > {human_duration(r.stalled_after)})[/dim]"
        rows.append((what, f"[b]{_running(r.running_seconds)}[/b]{limits}"))
    else:
        rows.append(("this step", "—"))
    median = _per_step(r.median_seconds)
    rows.append(("last / median", f"{_per_step(r.last_seconds)} / {median}  [dim]({r.measured_steps} steps)[/dim]"))
    rows.append(("samples/s", _rate(r.samples_per_second, "samples/s")))
    rows.append(("tokens/s", _rate(r.tokens_per_second, "tokens/s")))
    rows.append(("elapsed", human_duration(r.elapsed_seconds) if r.elapsed_seconds is not None else "—"))
    rows.append(("ETA", human_duration(r.eta_seconds) if r.eta_seconds is not None else "—"))
    rows.append(("expected", f"{_per_step(r.expected_seconds)}  [dim]({r.expected_basis})[/dim]"))
    if r.estimate_seconds:
        actual = r.median_seconds
        versus = f" → actual x{actual / r.estimate_seconds:.2f}" if actual else ""
        kind = f"  [dim]({r.estimate_kind})[/dim]" if r.estimate_kind else ""
        rows.append(("estimate", f"{_per_step(r.estimate_seconds)}{versus}{kind}"))
    else:
        rows.append(("estimate", "[dim]no estimate kept with this run[/dim]"))
    return "\n".join(f"[dim]{label:<{LABEL_WIDTH}}[/dim]{value}" for label, value in rows)


class StepPanel(LiveText):
    """Redrawn by the screen's clock once a second (at once when the run's state changes); draws
    only when its words change, and never re-flows the screen (a fixed box in the CSS)."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__("", fixed_size=True, **kwargs)

    def show_reading(self, r: ClockReading) -> None:
        self.show(step_text(r))
