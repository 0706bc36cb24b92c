"""Save the edited preset as a new file: `presets/<name>.toml` with `extends` and only the changes.

An existing file is never replaced: a taken name is an error shown in the dialog, and the user
picks another.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from emosum_tui.core.presets import Preset, PresetError, format_toml_value
from emosum_tui.i18n import N_, _
from emosum_tui.ui.preset_edits import check_new_name, save_new_preset


class SavePresetScreen(ModalScreen[Path | None]):
    """Modal: a name for the new preset; returns the written path, or None when cancelled."""

    CSS_PATH = Path(__file__).with_name("dialogs.tcss")

    BINDINGS = [Binding("escape", "cancel", N_("cancel"))]  # noqa: RUF012

    def __init__(self, base: Preset, changes: dict[str, Any]) -> None:
        super().__init__()
        self.base = base
        self.changes = dict(changes)

    def compose(self) -> ComposeResult:
        with Vertical(id="save-dialog"):
            yield Label(_("Save as a new preset extending [b]{preset}[/b]  (enter: save, esc: cancel)").format(preset=self.base.name))
            changes = "\n".join(f"  {key} = {format_toml_value(value)}" for key, value in self.changes.items())
            yield Static(Text(changes or "  " + _("(no changes)")), id="save-changes")
            yield Input(value=self._suggested_name(), placeholder=_("new preset name"), id="save-name")
            yield Static("", id="save-error")

    def _suggested_name(self) -> str:
        for number in range(2, 100):
            name = f"{self.base.name}-{number}"
            if check_new_name(name) is None:
                return name
        return ""

    def on_mount(self) -> None:
        self.query_one("#save-name", Input).focus()

    @on(Input.Submitted, "#save-name")
    def save(self, event: Input.Submitted) -> None:
        try:
            path = save_new_preset(self.base, self.changes, event.value.strip())
        except (PresetError, OSError) as exc:
            error = self.query_one("#save-error", Static)
            error.update(Text(str(exc)))
            error.add_class("shown")
            return
        self.dismiss(path)

    def action_cancel(self) -> None:
        self.dismiss(None)
