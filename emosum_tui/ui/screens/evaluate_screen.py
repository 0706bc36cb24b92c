"""Evaluate a run from the console: predictions with progress and ETA, then ROUGE beside the baseline.

The machinery of `emosum-tui evaluate` (`commands.evaluate_cmd`): the run's model in the
generation worker (a subprocess: the console stays torch-free), the run's validation rows
(its `data.validation_samples` view when it has one, the first rows of the file as `--limit`
takes them, else every row), predictions written to `<model>/predictions.jsonl`, and the same
report: the model's ROUGE-1/2/L F1 next to the constant most-typical-target baseline. A thread
worker does it all and posts messages; leaving the screen ends the worker subprocess.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import ProgressBar, Static

from emosum_tui.i18n import N_, _, pgettext
from emosum_tui.ui.messages import LanguageChanged
from emosum_tui.ui.widgets.footer import Footer

if TYPE_CHECKING:  # imported where used: the screen opens without them
    from emosum_tui.core.data import Pair
    from emosum_tui.core.generation_client import GenerationClient

EVENT_WAIT_SECONDS = 0.2  # how often the worker thread looks up to see whether the screen closed
EVALUATE_BATCH = 8  # rows generated together, as `evaluate --batch-size` defaults


def said(template: str, **values: object) -> Callable[[], str]:
    """`template` (marked with `N_`) with `values`, in the interface's language each time it is drawn."""
    return lambda: _(template).format(**values)


@dataclass
class EvaluationProgress(Message):
    """`done` of `total` rows predicted; a newer count replaces one not yet drawn."""

    done: int
    total: int

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, EvaluationProgress)


@dataclass
class EvaluationStatus(Message):
    """What the evaluation is doing now (loading, predicting, scoring): `say()` writes it in the
    interface's language (again after a language switch)."""

    say: Callable[[], str]


@dataclass
class EvaluationEnded(Message):
    """The report (ROUGE beside the baseline) or, `ok` False, why there is none (`say()` writes it)."""

    say: Callable[[], str]
    ok: bool

    @property
    def text(self) -> str:
        return self.say()


