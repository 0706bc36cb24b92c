"""Driving a Textual app with the Pilot: one terminal size, one way to wait, the training screen alone."""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.app import App
from textual.pilot import Pilot
from textual.screen import Screen

from emosum_tui.ui.app import EmosumApp
from emosum_tui.ui.screens.presets import PresetsScreen
from emosum_tui.ui.screens.training import TrainingScreen

SIZE = (160, 50)  # columns x rows: the size the screens are laid out for


async def wait_for(pilot: Pilot, condition: Callable[[], object], timeout: float = 60.0, step: float = 0.05) -> float:
    """Pause the pilot until `condition()` holds; returns the wall time it became true.

    The app keeps running between checks, so workers and timers make progress while we wait."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await pilot.pause(step)
    return time.time()


class ScreenApp(App):
    """The training screen alone, as `EmosumApp(watch=...)` shows it."""

    def __init__(self, screen: TrainingScreen) -> None:
        super().__init__()
        self.training = screen

    def on_mount(self) -> None:
        self.push_screen(self.training)


class ConsoleWith(EmosumApp):
    """The console with `screen` pushed over the presets (idle under it, as under `watch`), so the
    footer holds the app's keys (`l` among them) as well as the screen's."""

    def __init__(self, screen: Screen) -> None:
        super().__init__(s_per_step=1.0)
        self.shown = screen

    def get_default_screen(self) -> Screen:
        return PresetsScreen(None, s_per_step=1.0, hidden_at_start=True)

    def on_mount(self) -> None:
        self.push_screen(self.shown)
