"""The one screen a failed run ends on: what happened, the smallest fix, and "apply and resume".

An out-of-memory run offers `a`: write `<run_dir>/preset-halfbatch.toml` (batch / 2,
grad-accum x 2, same effective batch) and resume from the last checkpoint, with a `StartRun`
for the app (which attaches the new trainer to the run's training screen). Torch-free.
"""

from __future__ import annotations

from pathlib import Path

from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Static

from emosum_tui.core.presets import PresetError
from emosum_tui.core.rundir import load_run_preset
from emosum_tui.doctor.advice import FailureAdvice, advise, prepare_resume
from emosum_tui.ui.messages import StartRun


class FailureAdviceScreen(Screen[Path | None]):
    """Advice for a failed run; `a` applies the fix and resumes when that is safe (the screen
    then closes with the preset file resumed with; None when closed without)."""

    CSS_PATH = Path(__file__).with_name("failure_advice.tcss")

    BINDINGS = [  # noqa: RUF012
        Binding("a", "apply", "apply and resume"),
        Binding("escape,q", "close", "close"),
    ]

    def __init__(self, run_dir: Path, advice: FailureAdvice | None = None) -> None:
        super().__init__()
        self.run_dir = Path(run_dir)
        self.advice = advice if advice is not None else advise(self.run_dir)

    def compose(self) -> ComposeResult:
        advice = self.advice
        with Vertical(id="advice"):
            if advice is None:
                yield Static(f"{escape(self.run_dir.name)} has not failed: nothing to advise.", id="advice-title")
            else:
                yield Static(f"{escape(self.run_dir.name)} failed: {escape(advice.title)}", id="advice-title")
                yield Static(f"[b]What happened[/b]\n{escape(advice.happened)}", classes="advice-part", id="advice-happened")
                yield Static(f"[b]Smallest fix[/b]\n{escape(advice.fix)}", classes="advice-part", id="advice-fix")
                if advice.trainer_advice:
                    more = "\n".join(f"• {escape(line)}" for line in advice.trainer_advice)
                    yield Static(f"[b]Other options[/b]\n{more}", classes="advice-part", id="advice-more")
                if advice.can_resume:
                    changes = ", ".join(f"{k} = {v!r}" for k, v in advice.changes.items()) or "no change"
                    yield Static(f"Press [b]a[/b] to apply ({escape(changes)}) and resume from "
                                 f"{escape(advice.checkpoint.name if advice.checkpoint else '?')}.", id="advice-action")
                else:
                    why = "no checkpoint to resume from" if advice.checkpoint is None else "this fix needs a new run"
                    yield Static(f"[dim]No one-key resume: {why}.[/dim]", id="advice-action")
        yield Footer()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "apply":
            return self.advice is not None and self.advice.can_resume
        return True

    def action_apply(self) -> None:
        if self.advice is None or not self.advice.can_resume:
            return
        try:
            preset_file = prepare_resume(self.run_dir, self.advice)
            preset = load_run_preset(preset_file)
        except (OSError, PresetError) as exc:
            self.notify(f"cannot apply the fix: {exc}", severity="error", timeout=10)
            return
        self.app.post_message(StartRun(preset, resume_in=self.run_dir))
        self.notify(f"resuming with {preset_file.name}")
        self.dismiss(preset_file)

    def action_close(self) -> None:
        self.dismiss(None)
