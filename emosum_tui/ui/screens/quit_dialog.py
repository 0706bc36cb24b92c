"""Quitting while a run this console started is still training: leave it running, or stop it.

Training runs in its own process, so leaving is safe: `emosum-tui watch` or the runs screen
attach to it later. Stopping asks the trainer (by a file in the run directory, the same on
Windows and Linux) to save a checkpoint and exit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label

from emosum_tui.i18n import N_, _

QuitChoice = Literal["leave", "stop"]


class QuitScreen(ModalScreen["QuitChoice | None"]):
    """Modal: leave the training running, stop it (checkpoint, then exit), or cancel."""

    CSS_PATH = Path(__file__).with_name("dialogs.tcss")

    BINDINGS = [  # noqa: RUF012
        Binding("l", "choose('leave')", N_("leave running")),
        Binding("s", "choose('stop')", N_("stop it")),
        Binding("escape", "choose('')", N_("cancel")),
    ]

    def __init__(self, run_dirs: list[Path]) -> None:
        super().__init__()
        self.run_dirs = run_dirs

    def compose(self) -> ComposeResult:
        names = ", ".join(path.name for path in self.run_dirs)
        with Vertical(id="quit-dialog"):
            yield Label(_("Training is still running: {runs}").format(runs=names), id="quit-title")
            yield Label(_("It runs in its own process: you can leave it and attach later (runs screen, `emosum-tui watch`)."))
            with Horizontal(id="quit-buttons"):
                yield Button(_("[u]L[/u]eave it running"), id="leave", variant="primary")
                yield Button(_("[u]S[/u]top it (checkpoint, then exit)"), id="stop", variant="warning")
                yield Button(_("Cancel (esc)"), id="cancel")

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        self.action_choose(event.button.id if event.button.id in ("leave", "stop") else "")

    def action_choose(self, choice: str) -> None:
        self.dismiss(choice or None)  # type: ignore[arg-type]
