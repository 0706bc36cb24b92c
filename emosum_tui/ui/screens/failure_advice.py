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
from textual.widgets import Static

from emosum_tui.core.presets import PresetError
from emosum_tui.core.rundir import load_run_preset
from emosum_tui.doctor.advice import FailureAdvice, advise, prepare_resume
from emosum_tui.i18n import N_, _
from emosum_tui.ui.messages import LanguageChanged, StartRun
from emosum_tui.ui.widgets.footer import Footer


def part(heading: str, body: str) -> str:
    """One part of the advice as markup: a bold heading over its text."""
    return f"[b]{heading}[/b]\n{body}"


class FailureAdviceScreen(Screen[Path | None]):
    """Advice for a failed run; `a` applies the fix and resumes when that is safe (the screen
    then closes with the preset file resumed with; None when closed without)."""

    CSS_PATH = Path(__file__).with_name("failure_advice.tcss")

    BINDINGS = [  # noqa: RUF012
        Binding("a", "apply", N_("apply and resume")),
        Binding("escape,q", "close", N_("close")),
    ]

    def __init__(self, run_dir: Path, advice: FailureAdvice | None = None) -> None:
        super().__init__()
        self.run_dir = Path(run_dir)
        self.advice_given = advice is not None
        self.advice = advice if advice is not None else advise(self.run_dir)

    def compose(self) -> ComposeResult:
        with Vertical(id="advice"):
            yield from self.parts()
        yield Footer()

    def parts(self) -> ComposeResult:
        """The advice as Statics: what happened, the smallest fix, other options, what `a` does."""
        advice = self.advice
        run = escape(self.run_dir.name)
        if advice is None:
            yield Static(_("{run} has not failed: nothing to advise.").format(run=run), id="advice-title")
            return
        yield Static(_("{run} failed: {title}").format(run=run, title=escape(advice.title)), id="advice-title")
        yield Static(part(_("What happened"), escape(advice.happened)), classes="advice-part", id="advice-happened")
        yield Static(part(_("Smallest fix"), escape(advice.fix)), classes="advice-part", id="advice-fix")
        if advice.trainer_advice:
            more = "\n".join(f"• {escape(line)}" for line in advice.trainer_advice)
            yield Static(part(_("Other options"), more), classes="advice-part", id="advice-more")
        if advice.can_resume:
            changes = ", ".join(f"{k} = {v!r}" for k, v in advice.changes.items()) or _("no change")
            yield Static(_("Press [b]a[/b] to apply ({changes}) and resume from {checkpoint}.").format(
                changes=escape(changes), checkpoint=escape(advice.checkpoint.name if advice.checkpoint else "?")), id="advice-action")
        else:
            why = _("no checkpoint to resume from") if advice.checkpoint is None else _("this fix needs a new run")
            yield Static("[dim]" + _("No one-key resume: {why}.").format(why=why) + "[/dim]", id="advice-action")

    async def on_language_changed(self, message: LanguageChanged) -> None:
        """Everything here is words: the advice (worded when it is read) read again, and its parts drawn again."""
        if not self.advice_given:
            self.advice = advise(self.run_dir)
        box = self.query_one("#advice", Vertical)
        await box.remove_children()
        await box.mount_all(list(self.parts()))

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
            self.notify(_("cannot apply the fix: {error}").format(error=exc), severity="error", timeout=10)
            return
        self.app.post_message(StartRun(preset, resume_in=self.run_dir))
        self.notify(_("resuming with {file}").format(file=preset_file.name))
        self.dismiss(preset_file)

    def action_close(self) -> None:
        self.dismiss(None)
