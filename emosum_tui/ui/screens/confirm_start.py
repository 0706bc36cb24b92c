"""Starting a run that preflight expects to fail or crawl asks first, naming why; the default is no."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from emosum_tui.doctor.findings import Finding
from emosum_tui.i18n import N_, _, ngettext
from emosum_tui.ui.widgets.diagnosis_panel import finding_markup


class ConfirmStartScreen(ModalScreen[bool]):
    """Modal: start `preset` despite its error findings? Dismisses True only on a clear yes
    (`y` or the start button); enter, `n` and escape cancel (the cancel button has the focus)."""

    CSS_PATH = Path(__file__).with_name("dialogs.tcss")

    BINDINGS = [  # noqa: RUF012
        Binding("y", "answer(True)", N_("start anyway")),
        Binding("n,escape", "answer(False)", N_("cancel")),
    ]

    def __init__(self, preset: str, errors: Sequence[Finding]) -> None:
        super().__init__()
        self.preset = preset
        self.errors = list(errors)

    def compose(self) -> ComposeResult:
        count = len(self.errors)
        with Vertical(id="start-dialog"):
            yield Label(ngettext("Start {preset}? Preflight found {n} error:", "Start {preset}? Preflight found {n} errors:",
                                 count).format(preset=self.preset, n=count), id="start-title")
            for finding in self.errors:
                yield Static(finding_markup(finding), classes="start-finding")
            yield Label(ngettext("Fix it first, or start anyway (the run may fail or be very slow).",
                                 "Fix them first, or start anyway (the run may fail or be very slow).", count), id="start-advice")
            with Horizontal(id="start-buttons"):
                yield Button(_("Cancel (n, esc)"), id="start-no", variant="primary")
                yield Button(_("Start anyway (y)"), id="start-yes", variant="error")

    def on_mount(self) -> None:
        self.query_one("#start-no", Button).focus()

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "start-yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)

    @property
    def text(self) -> str:
        """The question and the findings it names, as plain text (for tests)."""
        return f"Start {self.preset}? " + " | ".join(f.title for f in self.errors)
