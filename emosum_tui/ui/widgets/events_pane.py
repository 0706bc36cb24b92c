"""What the trainer said that needs a human: warnings, errors with advice, checkpoints, the end."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.markup import escape
from textual.geometry import Size
from textual.reactive import Reactive
from textual.widgets import RichLog

from emosum_tui.core.events import CheckpointSaved, Diagnosis, Done, Error, EvalResult, Event, RunStart, Warn
from emosum_tui.core.run_state_words import state_word
from emosum_tui.i18n import _
from emosum_tui.i18n.phrase import shown
from emosum_tui.ui.format import human_bytes, human_duration

if TYPE_CHECKING:
    from emosum_tui.ui.messages import LanguageChanged

_BOOKKEEPING = {"runtime", "samples_per_second", "steps_per_second", "epoch"}


def _fmt_metrics(metrics: dict[str, float]) -> str:
    """The metrics that say something about the model (loss, ROUGE), not the Trainer's timings."""
    numbers = {k.removeprefix("eval_"): v for k, v in metrics.items() if isinstance(v, (int, float))}
    return ", ".join(f"{k} {v:.4g}" for k, v in numbers.items() if k not in _BOOKKEEPING)


class EventsPane(RichLog):
    """A log of the notable events; times are shown relative to the run's start.
    `add` queues a line and `flush` writes the queue: the training screen flushes in its
    once-a-second frame, so a checkpoint's line does not cost a frame of its own. The events
    shown are kept (a few dozen), so a language switch writes the log again in its words."""

    # A new line grows the log's virtual size, which by default lays out the whole screen again.
    # The pane's own box does not change, so only its scroll bars need to know: `watch_virtual_size`
    # tells them. A scroll bar that appears or goes still lays out the screen
    # (`show_vertical_scrollbar` is a layout reactive).
    virtual_size = Reactive(Size(0, 0), layout=False)

    def __init__(self, **kwargs) -> None:
        super().__init__(wrap=True, markup=True, highlight=False, **kwargs)
        self.start_t: float | None = None
        self.final_path: str | None = None
        self.texts: list[str] = []  # plain text of what was added, for tests and screenshots
        self.pending: list[str] = []  # lines added, not yet written
        self.described: list[Event] = []  # the events that made a line

    def add(self, event: Event) -> None:
        if self.start_t is None:
            self.start_t = event.t
        text = self._describe(event)
        if text is None:
            return
        self.described.append(event)
        when = f"[dim]+{human_duration(max(0.0, event.t - self.start_t))}[/dim] "
        self.texts.append(text)
        self.pending.append(when + text)

    def flush(self) -> None:
        """Write the queued lines, and follow them if the view was at the end. The scroll happens
        now, not after the next refresh as `RichLog`'s own auto-scroll does: that was one more
        frame for every frame that added a line."""
        if not self.pending:
            return
        lines, self.pending = self.pending, []
        follow = self.is_vertical_scroll_end
        self.write("\n".join(lines), scroll_end=False)  # one write: each write updates the scroll bars
        if follow:
            self.scroll_end(animate=False, immediate=True, x_axis=False)

    def on_language_changed(self, message: LanguageChanged) -> None:
        """Every line again, in the interface's language."""
        events, self.described, self.texts, self.pending = self.described, [], [], []
        self.clear()
        for event in events:
            self.add(event)
        self.flush()

    def watch_virtual_size(self, size: Size) -> None:
        self._scroll_update(size)  # Textual's own update of the scroll bars after a resize (private)

    def _describe(self, event: Event) -> str | None:
        if isinstance(event, RunStart):
            if event.resumed_from:
                return _("[b]resumed[/b] from {path}").format(path=escape(event.resumed_from))
            return _("started (pid {pid}), output to {path}").format(pid=event.pid, path=escape(event.output_dir or "?"))
        if isinstance(event, Warn):
            return _("[yellow]warning[/yellow] {code}: {message}").format(code=escape(event.code), message=escape(shown(event.message)))
        if isinstance(event, Diagnosis):
            values = {"message": escape(shown(event.message)), "evidence": escape(shown(event.evidence)), "fix": escape(shown(event.fix))}
            if event.fix:
                return _("[yellow]diagnosis[/yellow] {message} [dim]({evidence})[/dim] — fix: {fix}").format(**values)
            return _("[yellow]diagnosis[/yellow] {message} [dim]({evidence})[/dim]").format(**values)
        if isinstance(event, Error):
            advice = "".join(f"\n    → {escape(shown(item))}" for item in event.advice)
            return _("[b red]error ({classification})[/b red] {type}: {message}").format(
                classification=escape(event.classification), type=escape(event.type), message=escape(shown(event.message))) + advice
        if isinstance(event, CheckpointSaved):
            return _("checkpoint step {step}: {path} ({size}, {seconds})").format(
                step=event.step, path=escape(event.path), size=human_bytes(event.bytes), seconds=human_duration(event.seconds))
        if isinstance(event, EvalResult):
            return _("eval step {step}: {metrics} ({seconds})").format(
                step=event.step, metrics=_fmt_metrics(event.metrics), seconds=human_duration(event.seconds))
        if isinstance(event, Done):
            if event.final_path:
                self.final_path = event.final_path
            text = _("[b]done ({reason})[/b] after {steps} steps").format(reason=escape(state_word(event.reason)), steps=event.steps)
            if event.train_loss is not None:
                text += _(", train loss {loss}").format(loss=f"{event.train_loss:.4g}")
            if event.final_path:
                text += _(" — final model: [b]{path}[/b]").format(path=escape(event.final_path))
            return text
        return None
