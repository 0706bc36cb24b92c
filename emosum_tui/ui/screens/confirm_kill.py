"""Kill is the last resort (no checkpoint), so it asks first; stop is the gentle way. `kill_process_tree` kills."""

from __future__ import annotations

import contextlib
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label

from emosum_tui.i18n import N_, _


def kill_process_tree(pid: int) -> None:
    """Kill the trainer and its children (dataloader workers); psutil works the same on Windows."""
    import psutil

    try:
        root = psutil.Process(pid)
        procs = [*root.children(recursive=True), root]
    except psutil.NoSuchProcess:
        return
    for proc in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.kill()
    psutil.wait_procs(procs, timeout=5)


class ConfirmKillScreen(ModalScreen[bool]):
    """Modal: really kill the trainer process tree? Dismisses with True only on a clear yes."""

    CSS_PATH = Path(__file__).with_name("dialogs.tcss")

    BINDINGS = [  # noqa: RUF012
        Binding("y", "answer(True)", N_("yes, kill it")),
        Binding("n,escape", "answer(False)", N_("no")),
    ]

    def __init__(self, run_name: str, pid: int | None) -> None:
        super().__init__()
        self.run_name = run_name
        self.pid = pid

    def compose(self) -> ComposeResult:
        with Vertical(id="kill-dialog"):
            yield Label(_("Kill the trainer of {run} (pid {pid}) now?").format(run=self.run_name, pid=self.pid or "?"), id="kill-title")
            yield Label(_("No checkpoint is saved: the steps since the last checkpoint are lost. Stop (s) saves one first."))
            with Horizontal(id="kill-buttons"):
                yield Button(_("[u]Y[/u]es, kill it"), id="kill-yes", variant="error")
                yield Button(_("[u]N[/u]o (esc)"), id="kill-no", variant="primary")

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "kill-yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
