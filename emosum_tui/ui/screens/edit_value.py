"""Edit one value of the selected preset: pick a key, type a value, see the error or the new plan.

The value is checked by the same strict loader as a preset file (`apply_changes`), so the
message names the key and the value exactly as `emosum-tui presets show` would. The screen
returns the accepted (key, value); the presets screen re-estimates at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.markup import escape
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from emosum_tui.core.presets import Preset, PresetError, format_toml_value, iter_keys
from emosum_tui.i18n import N_, _
from emosum_tui.ui.format import value_text
from emosum_tui.ui.preset_edits import apply_changes, parse_value


@dataclass(frozen=True)
class EditResult:
    """An accepted edit: the key, its new value and the preset with all edits applied."""

    key: str
    value: Any
    preset: Preset


class EditValueScreen(ModalScreen[EditResult | None]):
    """Modal: key list with help, a value input, the loader's verdict."""

    CSS_PATH = Path(__file__).with_name("dialogs.tcss")

    BINDINGS = [Binding("escape", "cancel", N_("cancel"))]  # noqa: RUF012

    def __init__(self, base: Preset, changes: dict[str, Any], key: str | None = None) -> None:
        super().__init__()
        self.base = base
        self.changes = dict(changes)
        self.current = apply_changes(base, self.changes)
        self.initial_key = key

    def compose(self) -> ComposeResult:
        with Vertical(id="edit-dialog"):
            yield Label(Text.from_markup(_("Edit a value of {preset}").format(preset=f"[b]{escape(self.current.name)}[/b]")),
                        id="edit-title")
            options = []
            for key, _spec in iter_keys():
                value = self.current.values[key]
                prompt = Text.assemble((f"{key:<30}", "bold"), f" {value_text(value)}")
                options.append(Option(prompt, id=key))
            yield OptionList(*options, id="edit-keys")
            yield Static("", id="edit-help")
            yield Input(placeholder=_("new value (TOML: 4, 1e-4, true, \"text\")"), id="edit-value")
            yield Static("", id="edit-error")
            yield Label(_("enter: apply and re-estimate · esc: cancel"), id="edit-keys-help")

    def on_mount(self) -> None:
        keys = self.query_one("#edit-keys", OptionList)
        index = 0
        if self.initial_key:
            index = next((i for i, (k, _s) in enumerate(iter_keys()) if k == self.initial_key), 0)
        keys.highlighted = index
        keys.focus()

    @property
    def highlighted_key(self) -> str | None:
        keys = self.query_one("#edit-keys", OptionList)
        if keys.highlighted is None:
            return None
        return keys.get_option_at_index(keys.highlighted).id

    @on(OptionList.OptionHighlighted, "#edit-keys")
    def show_key(self, event: OptionList.OptionHighlighted) -> None:
        key = event.option.id
        if key is None:
            return
        spec = dict(iter_keys())[key]
        choices = "  " + _("(one of: {choices})").format(choices=", ".join(spec.choices)) if spec.choices else ""
        self.query_one("#edit-help", Static).update(Text(f"{key}: " + _(spec.help) + choices))  # the schema marks help with N_
        self.query_one("#edit-value", Input).value = format_toml_value(self.current.values[key])
        self.query_one("#edit-error", Static).update("")

    @on(OptionList.OptionSelected, "#edit-keys")
    def choose_key(self) -> None:
        self.query_one("#edit-value", Input).focus()

    @on(Input.Submitted, "#edit-value")
    def apply(self, event: Input.Submitted) -> None:
        key = self.highlighted_key
        if key is None:
            return
        error = self.query_one("#edit-error", Static)
        try:
            value = parse_value(key, event.value)
            candidate = apply_changes(self.base, {**self.changes, key: value})
        except PresetError as exc:
            error.update(Text(str(exc)))
            error.add_class("shown")
            return
        self.dismiss(EditResult(key=key, value=candidate.values[key], preset=candidate))

    def action_cancel(self) -> None:
        self.dismiss(None)
