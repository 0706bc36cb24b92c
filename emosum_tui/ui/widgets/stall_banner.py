"""The alarm: the run's state in one loud line (running / slow / stalled / frozen / dead / finished)."""

from __future__ import annotations

from rich.markup import escape
from textual.widgets import Static

from emosum_tui.monitor.step_clock import STATES, ClockReading


class StallBanner(Static):
    """Shows the clock's state word and message; the CSS class `-<state>` sets the colour."""

    def __init__(self, **kwargs) -> None:
        super().__init__("starting", **kwargs)
        self.state = ""
        self.text = ""

    def show(self, reading: ClockReading) -> None:
        text = f"[b]{reading.state.upper()}[/b] — {escape(reading.message.removeprefix(reading.state + ': '))}"
        if reading.state != self.state:
            for state in STATES:
                self.set_class(state == reading.state, f"-{state}")
            if reading.alarm and self.state and self.is_mounted:
                self.app.bell()
            self.state = reading.state
        if text != self.text:
            self.text = text
            self.update(text, layout=False)  # a fixed-height line: no reflow of the screen
