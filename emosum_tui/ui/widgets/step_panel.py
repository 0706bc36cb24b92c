"""Step timing: step n / N, how long this step has run, last and median s/step, rates, ETA."""

from __future__ import annotations

from typing import TYPE_CHECKING

from emosum_tui.i18n import N_, _, pgettext
from emosum_tui.i18n.phrase import shown
from emosum_tui.monitor.step_clock import ClockReading
from emosum_tui.ui.format import human_count, human_duration, pad_cells
from emosum_tui.ui.widgets.live_text import LiveText

if TYPE_CHECKING:
    from emosum_tui.ui.messages import LanguageChanged

LABEL_WIDTH = 15  # "last / median" and two spaces: the labels form a column (in cells)

# What is being timed when no step runs: the trainer's phase identifiers, in words.
TIMED_PHASES = {
    "training": N_("training"),
    "evaluating": N_("evaluating"),
    "saving": N_("saving"),
    "compiling": N_("compiling"),
}
# What a run's estimate rests on (`ClockReading.estimate_kind`, an identifier), in words.
ESTIMATE_KINDS = {"calibrated": N_("calibrated"), "prior": N_("prior"), "given": N_("given")}


def _rate(value: float | None, unit: str) -> str:
    if not value:
        return "—"
    return f"{human_count(round(value) if value >= 100 else round(value, 1))} {unit}"


def _per_step(seconds: float | None) -> str:
    return f"{human_duration(seconds)}/step" if seconds is not None else "—"


def _in_brackets(text: str) -> str:
    """"(text)", with the brackets of the interface's language."""
    return pgettext("in brackets", "({text})").format(text=text)


def _running(seconds: float) -> str:
    """Tenths while they matter; whole seconds after ten, so a long step redraws once a second, not five times."""
    return f"{seconds:.1f} s" if seconds < 10 else f"{seconds:.0f} s"


def step_text(r: ClockReading) -> str:
    """The panel's lines (markup): a dim label column, then the figures."""
    rows: list[tuple[str, str]] = []
    total = f" / {r.total_steps:,}" if r.total_steps else ""
    rows.append((_("step"), f"[b]{r.step:,}[/b]{total}"))
    if r.running_seconds is not None:
        phase = TIMED_PHASES.get(r.phase)
        what = _("this step") if r.step_running else _(phase) if phase else r.phase.replace("_", " ")
        limits = ""
        if r.stalled_after is not None:
            limits = "  [dim]" + _("(slow > {slow}, stalled > {stalled})").format(
                slow=human_duration(r.slow_after), stalled=human_duration(r.stalled_after)) + "[/dim]"
        rows.append((what, f"[b]{_running(r.running_seconds)}[/b]{limits}"))
    else:
        rows.append((_("this step"), "—"))
    median = _per_step(r.median_seconds)
    steps = "[dim]" + _("({n} steps)").format(n=r.measured_steps) + "[/dim]"
    rows.append((_("last / median"), f"{_per_step(r.last_seconds)} / {median}  {steps}"))
    rows.append(("samples/s", _rate(r.samples_per_second, "samples/s")))
    rows.append(("tokens/s", _rate(r.tokens_per_second, "tokens/s")))
    rows.append((_("elapsed"), human_duration(r.elapsed_seconds) if r.elapsed_seconds is not None else "—"))
    rows.append((_("ETA"), human_duration(r.eta_seconds) if r.eta_seconds is not None else "—"))
    rows.append((_("expected"), f"{_per_step(r.expected_seconds)}  [dim]{_in_brackets(shown(r.expected_basis))}[/dim]"))
    if r.estimate_seconds:
        actual = r.median_seconds
        versus = " → " + _("actual x{ratio}").format(ratio=f"{actual / r.estimate_seconds:.2f}") if actual else ""
        kind_words = _(ESTIMATE_KINDS[r.estimate_kind]) if r.estimate_kind in ESTIMATE_KINDS else r.estimate_kind
        kind = f"  [dim]{_in_brackets(kind_words)}[/dim]" if r.estimate_kind else ""
        rows.append((_("estimate"), f"{_per_step(r.estimate_seconds)}{versus}{kind}"))
    else:
        rows.append((_("estimate"), "[dim]" + _("no estimate kept with this run") + "[/dim]"))
    return "\n".join(f"[dim]{pad_cells(label, LABEL_WIDTH)}[/dim]{value}" for label, value in rows)


class StepPanel(LiveText):
    """Redrawn by the screen's clock once a second (at once when the run's state changes); draws
    only when its words change, and never re-flows the screen (a fixed box in the CSS)."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__("", fixed_size=True, **kwargs)
        self.reading: ClockReading | None = None

    def show_reading(self, r: ClockReading) -> None:
        self.reading = r
        self.show(step_text(r))

    def on_language_changed(self, message: LanguageChanged) -> None:
        if self.reading is not None:
            self.show_reading(self.reading)
