"""The Try screen: type or paste a case and dialogue (or pick a validation row), watch the reflection stream.

The model runs in the generation worker, a subprocess speaking JSON lines (`GenerationClient`):
the console never imports torch. A thread worker owns the client, turns each of its events into
a `GenerationRead` message and ends the subprocess when the screen closes. The model loads
while the user types, so the first answer starts sooner. A pasted JSON data row becomes its
source as in training; a validation row's reference is shown under the answer once it is done.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Static, TextArea

from emosum_tui.core.data import Pair
from emosum_tui.core.generation_client import (
    GenerationClient,
    GenerationEvent,
    Prediction,
    Ready,
    Token,
    WorkerError,
    WorkerExited,
)
from emosum_tui.i18n import N_, _
from emosum_tui.ui.messages import LanguageChanged
from emosum_tui.ui.run_model import ChoiceRead, RowsRead, read_choice, validation_rows
from emosum_tui.ui.widgets.footer import Footer

EVENT_WAIT_SECONDS = 0.2  # how often the worker thread looks up from the client to see if the screen closed


@dataclass
class GenerationRead(Message):
    """One event of the generation worker. Never replaced: every token must arrive."""

    event: GenerationEvent


@dataclass
class ModelRead(Message):
    """The model the run means (or why none), and its validation rows."""

    chosen: ChoiceRead
    rows: RowsRead | None


class TryScreen(Screen):
    """`TryScreen(run_dir_or_model_dir)`: one generation worker for as long as the screen is open."""

    CSS_PATH = Path(__file__).with_name("try_screen.tcss")
    BINDINGS = [  # noqa: RUF012
        Binding("ctrl+g", "generate", N_("generate"), priority=True),
        Binding("ctrl+n", "next_row", N_("next validation row"), priority=True),
        Binding("ctrl+b", "previous_row", N_("previous row"), priority=True),
        Binding("escape", "back", N_("back")),
    ]

    def __init__(self, model_path: Path) -> None:
        super().__init__()
        self.model_path = Path(model_path)
        self.client: GenerationClient | None = None
        self.ready: Ready | None = None
        self.pairs: list[Pair] = []
        self.row_index: int | None = None  # the validation row in the input, while it is unedited
        self.row_text = ""
        self.request: int | None = None  # the request streaming now
        self.answer = ""
        self.tokens_seen = 0
        self.choice = None  # ModelChoice once read
        self.empty_answer = False  # the last answer was empty, and the screen says so
        # What the title, the input's label and the status line say, drawn again after a language switch:
        self.title_text: Callable[[], str] = lambda: _("Try {model}").format(model=self.model_path)
        self.label_text: Callable[[], str] = lambda: _("case description and dialogue (type or paste; ctrl+n picks a validation row):")
        self.status_text: Callable[[], str] = lambda: _("reading the run…")

    def compose(self) -> ComposeResult:
        yield Static(self.title_text(), id="try-title")
        with Horizontal(id="try-body"):
            with Vertical(id="try-left"):
                yield Static(self.label_text(), id="try-input-label")
                yield TextArea(id="try-input", soft_wrap=True, show_line_numbers=False)
            with VerticalScroll(id="try-right"):
                yield Static("", id="try-answer")
                yield Static("", id="try-reference")
        yield Static(self.status_text(), id="try-status")
        yield Footer()

    def on_mount(self) -> None:
        self.read_model()
        self.query_one(TextArea).focus()

    def on_unmount(self) -> None:
        if self.client is not None:
            self.client.kill()  # whatever it is doing: the screen is gone

    def status(self, draw: Callable[[], str]) -> None:
        """The status line: `draw()` writes it (again after a language switch)."""
        self.status_text = draw
        self.query_one("#try-status", Static).update(Text(draw()))

    def on_language_changed(self, message: LanguageChanged) -> None:
        """Title, label, status, the empty answer's note and the reference's heading in the new language."""
        self.query_one("#try-title", Static).update(Text(self.title_text()))
        self.query_one("#try-input-label", Static).update(self.label_text())
        self.status(self.status_text)
        if self.empty_answer:
            self._show_empty_answer()
        if self.request is None and str(self.query_one("#try-reference", Static).content):
            self._show_reference()

    # -- the model and its worker ------------------------------------------------------------------

    @work(thread=True, group="try-read")
    def read_model(self) -> None:
        chosen = read_choice(self.model_path)
        rows = validation_rows(chosen.choice) if chosen.choice is not None else None
        self.post_message(ModelRead(chosen, rows))

    @on(ModelRead)
    def model_read(self, message: ModelRead) -> None:
        chosen = message.chosen
        if chosen.choice is None:
            # the reason is worded when read: read again when drawn (a language switch)
            self.status(lambda: _("No model to try: {problem}").format(problem=read_choice(self.model_path).problem or chosen.problem))
            return
        self.choice = choice = chosen.choice
        self.title_text = lambda: _("Try {model}").format(model=choice.resolved.describe())
        self.query_one("#try-title", Static).update(Text(self.title_text()))
        if message.rows is not None and message.rows.pairs:
            self.pairs = message.rows.pairs
        rows = len(self.pairs)
        self.status(lambda: _("loading the model in the generation worker… ({rows} validation rows to pick from)").format(rows=rows))
        self.follow_worker()

    @work(thread=True, group="try-worker")
    def follow_worker(self) -> None:
        from textual.worker import get_current_worker

        choice = self.choice
        assert choice is not None
        client = GenerationClient(choice.resolved.model_dir, max_new_tokens=choice.max_new_tokens(None),
                                  max_source_tokens=choice.max_source_tokens())
        self.client = client.start()
        worker = get_current_worker()
        try:
            while not worker.is_cancelled:
                event = client.next_event(EVENT_WAIT_SECONDS)
                if event is None:
                    continue
                self.post_message(GenerationRead(event))
                if isinstance(event, WorkerExited):
                    return
        finally:
            client.kill()

    @on(GenerationRead)
    def generation_read(self, message: GenerationRead) -> None:
        event = message.event
        if isinstance(event, Ready):
            self.ready = event
            self.status(lambda: _("model ready on {device} ({dtype}) in {seconds} s; up to {tokens} new tokens · ctrl+g generates").format(
                device=event.device, dtype=event.dtype, seconds=f"{event.seconds:.1f}", tokens=event.max_new_tokens))
        elif isinstance(event, Token) and event.id == self.request:
            self.answer += event.text
            self.tokens_seen += 1
            self.query_one("#try-answer", Static).update(Text(self.answer))
        elif isinstance(event, Prediction) and event.id == self.request:
            self.request = None
            self.answer = event.prediction or self.answer
            self.empty_answer = not self.answer
            if self.empty_answer:
                self._show_empty_answer()
            else:
                self.query_one("#try-answer", Static).update(Text(self.answer))
            self.status(lambda: _("{tokens} tokens in {seconds} s · ctrl+g again, or edit the text").format(
                tokens=event.tokens, seconds=f"{event.seconds:.1f}"))
            self._show_reference()
        elif isinstance(event, WorkerError):
            if event.fatal or event.id == self.request:
                self.request = None
            self.status(lambda: _("error: {message}").format(message=event.message))
        elif isinstance(event, WorkerExited):
            self.ready, self.request = None, None
            tail = event.stderr_tail[-300:]
            if tail:
                self.status(lambda: _("the generation worker exited with code {code}: {stderr}").format(code=event.code, stderr=tail))
            else:
                self.status(lambda: _("the generation worker exited with code {code}").format(code=event.code))

    def _show_empty_answer(self) -> None:
        self.query_one("#try-answer", Static).update(Text(_("(empty: nothing but special tokens)")))

    def _show_reference(self) -> None:
        reference = self.query_one("#try-reference", Static)
        if self.row_index is not None and self.query_one(TextArea).text == self.row_text:
            heading = "\n" + _("reference (validation row):") + "\n"
            reference.update(Text.assemble((heading, "bold dim"), (self.pairs[self.row_index].target, "dim")))
        else:
            reference.update("")

    # -- keys ----------------------------------------------------------------------------------

    def action_generate(self) -> None:
        text = self.query_one(TextArea).text.strip()
        if self.client is None or self.ready is None:
            self.notify(_("The model is not loaded yet."), severity="warning")
            return
        if self.request is not None:
            self.notify(_("Still writing the last answer."), severity="warning")
            return
        if not text:
            self.notify(_("Type or paste a case description and dialogue first (or ctrl+n for a validation row)."), severity="warning")
            return
        from emosum_tui.commands.try_cmd import source_text

        assert self.choice is not None
        source = source_text(text, self.choice.fields)
        self.answer, self.tokens_seen, self.empty_answer = "", 0, False
        self.query_one("#try-answer", Static).update("")
        self.query_one("#try-reference", Static).update("")
        self.request = self.client.send(source, stream=True)
        self.status(lambda: _("writing…"))

    def _pick(self, step: int) -> None:
        if not self.pairs:
            self.notify(_("No validation rows to pick from."), severity="warning")
            return
        self.row_index = (step if self.row_index is None else self.row_index + step) % len(self.pairs)
        pair = self.pairs[self.row_index]
        self.row_text = pair.source
        self.query_one(TextArea).load_text(pair.source)
        number, rows = self.row_index + 1, len(self.pairs)
        self.label_text = lambda: _("validation row {number} of {rows} (id {id}, line {line}); ctrl+g generates").format(
            number=number, rows=rows, id=pair.row_id, line=pair.line)
        self.query_one("#try-input-label", Static).update(self.label_text())

    def action_next_row(self) -> None:
        self._pick(1 if self.row_index is not None else 0)

    def action_previous_row(self) -> None:
        self._pick(-1)

    def action_back(self) -> None:
        self.app.pop_screen()
