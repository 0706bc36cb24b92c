"""The alarm: the run's state in one loud line (running / slow / stalled / frozen / dead / finished)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.markup import escape
from textual.widgets import Static

from emosum_tui.i18n import N_, _
from emosum_tui.i18n.phrase import shown
from emosum_tui.monitor.step_clock import STATES, ClockReading

if TYPE_CHECKING:
    from emosum_tui.ui.messages import LanguageChanged

# The step clock's states (identifiers) as the banner shouts them; `_()` where drawn.
STATE_WORDS = {
    "starting": N_("STARTING"),
    "running": N_("RUNNING"),
    "slow": N_("SLOW"),
    "stalled": N_("STALLED"),
    "frozen": N_("FROZEN"),
    "dead": N_("DEAD"),
    "finished": N_("FINISHED"),
    "stopped": N_("STOPPED"),
    "failed": N_("FAILED"),
}


class StallBanner(Static):
    """Shows the clock's state word and message; the CSS class `-<state>` sets the colour."""

    def __init__(self, **kwargs) -> None:
        super().__init__(_("starting"), **kwargs)
        self.state = ""
        self.text = ""
        self.reading: ClockReading | None = None

    def on_language_changed(self, message: LanguageChanged) -> None:
        if self.reading is not None:
            self.show(self.reading)
        else:
            self.update(_("starting"), layout=False)

    def show(self, reading: ClockReading) -> None:
        self.reading = reading
        word = _(STATE_WORDS[reading.state]) if reading.state in STATE_WORDS else reading.state.upper()
        english = reading.message.removeprefix(reading.state + ": ")  # the words after the state word
        detail = reading.detail if reading.detail and reading.detail == english else english
        text = f"[b]{word}[/b] — {escape(shown(detail))}"
        if reading.state != self.state:
            for state in STATES:
                self.set_class(state == reading.state, f"-{state}")
            if reading.alarm and self.state and self.is_mounted:
                self.app.bell()
            self.state = reading.state
        if text != self.text:
            self.text = text
            self.update(text, layout=False)  # a fixed-height line: no reflow of the screen
