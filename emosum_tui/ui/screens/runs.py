"""The runs screen: every run under runs/, live or finished; Enter attaches to one, `t` tries its
model (Try screen) and `e` evaluates it (ROUGE beside the constant baseline).

A live run started by another console (or from a shell with `emosum-tui train`) is attached to
the same way as a finished one: the training screen reads the run directory from the start, so
it shows the whole history so far and then follows the run.
"""

from __future__ import annotations

import time
from pathlib import Path

from rich.cells import cell_len
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Static

from emosum_tui.core.run_state_words import state_word
from emosum_tui.core.rundir import RunSummary, list_runs
from emosum_tui.i18n import N_, _
from emosum_tui.ui.format import human_duration
from emosum_tui.ui.messages import LanguageChanged
from emosum_tui.ui.widgets.footer import Footer

REFRESH_SECONDS = 2.0
RUN_COLUMNS = (N_("run"), N_("preset"), N_("status"), N_("steps"), N_("final loss"), N_("duration"), N_("started"))  # `_()` where drawn
STATUS_STYLE = {
    "running": "bold green",
    "starting": "green",
    "finished": "bold",
    "stopped": "yellow",
    "failed": "bold red",
    "dead": "bold red",
}


def run_row(run: RunSummary) -> tuple:
    """One table row: what a user scans for (which preset, did it finish, how far, how good, how long)."""
    steps = f"{run.steps:,} / {run.total_steps:,}" if run.total_steps else f"{run.steps:,}"
    loss = f"{run.final_loss:.4g}" if run.final_loss is not None else "—"
    started = time.strftime("%Y-%m-%d %H:%M", time.localtime(run.started)) if run.started else "—"
    status = Text(state_word(run.status) + (f" ({run.error})" if run.error and run.status == "failed" else ""),
                  STATUS_STYLE.get(run.status, ""))
    return (run.name, run.preset, status, steps, loss, human_duration(run.duration), started)


class RunsRead(Message):
    def __init__(self, runs: list[RunSummary]) -> None:
        super().__init__()
        self.runs = runs


class RunsScreen(Screen):
    """Runs table, refreshed every few seconds; Enter opens the run's training screen."""

    CSS_PATH = Path(__file__).with_name("runs.tcss")
    BINDINGS = [  # noqa: RUF012
        Binding("enter", "open", N_("open / attach")),
        Binding("t", "try_model", N_("try the model")),
        Binding("e", "evaluate", N_("evaluate")),
        Binding("escape", "back", N_("back")),
    ]

    def __init__(self, root: Path | None = None) -> None:
        super().__init__()
        self.root = root
        self.runs: list[RunSummary] = []
        self.loaded = False

    def compose(self) -> ComposeResult:
        yield Static(_("Runs"), id="runs-title")
        yield DataTable(id="runs-table", cursor_type="row", zebra_stripes=True)
        yield Static(_("reading runs…"), id="runs-detail")
        yield Footer()

    def on_mount(self) -> None:
        self.draw_table(None)
        self.refresh_runs()
        self.set_interval(REFRESH_SECONDS, self.refresh_runs)

    def on_language_changed(self, message: LanguageChanged) -> None:
        """Headers, statuses, title and detail in the new language; the same run stays selected."""
        self.query_one("#runs-title", Static).update(_("Runs"))
        self.draw_table(self.selected())
        if self.loaded:
            self.show_detail()
        else:
            self.query_one("#runs-detail", Static).update(_("reading runs…"))

    @work(thread=True, exclusive=True, group="runs")
    def refresh_runs(self) -> None:
        self.post_message(RunsRead(list_runs(self.root)))

    @on(RunsRead)
    def runs_read(self, message: RunsRead) -> None:
        selected = self.selected()
        self.runs = message.runs
        self.draw_table(selected)
        self.loaded = True
        self.show_detail()

    def draw_table(self, selected: RunSummary | None) -> None:
        """One row per run, the cursor kept on `selected`. Columns are rebuilt each time at widths
        measured here in cells: Textual's own measuring happens after a first frame whose cached
        lines can keep header-wide columns ("202…") on screen."""
        table = self.query_one(DataTable)
        rows = [run_row(run) for run in self.runs]
        headers = [_(column) for column in RUN_COLUMNS]
        table.clear(columns=True)
        for index, header in enumerate(headers):
            width = max([cell_len(header), *(cell_len(str(row[index])) for row in rows)])
            table.add_column(header, width=width)
        for run, row in zip(self.runs, rows, strict=True):
            table.add_row(*row, key=str(run.run_dir))
        if selected is not None:
            for index, run in enumerate(self.runs):
                if run.run_dir == selected.run_dir:
                    table.move_cursor(row=index)

    @on(DataTable.RowHighlighted)
    def show_detail(self) -> None:
        detail = self.query_one("#runs-detail", Static)
        run = self.selected()
        if run is None:
            where = self.root or "runs/"
            detail.update(_("No runs in {folder} yet: start one from the presets screen (p), or `emosum-tui train demo`.").format(
                folder=where))
            return
        lines = [f"{run.run_dir}"]
        if run.final_path:
            lines.append(_("final model: {path}").format(path=run.final_path))
        if run.message:
            lines.append(run.message)
        detail.update(Text("\n".join(lines)))

    def selected(self) -> RunSummary | None:
        table = self.query_one(DataTable)
        if not self.runs or table.cursor_row is None or not 0 <= table.cursor_row < len(self.runs):
            return None
        return self.runs[table.cursor_row]

    @on(DataTable.RowSelected)
    def action_open(self) -> None:
        run = self.selected()
        if run is None:
            return
        from emosum_tui.ui.screens.training import TrainingScreen

        self.app.push_screen(TrainingScreen(run.run_dir))

    def action_try_model(self) -> None:
        """The Try screen on the run's final model (else its latest checkpoint)."""
        run = self.selected()
        if run is not None:
            from emosum_tui.ui.screens.try_screen import TryScreen

            self.app.push_screen(TryScreen(run.run_dir))

    def action_evaluate(self) -> None:
        """ROUGE of the run's model on its validation rows, beside the constant baseline, with progress."""
        run = self.selected()
        if run is not None:
            from emosum_tui.ui.screens.evaluate_screen import EvaluateScreen

            self.app.push_screen(EvaluateScreen(run.run_dir))

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()
