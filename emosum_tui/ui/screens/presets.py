"""The first screen: presets side by side, what each will cost, and why one is faster than another.

Everything slow (token counting, the cost model, a calibration probe) runs in thread workers
that post messages; the screen draws the presets table on its first frame and fills the
figures in as they arrive. Keys: 1-9 / arrows / tab pick the preset, `b` makes it the
baseline, `e` edits a value (re-estimated at once), `w` saves the edits as a new preset, `s`
starts a run, `c` calibrates (and `c` again cancels), `f` moves the focus (and so up/down
scrolling) between the presets table and the side panel.

The side panel opens with the doctor's preflight of the selected preset, and `s` on a preset
whose preflight has an error asks first, naming the error (`presets_preflight.py`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Header, Label, Static
from textual.worker import get_current_worker

from emosum_tui.core.presets import Preset, PresetError, load_all, load_preset
from emosum_tui.ui import figures
from emosum_tui.ui.preset_edits import apply_changes
from emosum_tui.ui.screens.presets_preflight import PresetsPreflight
from emosum_tui.ui.widgets.data_summary import DataSummary
from emosum_tui.ui.widgets.estimate_basis import BasisNotes
from emosum_tui.ui.widgets.estimate_table import EstimateCell, EstimateTable
from emosum_tui.ui.widgets.preset_table import PresetTable
from emosum_tui.ui.widgets.speedup_table import SpeedupTable


class EstimateDone(Message):
    """The cost model's answer (or its error) for one preset."""

    def __init__(self, name: str, cell: EstimateCell) -> None:
        super().__init__()
        self.name = name
        self.cell = cell


class TokensDone(Message):
    """Token statistics of one preset's data, or why they could not be read."""

    def __init__(self, name: str, report: Any | None, error: str = "") -> None:
        super().__init__()
        self.name = name
        self.report = report
        self.error = error


class DecompositionDone(Message):
    """The speed-up factors of `other` vs `base` (None with a note when they cannot be had)."""

    def __init__(self, base: str, other: str, factors: list[Any] | None, note: str = "") -> None:
        super().__init__()
        self.base = base
        self.other = other
        self.factors = factors
        self.note = note


class CalibrationUpdate(Message):
    """Progress of a calibration probe: a line to show, and whether it has finished."""

    def __init__(self, name: str, text: str, finished: bool = False, ok: bool = False) -> None:
        super().__init__()
        self.name = name
        self.text = text
        self.finished = finished
        self.ok = ok


