"""What the trainer said that needs a human: warnings, errors with advice, checkpoints, the end."""

from __future__ import annotations

from rich.markup import escape
from textual.geometry import Size
from textual.reactive import Reactive
from textual.widgets import RichLog

from emosum_tui.core.events import CheckpointSaved, Diagnosis, Done, Error, EvalResult, Event, RunStart, Warn
from emosum_tui.ui.format import human_bytes, human_duration

_BOOKKEEPING = {"runtime", "samples_per_second", "steps_per_second", "epoch"}


def _fmt_metrics(metrics: dict[str, float]) -> str:
    """The metrics that say something about the model (loss, ROUGE), not the Trainer's timings."""
    shown = {k.removeprefix("eval_"): v for k, v in metrics.items() if isinstance(v, (int, float))}
    return ", ".join(f"{k} {v:.4g}" for k, v in shown.items() if k not in _BOOKKEEPING)


class EventsPane(RichLog):
    """A log of the notable events; times are shown relative to the run's start.
    `add` queues a line and `flush` writes the queue: the training screen flushes in its
    once-a-second frame, so a checkpoint's line does not cost a frame of its own."""

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

    def add(self, event: Event) -> None:
        if self.start_t is None:
            self.start_t = event.t
        text = self._describe(event)
        if text is None:
            return
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

    def watch_virtual_size(self, size: Size) -> None:
        self._scroll_update(size)  # Textual's own update of the scroll bars after a resize (private)

    def _describe(self, event: Event) -> str | None:
        if isinstance(event, RunStart):
            if event.resumed_from:
                return f"[b]resumed[/b] from {escape(event.resumed_from)}"
            return f"started (pid {event.pid}), output to {escape(event.output_dir or '?')}"
        if isinstance(event, Warn):
            return f"[yellow]warning[/yellow] {escape(event.code)}: {escape(event.message)}"
        if isinstance(event, Diagnosis):
            fix = f" — fix: {escape(event.fix)}" if event.fix else ""
            return f"[yellow]diagnosis[/yellow] {escape(event.message)} [dim]({escape(event.evidence)})[/dim]{fix}"
        if isinstance(event, Error):
            advice = "".join(f"\n    → {escape(item)}" for item in event.advice)
            return f"[b red]error ({escape(event.classification)})[/b red] {escape(event.type)}: {escape(event.message)}{advice}"
        if isinstance(event, CheckpointSaved):
            return f"checkpoint step {event.step}: {escape(event.path)} ({human_bytes(event.bytes)}, {human_duration(event.seconds)})"
        if isinstance(event, EvalResult):
            return f"eval step {event.step}: {_fmt_metrics(event.metrics)} ({human_duration(event.seconds)})"
        if isinstance(event, Done):
            if event.final_path:
                self.final_path = event.final_path
            where = f" — final model: [b]{escape(event.final_path)}[/b]" if event.final_path else ""
            loss = f", train loss {event.train_loss:.4g}" if event.train_loss is not None else ""
            return f"[b]done ({escape(event.reason)})[/b] after {event.steps} steps{loss}{where}"
        return None
