"""The Samples pane: what the model wrote for the fixed validation rows at each evaluation.

The trainer writes one `sample` event per row at each evaluation (`eval.samples`); the pane
shows one evaluation at a time, each row's prediction beside its reference, and steps back and
forth through the evaluations so one row's prediction can be followed as training goes on.
It reads the run's event log itself, and only while it is shown: hidden, it costs nothing, and
a console that attaches later (`emosum-tui watch`) reads the same events from the start.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.timer import Timer
from textual.widgets import Static

from emosum_tui.core.events import EVENTS_FILE, EventReader, SamplePrediction
from emosum_tui.i18n import N_, _

if TYPE_CHECKING:
    from emosum_tui.ui.messages import LanguageChanged

POLL_SECONDS = 2.0  # evaluations are minutes apart: a shown pane looks for new ones every few seconds
SOURCE_SHOWN_CHARS = 240  # enough of the dialogue to recognise the row


@dataclass
class SampleHistory:
    """Every evaluation's sample predictions, by optimizer step; a step evaluated again (a resumed
    run) keeps the latest prediction of each row."""

    by_step: dict[int, dict[int, SamplePrediction]] = field(default_factory=dict)

    def add(self, sample: SamplePrediction) -> bool:
        """Record one prediction; True when it opened a new evaluation."""
        new = sample.step not in self.by_step
        self.by_step.setdefault(sample.step, {})[sample.index] = sample
        return new

    @property
    def steps(self) -> list[int]:
        return sorted(self.by_step)

    def rows_at(self, step: int) -> list[SamplePrediction]:
        return [self.by_step[step][index] for index in sorted(self.by_step.get(step, {}))]

    def earlier(self, step: int, index: int) -> SamplePrediction | None:
        """The same row at the evaluation before `step`, if that evaluation wrote it."""
        before = [s for s in self.steps if s < step]
        return self.by_step[before[-1]].get(index) if before else None


def change_note(sample: SamplePrediction, earlier: SamplePrediction | None) -> Text:
    if earlier is None:
        return Text(_("first evaluation of this row"), style="dim")
    if earlier.prediction == sample.prediction:
        return Text(_("unchanged since step {step}").format(step=earlier.step), style="dim")
    return Text(_("changed since step {step}").format(step=earlier.step), style="bold yellow")


def sample_block(sample: SamplePrediction, earlier: SamplePrediction | None) -> RenderableType:
    """One row: its id and the start of its source, then reference | prediction side by side."""
    source = sample.source if len(sample.source) <= SOURCE_SHOWN_CHARS else sample.source[:SOURCE_SHOWN_CHARS] + "…"
    heading = Text.assemble((_("row {id}").format(id=sample.row_id), "bold"), "  ", (source, "dim"))
    table = Table(expand=True, show_edge=False, pad_edge=False, box=None, padding=(0, 2, 0, 0))
    table.add_column(_("reference"), ratio=1, style="")
    table.add_column(_("prediction at step {step} ({seconds} s)").format(step=sample.step, seconds=f"{sample.seconds:.1f}"), ratio=1)
    prediction = Text(sample.prediction) if sample.prediction else Text(_("(empty: nothing but special tokens)"), style="italic red")
    table.add_row(Text(sample.reference), Group(prediction, change_note(sample, earlier)))
    return Group(heading, table, Text(""))


class SamplesPane(VerticalScroll):
    """`show_pane()` reads the log and draws the latest evaluation; ←/→ step through them."""

    DEFAULT_CSS = """
    SamplesPane { height: 1fr; border: round $primary 50%; border-title-align: left; padding: 0 1; }
    SamplesPane #samples-heading { height: auto; color: $text-muted; }
    SamplesPane #samples-body { height: auto; }
    """
    BINDINGS = [  # noqa: RUF012
        Binding("left", "earlier", N_("earlier eval")),
        Binding("right", "later", N_("later eval")),
        Binding("end", "latest", N_("latest eval")),
    ]

    def __init__(self, run_dir: Path, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.reader = EventReader(Path(run_dir) / EVENTS_FILE)
        self.history = SampleHistory()
        self.position: int | None = None  # index into history.steps; None follows the latest evaluation
        self.timer: Timer | None = None
        self.border_title = _("samples")

    def on_language_changed(self, message: LanguageChanged) -> None:
        self.border_title = _("samples")
        if self.query("#samples-heading"):
            self.draw()

    def compose(self):  # type: ignore[no-untyped-def]
        yield Static("", id="samples-heading")
        yield Static("", id="samples-body")

    @property
    def shown_step(self) -> int | None:
        steps = self.history.steps
        if not steps:
            return None
        return steps[-1] if self.position is None else steps[min(self.position, len(steps) - 1)]

    def read(self) -> bool:
        """New sample events from the log; True when any arrived."""
        samples = [e for e in self.reader.poll() if isinstance(e, SamplePrediction)]
        for sample in samples:
            self.history.add(sample)
        return bool(samples)

    def show_pane(self) -> None:
        """Shown: read what the log holds and keep reading while shown."""
        self.read()
        self.draw()
        if self.timer is None:
            self.timer = self.set_interval(POLL_SECONDS, self._poll)

    def hide_pane(self) -> None:
        if self.timer is not None:
            self.timer.stop()
            self.timer = None

    def _poll(self) -> None:
        if self.read():
            self.draw()

    def draw(self) -> None:
        heading = self.query_one("#samples-heading", Static)
        body = self.query_one("#samples-body", Static)
        step = self.shown_step
        if step is None:
            heading.update(_("No sample predictions in this run yet. The trainer writes them at each evaluation "
                             "([eval] samples rows, greedy); a run with evaluation off, samples = 0, or from before "
                             "samples existed has none."))
            body.update("")
            return
        steps = self.history.steps
        where = steps.index(step) + 1
        follow = _("following the latest") if self.position is None else _("end: back to the latest")
        heading.update(_("evaluation {number} of {count} at step {step} · ←/→ earlier/later evaluation · {follow}").format(
            number=where, count=len(steps), step=step, follow=follow))
        body.update(Group(*(sample_block(s, self.history.earlier(step, s.index)) for s in self.history.rows_at(step))))

    def action_earlier(self) -> None:
        steps = self.history.steps
        if steps:
            current = steps.index(self.shown_step) if self.shown_step is not None else 0
            self.position = max(0, current - 1)
            self.draw()

    def action_later(self) -> None:
        steps = self.history.steps
        if steps and self.position is not None:
            self.position = None if self.position + 1 >= len(steps) - 1 else self.position + 1
            self.draw()

    def action_latest(self) -> None:
        self.position = None
        self.draw()