class PresetsScreen(PresetsPreflight, Screen):
    """Presets side by side with estimates, the speed-up decomposition and the data summary."""

    BINDINGS = [  # noqa: RUF012
        Binding("1", "select(0)", "select", key_display="1-9"),
        *(Binding(str(n), f"select({n - 1})", show=False) for n in range(2, 10)),
        Binding("left", "step(-1)", "prev/next", key_display="←/→", priority=True),
        Binding("right", "step(1)", show=False, priority=True),
        Binding("tab", "step(1)", show=False, priority=True),
        Binding("shift+tab", "step(-1)", show=False, priority=True),
        Binding("b", "baseline", "baseline"),
        Binding("s", "start", "start run"),
        Binding("c", "calibrate", "calibrate"),
        Binding("e", "edit", "edit value"),
        Binding("w", "save", "save as new"),
        Binding("d", "discard", "discard edits"),
        Binding("f", "switch_focus", "table/side"),
    ]

    def __init__(self, preset: str | None = None, s_per_step: float | None = None, hidden_at_start: bool = False) -> None:
        """`preset` preselects a name or a .toml path; `s_per_step` pins the time per step
        (tests and snapshots: no machine-dependent figure in the frame, so this machine's facts
        are not gathered either and preflight checks only the preset's own files).

        `hidden_at_start`: a training screen covers this one from the start (`watch`, `--start`).
        Nobody reads these figures then, and their work (a torch probe in a subprocess, token
        counts, the cost model) would take the CPU from the run being watched: it waits until
        this screen is first shown."""
        super().__init__()
        self.s_per_step = s_per_step
        self.hidden_at_start = hidden_at_start
        self.resumes = 0  # ScreenResume events: the first is the app installing this screen
        self.covered_by_dialog: bool | None = None  # what the last screen over this one was (None: none since)
        self.side_ready = False  # the side panel's tables are mounted (after the first frame)
        self.saved: list[Preset] = []
        self.load_errors: list[str] = []
        self.changes: dict[str, dict[str, Any]] = {}  # saved preset name -> unsaved edits
        self.variants: dict[str, Preset] = {}  # saved preset name -> preset with the edits
        self.selected = 0
        self.baseline = 0
        self.estimates: dict[str, EstimateCell] = {}
        self.tokens: dict[str, tuple[Any | None, str]] = {}
        self.decomposition: DecompositionDone | None = None
        self.calibrating: str | None = None  # name of the preset being calibrated
        self.cancel_calibration = False
        self.background = False  # True once the first frame is up and workers may start
        self.init_preflight()
        self._load(preset)

    # ---- the presets -------------------------------------------------------------------------

    def _load(self, preselect: str | None) -> None:
        presets, errors = load_all()
        self.load_errors = [str(e) for e in errors]
        if preselect:
            try:
                wanted = load_preset(preselect)
            except PresetError as exc:
                self.load_errors.append(str(exc))
            else:
                names = [p.path for p in presets]
                if wanted.path not in names:
                    presets.append(wanted)
                self.selected = next(i for i, p in enumerate(presets) if p.path == wanted.path)
        self.saved = presets
        self.selected = min(self.selected, max(0, len(presets) - 1))
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
            yield VerticalScroll(id="presets-side")  # filled after the first frame (`_mount_side`)
        with Vertical(id="presets-status"):
            yield Static("", id="status-line")
        yield Footer()

    def on_mount(self) -> None:
        self.title = "emosum-tui"
        self.sub_title = "presets"
        for error in self.load_errors:
            self.notify(error, title="preset not loaded", severity="error", timeout=15)
        if not self.saved:
            self.query_one("#preset-description", Static).update(
                Text("No presets found: put .toml files in presets/ (see README).", style="bold")
            )
            return
        self.redraw()
        self.query_one(PresetTable).focus()
        # Figures are worked out after the first frame: the threads would otherwise hold the
        # GIL while the first frame is drawn (measured: +0.3 s to first frame on 2 cores).
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
        elif self.background and self.covered_by_dialog is False:
            self.refresh_machine()
        self.covered_by_dialog = None

    def start_background(self) -> None:
        """Start the estimates, token counts and the decomposition (once, after the first frame)."""
        if self.background:
            return
        self.background = True
        self.start_preflight(check_machine=self.s_per_step is None)
        self.estimate_presets([p for p in self.presets if p.name not in self.estimates])
        self.call_later(self._mount_side)

    async def _mount_side(self) -> None:
        """The side panel's tables, after the first frame: it has no figure yet to show, and
        drawing its empty tables made the first frame ~50 ms (a fifth) slower on 2 cores."""
        side = self.query_one("#presets-side")
        if not side.is_attached:
            return  # the app quit before its first frame settled
        await side.mount_all([
            Label("Estimates", classes="section-title"),
            EstimateTable(id="estimate-table"),
            Label("Speed-up vs baseline", classes="section-title"),
            SpeedupTable(id="speedup-table"),
            Label("Data", classes="section-title"),
            DataSummary(id="data-summary"),
            Label("Basis of the estimates", classes="section-title"),
            BasisNotes(id="estimate-basis"),
        ])
        self.side_ready = True
        self.redraw_side()

    def redraw_side(self) -> None:
        """Draw the side panel's parts; workers are started for what is missing."""
        if not self.saved:
            return
        self._draw_preflight()
        self._draw_estimates()
        self._draw_decomposition()
        self._draw_data()

    def redraw(self) -> None:
        """Draw every part from the state; workers are started for what is missing."""
        if not self.saved:
            return
        presets = self.presets
        current = presets[self.selected]
        base = presets[self.baseline]
        description = Text.assemble(
            (f"{current.name}", "bold"),
            f" — {current.description}" if current.description else "",
            f"   (extends {current.parent.name})" if current.parent else "",
            f"   baseline: {base.name}",
        )
        if self.changes.get(self.saved[self.selected].name):
            description.append("   unsaved edits: w saves, d discards", style="italic")
        self.query_one("#preset-description", Static).update(description)
        self.query_one(PresetTable).show(presets, self.selected, self.baseline, frozenset(v.name for v in self.variants.values()))
        self.redraw_side()

    def _draw_estimates(self) -> None:
        if not self.side_ready:
            return  # drawn when the side panel is mounted
        presets = self.presets
        self.query_one(EstimateTable).show([p.name for p in presets], self.estimates, self.selected)
        name = presets[self.selected].name
        self.query_one(BasisNotes).show(name, self.estimates.get(name, EstimateCell()))

    def _draw_decomposition(self) -> None:
        if not self.side_ready:
            return  # drawn when the side panel is mounted
        presets = self.presets
        base, other = presets[self.baseline], presets[self.selected]
        table = self.query_one(SpeedupTable)
        known = self.decomposition
        if known is not None and known.base == base.name and known.other == other.name:
            table.show(base.name, other.name, known.factors, known.note)
            return
        if base is other:
            table.show(base.name, other.name, [], f"{other.name} is the baseline: pick another preset (1-9) or baseline (b)")
            return
        table.show(base.name, other.name, None)
        if self.background:
            self.decompose(base, other)

    def _draw_data(self) -> None:
        if not self.side_ready:
            return  # drawn when the side panel is mounted
        preset = self.current
        if preset is None:
            return
        summary = self.query_one(DataSummary)
        if preset.name in self.tokens:
            report, error = self.tokens[preset.name]
            summary.show(preset, report, error)
        else:
            summary.show(preset, None)
            if self.background:
                self.count_tokens(preset)

    # ---- workers ----------------------------------------------------------------------------

    @work(thread=True, group="estimate")
    def estimate_presets(self, presets: list[Preset]) -> None:
        """Price each preset with the cost model, one after another (2 cores: no stampede)."""
        worker = get_current_worker()
        for preset in presets:
            if worker.is_cancelled:
                return
            self.post_message(EstimateDone(preset.name, figures.estimate_cell(preset, self.s_per_step)))

    @work(thread=True, group="decompose", exclusive=True)
    def decompose(self, base: Preset, other: Preset) -> None:
        factors, note = figures.decomposition(base, other, pinned=self.s_per_step is not None)
        self.post_message(DecompositionDone(base.name, other.name, factors, note))

    @work(thread=True, group="tokens")
    def count_tokens(self, preset: Preset) -> None:
        report, error = figures.token_figures(preset)
        self.post_message(TokensDone(preset.name, report, error))

    def on_estimate_done(self, message: EstimateDone) -> None:
        self.estimates[message.name] = message.cell
        if self.saved:
            self._draw_estimates()

    def on_tokens_done(self, message: TokensDone) -> None:
        self.tokens[message.name] = (message.report, message.error)
        if self.current is not None and self.current.name == message.name:
            self._draw_data()

    def on_decomposition_done(self, message: DecompositionDone) -> None:
        self.decomposition = message
        self._draw_decomposition()

    # ---- keys -----------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Hide keys that do nothing now (the footer then only shows what works)."""
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
            self.query_one("#presets-side", VerticalScroll).focus()
        else:
            table.focus()

    def action_baseline(self) -> None:
        if self.saved:
            self.baseline = self.selected
            self.redraw()  # the description line names the baseline

    def action_start(self) -> None:
        saved = self.current_saved
        if saved is None:
            return
        if self.changes.get(saved.name):
            self.notify("This preset has unsaved edits: save them as a new preset first (w), or discard them (d).", severity="warning")
            return
        self.start_after_preflight(saved)

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
            self.notify(f"{result.key} = {result.value!r}: re-estimating", timeout=3)

        self.app.push_screen(EditValueScreen(saved, self.changes.get(saved.name, {})), edited)

    def _set_changes(self, saved: Preset, changes: dict[str, Any]) -> None:
        self._forget_waiting_start()
        old = self.variants.get(saved.name, saved)
        self.estimates.pop(old.name, None)
        self.tokens.pop(old.name, None)
        self.forget_preflight(old.name)
        if changes:
            self.changes[saved.name] = changes
            self.variants[saved.name] = apply_changes(saved, changes)
        else:
            self.changes.pop(saved.name, None)
            self.variants.pop(saved.name, None)
        self.decomposition = None
        current = self.variants.get(saved.name, saved)
        self.redraw()
        self.refresh_bindings()
        if current.name not in self.estimates:
            self.estimate_presets([current])

    def action_discard(self) -> None:
        saved = self.current_saved
        if saved is not None and self.changes.get(saved.name):
            self._set_changes(saved, {})
            self.notify(f"edits of {saved.name} discarded", timeout=3)

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
            self.estimates = {k: v for k, v in self.estimates.items() if not k.endswith("*")}
            self.preflights = {k: v for k, v in self.preflights.items() if not k.endswith("*")}
            self.redraw()
            self.refresh_bindings()
            self.estimate_presets([p for p in self.presets if p.name not in self.estimates])
            self.notify(f"saved {path}", title="new preset", timeout=6)

        self.app.push_screen(SavePresetScreen(saved, self.changes[saved.name]), written)

    # ---- calibration ------------------------------------------------------------------------

    def action_calibrate(self) -> None:
        """Measure a few real steps of the selected preset in a probe subprocess; `c` again cancels."""
        if self.calibrating is not None:
            self.cancel_calibration = True
            self._status("calibration: cancelling…")
            return
        saved = self.current_saved
        if saved is None:
            return
        if self.changes.get(saved.name):
            self.notify("Save the edits as a new preset first (w): a calibration measures a preset file.", severity="warning")
            return
        self.calibrating = saved.name
        self.cancel_calibration = False
        self._status(f"calibrating {saved.name}: starting the probe…   (c: cancel)")
        self.calibrate(saved)

    @work(thread=True, group="calibrate", exclusive=True)
    def calibrate(self, preset: Preset) -> None:
        """Run the probe; relay its progress; stop on `c` or when the app closes."""
        worker = get_current_worker()
        outcome = figures.calibrate(
            preset,
            report=lambda text: self.post_message(CalibrationUpdate(preset.name, text)),
            should_stop=lambda: worker.is_cancelled or self.cancel_calibration,
        )
        self.post_message(CalibrationUpdate(preset.name, outcome.text, finished=True, ok=outcome.ok))

    def on_calibration_update(self, message: CalibrationUpdate) -> None:
        self._status(message.text + ("" if message.finished else "   (c: cancel)"))
        if not message.finished:
            return
        self.calibrating = None
        if message.ok:
            self.estimates = {k: v for k, v in self.estimates.items() if k != message.name}
            self._draw_estimates()
            self.forget_preflight(message.name)  # its plan (s/step, memory) is now the measured one
            self._draw_preflight()
            self.estimate_presets([p for p in self.presets if p.name == message.name])
            self.notify(message.text, title="calibration", timeout=6)
        else:
            self.notify(message.text, title="calibration", severity="warning", timeout=10)

    def _status(self, text: str) -> None:
        line = self.query_one("#status-line", Static)
        line.update(text)
        line.set_class(bool(text), "shown")

