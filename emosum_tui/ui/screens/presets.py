"""The first screen: presets side by side, what each will cost, and why one is faster than another.

Everything slow (token counting, the cost model, preflight, a calibration probe) runs in thread
workers that post messages: the table is drawn on the first frame and the side panel
(`PresetsSide`) fills in as figures arrive; the footer lists the keys. `s` starts a run once the
preset's preflight is known (asking first when it has an error): a `StartRun` for the app.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Header, Static

from emosum_tui.core.presets import Preset
from emosum_tui.i18n import N_, _
from emosum_tui.ui.messages import LanguageChanged, StartRun
from emosum_tui.ui.preset_edits import apply_changes, load_presets
from emosum_tui.ui.preset_figures import FigureStore
from emosum_tui.ui.screens.presets_calibration import CalibrationScreen
from emosum_tui.ui.widgets.footer import Footer
from emosum_tui.ui.widgets.preset_table import PresetTable
from emosum_tui.ui.widgets.presets_side import PresetsSide

if TYPE_CHECKING:
    from emosum_tui.doctor.findings import Finding
    from emosum_tui.ui.widgets.preflight_panel import PreflightPanel


class PresetsScreen(CalibrationScreen):
    """Presets side by side with estimates, the speed-up decomposition and the data summary."""

    CSS_PATH = Path(__file__).with_name("presets.tcss")

    BINDINGS = [  # noqa: RUF012
        Binding("1", "select(0)", N_("select"), key_display="1-9"),
        *(Binding(str(n), f"select({n - 1})", show=False) for n in range(2, 10)),
        Binding("left", "step(-1)", N_("prev/next"), key_display="←/→", priority=True),
        Binding("right", "step(1)", show=False, priority=True),
        Binding("tab", "step(1)", show=False, priority=True),
        Binding("shift+tab", "step(-1)", show=False, priority=True),
        Binding("b", "baseline", N_("baseline")),
        Binding("s", "start", N_("start run")),
        Binding("c", "calibrate", N_("calibrate")),
        Binding("e", "edit", N_("edit value")),
        Binding("a", "apply_fix", N_("apply fix")),
        Binding("w", "save", N_("save as new")),
        Binding("d", "discard", N_("discard edits")),
        Binding("f", "switch_focus", N_("table/side")),
    ]

    def __init__(self, preset: str | None = None, s_per_step: float | None = None, hidden_at_start: bool = False) -> None:
        """`preset` preselects a name or a .toml path; `s_per_step` pins the time per step
        (tests, snapshots: no machine-dependent figure, so this machine is not asked either).
        `hidden_at_start`: a training screen covers this one from the start (`watch`, `--start`);
        the figures wait until this screen is first shown, not to take the CPU from the run."""
        super().__init__()
        self.s_per_step = s_per_step
        self.hidden_at_start = hidden_at_start
        self.resumes = 0  # ScreenResume events: the first is the app installing this screen
        self.covered_by_dialog: bool | None = None  # what the last screen over this one was (None: none since)
        self.saved: list[Preset] = []
        self.load_errors: list[str] = []
        self.changes: dict[str, dict[str, Any]] = {}  # saved preset name -> unsaved edits
        self.variants: dict[str, Preset] = {}  # saved preset name -> preset with the edits
        self.selected = 0
        self.baseline = 0
        self.preset_figures = FigureStore()
        self.side = PresetsSide(self.preset_figures, s_per_step, id="presets-side")
        self.background = False  # True once the first frame is up and workers may start
        self.start_waiting: Preset | None = None  # `s` pressed before its preflight was known
        self.status_text: Callable[[], str] | None = None  # draws the status line (again after a language switch)
        self._load(preset)

    # ---- the presets -------------------------------------------------------------------------

    def _load(self, preselect: str | None) -> None:
        self.saved, self.selected, self.load_errors = load_presets(preselect, self.selected)
        self.baseline = 0

    @property
    def presets(self) -> list[Preset]:
        """What the columns show: each saved preset, or its edited variant."""
        return [self.variants.get(p.name, p) for p in self.saved]

    @property
    def current(self) -> Preset | None:
        return self.presets[self.selected] if self.saved else None

    @property
    def current_saved(self) -> Preset | None:
        return self.saved[self.selected] if self.saved else None

    # ---- layout --------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="preset-description")
        with Horizontal(id="presets-body"):
            yield PresetTable(id="preset-table")
            yield self.side
        with Vertical(id="presets-status"):
            yield Static("", id="status-line")
        yield Footer()

    def on_mount(self) -> None:
        self.title = "emosum-tui"
        self.sub_title = _("presets")
        for error in self.load_errors:
            self.notify(error, title=_("preset not loaded"), severity="error", timeout=15)
        from emosum_tui.core.sample_notice import sample_notice

        notice = sample_notice(self.saved)
        if notice:
            self.notify(notice, title=_("no data in this workspace"), severity="warning", timeout=20)
        self.redraw()
        if not self.saved:
            return
        self.query_one(PresetTable).focus()
        # Figures are worked out after the first frame: their threads would hold the GIL while it is drawn.
        if not self.hidden_at_start:
            self.call_after_refresh(self.start_background)

    def on_screen_suspend(self) -> None:
        # Handled once the covering screen is on the stack: remember whether it is a dialog.
        self.covered_by_dialog = isinstance(self.app.screen, ModalScreen)

    def on_screen_resume(self) -> None:
        """Shown again (for the first time after `watch` / `--start`): work out what is missing.
        Back from a run or the runs list (not a dialog), this machine is read again for preflight."""
        self.resumes += 1
        if self.hidden_at_start and self.resumes == 1:
            return  # the app installing its first screen, under the training screen: not the user coming here
        if self.saved and not self.background and self.is_mounted:
            self.call_after_refresh(self.start_background)
        elif self.background and self.covered_by_dialog is False and self.side.preflight_panel is not None:
            self.side.preflight_panel.refresh_machine(self.current.output_dir if self.current else Path.cwd())
        self.covered_by_dialog = None

    def start_background(self) -> None:
        """Start working out the figures (once, after the first frame)."""
        if self.background:
            return
        self.background = True
        self.side.start(check_machine=self.s_per_step is None)

    def on_language_changed(self, message: LanguageChanged) -> None:
        """The words this screen wrote itself, in the new language (the widgets redraw their own)."""
        self.sub_title = _("presets")
        self.redraw()
        self._status(self.status_text)

    def redraw(self) -> None:
        """Draw every part from the state; workers are started for what is missing."""
        if not self.saved:
            self.query_one("#preset-description", Static).update(
                Text(_("No preset loads: fix or remove the files in presets/ named in the errors (see README)."), style="bold"))
            return
        presets = self.presets
        current = presets[self.selected]
        base = presets[self.baseline]
        description = Text.assemble(
            (f"{current.name}", "bold"),
            f" — {_(current.description)}" if current.description else "",  # builtin.BUILTIN_DESCRIPTIONS
            "   " + _("(extends {preset})").format(preset=current.parent.name) if current.parent else "",
            "   " + _("baseline: {preset}").format(preset=base.name),
        )
        if self.changes.get(self.saved[self.selected].name):
            description.append("   " + _("unsaved edits: w saves, d discards"), style="italic")
        self.query_one("#preset-description", Static).update(description)
        self.query_one(PresetTable).show(presets, self.selected, self.baseline, frozenset(v.name for v in self.variants.values()))
        self.side.show(presets, self.selected, self.baseline)

    # ---- keys -----------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Hide keys that do nothing now (the footer then only shows what works)."""
        if action == "apply_fix":
            return self.current is not None and self.preset_figures[self.current.name].fix() is not None
        if action in ("save", "discard"):
            return bool(self.saved and self.changes.get(self.saved[self.selected].name))
        if action == "select" and parameters and isinstance(parameters[0], int):
            return True if parameters[0] < len(self.saved) or parameters[0] == 0 else None
        return True

    def action_select(self, index: int) -> None:
        if 0 <= index < len(self.saved) and index != self.selected:
            self.selected = index
            self._selection_changed()

    def action_step(self, delta: int) -> None:
        if self.saved:
            self.selected = (self.selected + delta) % len(self.saved)
            self._selection_changed()

    def _selection_changed(self) -> None:
        self._forget_waiting_start()
        self.redraw()
        self.refresh_bindings()

    def action_switch_focus(self) -> None:
        """Up/down/page keys scroll the focused part: the presets table or the side panel."""
        table = self.query_one(PresetTable)
        if table.has_focus:
            self.side.focus()
        else:
            table.focus()

    def action_baseline(self) -> None:
        if self.saved:
            self.baseline = self.selected
            self.redraw()  # the description line names the baseline

    def action_edit(self) -> None:
        saved = self.current_saved
        if saved is None:
            return
        from emosum_tui.ui.screens.edit_value import EditResult, EditValueScreen

        def edited(result: EditResult | None) -> None:
            if result is None:
                return
            changes = dict(self.changes.get(saved.name, {}))
            if result.value == saved.values[result.key]:
                changes.pop(result.key, None)  # typed the saved value back: no longer an edit
            else:
                changes[result.key] = result.value
            self._set_changes(saved, changes)
            self.notify(_("{key} = {value}: re-estimating").format(key=result.key, value=repr(result.value)), timeout=3)

        self.app.push_screen(EditValueScreen(saved, self.changes.get(saved.name, {})), edited)

    def action_apply_fix(self) -> None:
        """The preflight's fix that is a preset change, as an unsaved edit (never silently saved)."""
        saved, current = self.current_saved, self.current
        fix = self.preset_figures[current.name].fix() if current else None
        if saved is not None and fix is not None:
            self._set_changes(saved, {**self.changes.get(saved.name, {}), **dict(fix.changes)})
            self.notify(_("{fix}: applied as an edit (w saves it as a new preset)").format(fix=fix.title), timeout=6)

    def _set_changes(self, saved: Preset, changes: dict[str, Any]) -> None:
        self._forget_waiting_start()
        old = self.variants.get(saved.name, saved)
        self.preset_figures.forget(old.name)
        if changes:
            self.changes[saved.name] = changes
            self.variants[saved.name] = apply_changes(saved, changes)
        else:
            self.changes.pop(saved.name, None)
            self.variants.pop(saved.name, None)
        self.side.forget_decomposition()
        current = self.variants.get(saved.name, saved)
        self.redraw()
        self.refresh_bindings()
        if self.preset_figures[current.name].estimate is None:
            self.side.estimate([current])

    def action_discard(self) -> None:
        saved = self.current_saved
        if saved is not None and self.changes.get(saved.name):
            self._set_changes(saved, {})
            self.notify(_("edits of {preset} discarded").format(preset=saved.name), timeout=3)

    def action_save(self) -> None:
        saved = self.current_saved
        if saved is None or not self.changes.get(saved.name):
            return
        from emosum_tui.ui.screens.save_preset import SavePresetScreen

        def written(path: Path | None) -> None:
            if path is None:
                return
            self.changes.pop(saved.name, None)
            self.variants.pop(saved.name, None)
            self._load(str(path))
            self.preset_figures.forget_edited()
            self.redraw()
            self.refresh_bindings()
            self.side.estimate([p for p in self.presets if self.preset_figures[p.name].estimate is None])
            self.notify(_("saved {path}").format(path=path), title=_("new preset"), timeout=6)

        self.app.push_screen(SavePresetScreen(saved, self.changes[saved.name]), written)

    # ---- starting a run -------------------------------------------------------------------------

    def action_start(self) -> None:
        """`s`: start the selected preset when its preflight has no error, ask first when it has
        one, and wait for it when it is not known yet (`s` again starts without waiting)."""
        saved = self.current_saved
        if saved is None:
            return
        if self.changes.get(saved.name):
            self.notify(_("This preset has unsaved edits: save them as a new preset first (w), or discard them (d)."), severity="warning")
            return
        findings = self.preset_figures[saved.name].preflight  # an edit drops its preset's findings
        if findings is not None:
            self._start_checked(saved, findings)
        elif self.start_waiting is saved:
            self._forget_waiting_start()
            self._start(saved)
        else:
            self.start_waiting = saved
            self._status(lambda: _("starting {preset} once its preflight is done…   (s again: start without waiting)").format(preset=saved.name))

    def on_preflight_panel_checked(self, message: PreflightPanel.Checked) -> None:
        self.refresh_bindings()  # `a` shows when the findings hold a fix
        waiting = self.start_waiting
        if waiting is not None and waiting.name == message.preset.name:
            self._forget_waiting_start()
            self._start_checked(waiting, message.findings)

    def _forget_waiting_start(self) -> None:
        """A start that waited for its preflight is dropped when the user moves on (or edits)."""
        if self.start_waiting is not None:
            self.start_waiting = None
            self._status(None)

    def _start_checked(self, saved: Preset, findings: list[Finding]) -> None:
        """Start at once, or first ask when preflight found an error (naming it)."""
        errors = [f for f in findings if f.severity == "error"]
        if not errors:
            self._start(saved)
            return
        from emosum_tui.ui.screens.confirm_start import ConfirmStartScreen

        def answered(yes: bool | None) -> None:
            if yes:
                self._start(saved)

        self.app.push_screen(ConfirmStartScreen(saved.name, errors), answered)

    def _start(self, saved: Preset) -> None:
        cell = self.preset_figures[saved.name].estimate
        self.app.post_message(StartRun(saved, cell.estimate if cell is not None else None))

    def _status(self, draw: Callable[[], str] | None) -> None:
        """The line under the table: `draw()` writes it (again after a language switch); None clears it."""
        self.status_text = draw
        text = draw() if draw is not None else ""
        line = self.query_one("#status-line", Static)
        line.update(text)
        line.set_class(bool(text), "shown")
