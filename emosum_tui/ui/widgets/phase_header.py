"""The training screen's top line: which run, on what device, in which phase, how far."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical

from emosum_tui.i18n import N_, _
from emosum_tui.ui.widgets.live_text import LiveText

if TYPE_CHECKING:
    from emosum_tui.ui.messages import LanguageChanged

BAR_CELLS = 46

# The trainer's phase identifiers (data in the event log) as the header says them; `_()` where drawn.
PHASE_WORDS = {
    "starting": N_("starting"),
    "loading_model": N_("loading the model"),
    "loading_data": N_("loading the data"),
    "tokenising": N_("tokenising"),
    "trimming_vocabulary": N_("trimming vocabulary"),
    "training": N_("training"),
    "evaluating": N_("evaluating"),
    "saving": N_("saving a checkpoint"),
    "compiling": N_("compiling"),
    "done": N_("done"),
}


def bar_markup(done: int, total: int, cells: int = BAR_CELLS) -> str:
    """`done` of `total` as a line of cells and a percentage, in the colours of Textual's bar.

    Textual's `ProgressBar` redraws itself on a timer of its own every second (for its ETA, shown
    or not), which is a frame of its own on a screen that draws everything else once a second."""
    fraction = min(1.0, max(0.0, done / total)) if total > 0 else 0.0
    filled = round(fraction * cells)
    colour = "$success" if fraction >= 1 else "$primary"
    return f"[{colour}]{'━' * filled}[/][$surface]{'━' * (cells - filled)}[/] {fraction:4.0%}"


class PhaseHeader(Vertical):
    """Run title (preset, device, torch build) above the phase with its progress bar."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.run_text = ""
        self.phase_args: tuple = ("starting", None, None, "")
        self.training_began = False  # from then on the bar counts steps
        self.bar: tuple[int, int] | None = None  # (done, total) as the bar shows it; None: no bar

    def compose(self) -> ComposeResult:
        yield LiveText("", fixed_size=True, id="run-title")
        with Horizontal(id="phase-line"):
            yield LiveText(_("phase: starting"), fixed_size=True, id="phase-name")
            yield LiveText("", fixed_size=True, id="phase-progress")

    def show_run(self, run_name: str, preset: str, device: str, torch_build: str) -> None:
        parts = [f"[b]{preset or '?'}[/b]", run_name, _("device [b]{device}[/b]").format(device=device or "?")]
        if torch_build:
            parts.append(f"torch {torch_build}")
        self.run_text = "  ·  ".join(parts)
        self.draw()

    def show_phase(self, phase: str, done: int | None = None, total: int | None = None, detail: str = "") -> None:
        """`done` of `total` drives the bar; no total = no bar (or a full one when done): Textual's
        indeterminate bar animates many times a second, taken from the trainer's loading. Once
        training has begun the bar keeps its steps through evals and saves (the words name the
        phase): a bar that hides and shows every checkpoint re-flows the whole screen each time."""
        self.phase_args = (phase, done, total, detail)
        self.training_began = self.training_began or (phase == "training" and bool(total))
        self.draw()

    def on_mount(self) -> None:
        self.draw()
        self.call_after_refresh(self.draw)

    def on_language_changed(self, message: LanguageChanged) -> None:
        self.draw()

    def draw(self) -> None:
        """Show the latest figures; before the children are mounted, `on_mount` draws them."""
        titles = self.query("#run-title")
        if not titles:
            return
        titles.first(LiveText).show(self.run_text)
        phase, done, total, detail = self.phase_args
        words = _(PHASE_WORDS[phase]) if phase in PHASE_WORDS else phase.replace("_", " ")
        counts = f" {done:,} / {total:,}" if done is not None and total else ""
        extra = f" — {detail}" if detail else ""
        self.query_one("#phase-name", LiveText).show(_("phase: [b]{phase}[/b]{progress}").format(phase=words, progress=counts) + extra)
        if phase == "done" and not total:
            self._show_bar(1, 1)
        elif total and (phase in ("training", "done") or not self.training_began):
            self._show_bar(done or 0, total)
        elif not self.training_began:
            self._show_bar(None, None)

    def _show_bar(self, done: int | None, total: int | None) -> None:
        bar = self.query_one("#phase-progress", LiveText)
        self.bar = (done, total) if done is not None and total else None
        bar.display = self.bar is not None
        if self.bar is not None:
            bar.show(bar_markup(*self.bar))