class EvaluateScreen(Screen):
    """`EvaluateScreen(run_dir)` starts at once; escape leaves (and stops a running evaluation)."""

    CSS_PATH = Path(__file__).with_name("evaluate_screen.tcss")
    BINDINGS = [Binding("escape", "back", N_("back"))]  # noqa: RUF012

    def __init__(self, run_dir: Path) -> None:
        super().__init__()
        self.run_dir = Path(run_dir)
        self.client: GenerationClient | None = None  # while predicting
        self.ended: EvaluationEnded | None = None
        self.status_text = said(N_("reading the run…"))  # drawn again after a language switch

    def compose(self) -> ComposeResult:
        yield Static(_("Evaluate {run}").format(run=self.run_dir.name), id="evaluate-title")
        yield Static(self.status_text(), id="evaluate-status")
        yield ProgressBar(id="evaluate-progress", show_eta=True)
        yield Static("", id="evaluate-report")
        yield Footer()

    def on_mount(self) -> None:
        self.evaluate()

    def on_unmount(self) -> None:
        if self.client is not None:
            self.client.kill()

    def status(self, draw: Callable[[], str]) -> None:
        self.status_text = draw
        self.query_one("#evaluate-status", Static).update(Text(draw()))

    def on_language_changed(self, message: LanguageChanged) -> None:
        """Title, status and the report (or why there is none) in the new language."""
        self.query_one("#evaluate-title", Static).update(_("Evaluate {run}").format(run=self.run_dir.name))
        self.status(self.status_text)
        if self.ended is not None:
            self.ended_(self.ended)

    @work(thread=True, group="evaluate")
    def evaluate(self) -> None:
        try:
            self.post_message(self._evaluate())
        except Exception as exc:  # a bug must still end the screen's wait with its reason
            self.post_message(EvaluationEnded(said(N_("evaluation failed: {error}"), error=f"{type(exc).__name__}: {exc}"), ok=False))

    def _evaluate(self) -> EvaluationEnded:
        from emosum_tui.commands.evaluate_cmd import PREDICTIONS_FILE, out_problem, text_report, write_predictions
        from emosum_tui.core.generation_client import GenerationClient
        from emosum_tui.core.rouge import summarize
        from emosum_tui.ui.run_model import read_choice, validation_rows

        chosen = read_choice(self.run_dir)
        if chosen.choice is None:  # the reason is worded when read: read again when drawn (a language switch)
            return EvaluationEnded(lambda: _("No model to evaluate: {problem}").format(
                problem=read_choice(self.run_dir).problem or chosen.problem), ok=False)
        choice = chosen.choice
        rows = validation_rows(choice)
        if rows.problem or rows.path is None:
            return EvaluationEnded(said(N_("No rows to evaluate on: {problem}"), problem=rows.problem), ok=False)
        limit = int(choice.preset_value("data.validation_samples", 0))
        pairs = rows.pairs[:limit] if limit else rows.pairs
        out = choice.resolved.model_dir / PREDICTIONS_FILE
        problem = out_problem(out, rows.path, choice.fields)
        if problem:
            return EvaluationEnded(said("{problem}", problem=problem), ok=False)
        beams = int(choice.preset_value("eval.num_beams", 1))

        def loading() -> str:
            if rows.bad_rows:
                plan = _("{rows} rows of {file}, {bad} bad rows skipped; loading the model…").format(
                    rows=len(pairs), file=rows.path, bad=rows.bad_rows)
            else:
                plan = _("{rows} rows of {file}; loading the model…").format(rows=len(pairs), file=rows.path)
            return f"{choice.resolved.describe()}\n{plan}"

        self.post_message(EvaluationStatus(loading))
        self.client = client = GenerationClient(choice.resolved.model_dir, max_new_tokens=choice.max_new_tokens(None), num_beams=beams,
                                                batch_size=EVALUATE_BATCH, max_source_tokens=choice.max_source_tokens()).start()
        try:
            predictions = self._predict(client, pairs)
        finally:
            client.kill()
        if not isinstance(predictions, dict):
            return EvaluationEnded(predictions, ok=False)
        write_predictions(out, pairs, predictions)
        kept = [i for i in range(len(pairs)) if i in predictions]
        summary = summarize([predictions[i] for i in kept], [pairs[i].target for i in kept])
        return EvaluationEnded(lambda: text_report(summary, len(kept), out), ok=True)

    def _predict(self, client: GenerationClient, pairs: list[Pair]) -> dict[int, str] | Callable[[], str]:
        """Predictions by row index, or why they stopped (a dead worker, the screen closed)."""
        from textual.worker import get_current_worker

        from emosum_tui.core.generation_client import Prediction, Ready, WorkerError, WorkerExited

        for index, pair in enumerate(pairs):
            client.send(pair.source, id=index)
        client.finish_input()
        predictions: dict[int, str] = {}
        failed = 0
        worker = get_current_worker()
        started = time.monotonic()
        while not worker.is_cancelled:
            event = client.next_event(EVENT_WAIT_SECONDS)
            if isinstance(event, Ready):
                self.post_message(EvaluationStatus(said(
                    N_("model ready on {device} in {seconds} s; predicting {rows} rows, up to {tokens} tokens x {beams} beam(s)"),
                    device=event.device, seconds=f"{event.seconds:.1f}", rows=len(pairs), tokens=event.max_new_tokens,
                    beams=event.num_beams)))
            elif isinstance(event, Prediction) and isinstance(event.id, int):
                predictions[event.id] = event.prediction
                self.post_message(EvaluationProgress(len(predictions) + failed, len(pairs)))
            elif isinstance(event, WorkerError):
                if event.fatal:
                    return said("{message}", message=event.message)
                failed += 1
            elif isinstance(event, WorkerExited):
                if event.code != 0 or not predictions:
                    return said(N_("the generation worker exited with code {code} after {rows} rows: {stderr}"),
                                code=event.code, rows=len(predictions), stderr=event.stderr_tail[-300:])
                self.post_message(EvaluationStatus(said(N_("{rows} rows predicted in {seconds} s; scoring…"),
                                                        rows=len(predictions), seconds=f"{time.monotonic() - started:.0f}")))
                return predictions
        return lambda: pgettext("evaluation", "stopped")

    @on(EvaluationStatus)
    def status_read(self, message: EvaluationStatus) -> None:
        self.status(message.say)

    @on(EvaluationProgress)
    def progress(self, message: EvaluationProgress) -> None:
        self.query_one(ProgressBar).update(total=message.total, progress=message.done)

    @on(EvaluationEnded)
    def ended_(self, message: EvaluationEnded) -> None:
        self.ended = message
        self.query_one("#evaluate-report", Static).update(Text(message.text, style="" if message.ok else "bold red"))
        if message.ok:
            self.status(said(N_("done: ROUGE of the model beside always writing the most typical target")))
        else:
            self.status(said(N_("evaluation did not run")))
            self.query_one(ProgressBar).display = False  # nothing is in progress: no bar pulsing under the reason

    def action_back(self) -> None:
        self.app.pop_screen()
