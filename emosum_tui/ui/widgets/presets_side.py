"""The presets screen's side panel: preflight, estimates, speed-up vs the baseline, the data, and
the basis of the estimates, for the presets the screen shows.

It works out what it shows: the cost model, token counts and the decomposition run in thread
workers (`ui.figures`) that post messages back here, and the results are kept in the screen's
`FigureStore`. Nothing is mounted or worked out until `start()`, after the screen's first frame:
the workers would hold the GIL while that frame is drawn, and empty tables only delay it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from textual import work
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Label
from textual.worker import get_current_worker

from emosum_tui.core.presets import Preset
from emosum_tui.i18n import N_, _
from emosum_tui.ui import figures
from emosum_tui.ui.preset_figures import FigureStore, TokenFigures
from emosum_tui.ui.widgets.data_summary import DataSummary
from emosum_tui.ui.widgets.estimate_basis import BasisNotes
from emosum_tui.ui.widgets.estimate_table import EstimateCell, EstimateTable
from emosum_tui.ui.widgets.speedup_table import SpeedupTable

if TYPE_CHECKING:
    from emosum_tui.core.decompose import Factor
    from emosum_tui.ui.messages import LanguageChanged
    from emosum_tui.ui.widgets.preflight_panel import PreflightPanel

SECTION_TITLES = (N_("Estimates"), N_("Speed-up vs baseline"), N_("Data"), N_("Basis of the estimates"))


@dataclass
class EstimateDone(Message, bubble=False):
    """The cost model's answer (or its error) for one preset."""

    name: str
    cell: EstimateCell


@dataclass
class TokensDone(Message, bubble=False):
    """Token statistics of one preset's data, or why they could not be read."""

    name: str
    tokens: TokenFigures


@dataclass
class DecompositionDone(Message, bubble=False):
    """The speed-up factors of `other` vs `base` (None with a note when they cannot be had)."""

    base: str
    other: str
    factors: list[Factor] | None
    note: str = ""


class PresetsSide(VerticalScroll):
    """The figures of the selected preset (and its speed-up vs the baseline), worked out here."""

    def __init__(self, store: FigureStore, s_per_step: float | None = None, **kwargs: object) -> None:
        """`s_per_step` pins the time per step in every estimate (tests, snapshots)."""
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.store = store
        self.s_per_step = s_per_step
        self.presets: list[Preset] = []
        self.selected = 0
        self.baseline = 0
        self.working = False  # start() was called: figures may be worked out
        self.tables_ready = False  # the tables are mounted
        self.decomposition: DecompositionDone | None = None
        self.preflight_panel: PreflightPanel | None = None  # mounted by start()

    def start(self, check_machine: bool) -> None:
        """After the screen's first frame: mount the preflight panel (which then checks this
        machine, unless `check_machine` is False) and the tables, and estimate every preset."""
        self.working = True
        self.call_later(self._mount_preflight_panel, check_machine)
        self.estimate([p for p in self.presets if self.store[p.name].estimate is None])
        self.call_later(self._mount_tables)

    async def _mount_preflight_panel(self, check_machine: bool) -> None:
        from emosum_tui.ui.widgets.preflight_panel import PreflightPanel

        if not self.is_attached:
            return  # the app quit before its first frame settled
        current = self.presets[self.selected] if self.presets else None
        disk_path = current.output_dir if current is not None else Path.cwd()
        panel = PreflightPanel(self.store, check_machine, disk_path, id="preflight-panel")
        await self.mount(panel, before=0)
        self.preflight_panel = panel
        panel.show_preset(current)

    async def _mount_tables(self) -> None:
        if not self.is_attached:
            return  # the app quit before its first frame settled
        estimates, speedup, data, basis = (Label(_(title), classes="section-title") for title in SECTION_TITLES)
        await self.mount_all([
            estimates,
            EstimateTable(id="estimate-table"),
            speedup,
            SpeedupTable(id="speedup-table"),
            data,
            DataSummary(id="data-summary"),
            basis,
            BasisNotes(id="estimate-basis"),
        ])
        self.tables_ready = True
        self.redraw()

    # ---- drawing --------------------------------------------------------------------------------

    def on_language_changed(self, message: LanguageChanged) -> None:
        """The section titles and the baseline's note are this panel's words; the tables redraw themselves."""
        if not self.tables_ready:
            return
        for label, title in zip(self.query(".section-title").results(Label), SECTION_TITLES, strict=False):
            label.update(_(title))
        if self.presets and self.presets[self.baseline] is self.presets[self.selected]:
            self._draw_decomposition()

    def show(self, presets: list[Preset], selected: int, baseline: int) -> None:
        """The presets as the screen's columns show them, the selected one and the baseline."""
        self.presets, self.selected, self.baseline = presets, selected, baseline
        self.redraw()

    def redraw(self) -> None:
        """Draw every part; workers are started for what is missing."""
        if not self.presets:
            return
        if self.preflight_panel is not None:
            self.preflight_panel.show_preset(self.presets[self.selected])
        self._draw_estimates()
        self._draw_decomposition()
        self._draw_data()

    def forget_decomposition(self) -> None:
        """A preset changed: the speed-up factors are worked out again when shown."""
        self.decomposition = None

    def _draw_estimates(self) -> None:
        if not self.tables_ready:
            return  # drawn when the tables are mounted
        cells = {p.name: cell for p in self.presets if (cell := self.store[p.name].estimate) is not None}
        self.query_one(EstimateTable).show([p.name for p in self.presets], cells, self.selected)
        name = self.presets[self.selected].name
        self.query_one(BasisNotes).show(name, cells.get(name, EstimateCell()))

    def _draw_decomposition(self) -> None:
        if not self.tables_ready:
            return  # drawn when the tables are mounted
        base, other = self.presets[self.baseline], self.presets[self.selected]
        table = self.query_one(SpeedupTable)
        known = self.decomposition
        if known is not None and known.base == base.name and known.other == other.name:
            table.show(base.name, other.name, known.factors, known.note)
            return
        if base is other:
            table.show(base.name, other.name, [],
                       _("{name} is the baseline: pick another preset (1-9) or baseline (b)").format(name=other.name))
            return
        table.show(base.name, other.name, None)
        if self.working:
            self.decompose(base, other)

    def _draw_data(self) -> None:
        if not self.tables_ready:
            return  # drawn when the tables are mounted
        preset = self.presets[self.selected]
        summary = self.query_one(DataSummary)
        tokens = self.store[preset.name].tokens
        if tokens is not None:
            summary.show(preset, tokens.report, tokens.error)
        else:
            summary.show(preset, None)
            if self.working:
                self.count_tokens(preset)

    # ---- workers ----------------------------------------------------------------------------

    @work(thread=True, group="estimate")
    def estimate(self, presets: list[Preset]) -> None:
        """Price each preset with the cost model, one after another: estimates share the data
        lock, so parallel threads would only queue."""
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
        self.post_message(TokensDone(preset.name, TokenFigures(report, error)))

    def on_estimate_done(self, message: EstimateDone) -> None:
        self.store[message.name].estimate = message.cell
        if self.presets:
            self._draw_estimates()

    def on_tokens_done(self, message: TokensDone) -> None:
        self.store[message.name].tokens = message.tokens
        if self.presets and self.presets[self.selected].name == message.name:
            self._draw_data()

    def on_decomposition_done(self, message: DecompositionDone) -> None:
        self.decomposition = message
        if self.presets:
            self._draw_decomposition()
