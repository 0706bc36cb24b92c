"""The one screen a failed run ends on: what happened, the smallest fix, and "apply and resume".

An out-of-memory run offers `a`: write `<run_dir>/preset-halfbatch.toml` (batch / 2,
grad-accum x 2, same effective batch) and resume from the last checkpoint. The screen
dismisses with a `Resumed` (the new trainer process) so the caller can show it training,
or with None. Torch-free.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Static

from emosum_tui.doctor.advice import FailureAdvice, advise, apply_and_resume


@dataclass(frozen=True)
class Resumed:
    """What "apply and resume" started: the derived preset and the new trainer process."""

    run_dir: Path
    preset_path: Path
    process: subprocess.Popen


class FailureAdviceScreen(Screen["Resumed | None"]):
    """Advice for a failed run; `a` applies the fix and resumes when that is safe."""

    DEFAULT_CSS = """
    FailureAdviceScreen #advice { padding: 1 2; }
    FailureAdviceScreen #advice-title { text-style: bold; color: $error; margin-bottom: 1; }
    FailureAdviceScreen .advice-part { margin-bottom: 1; }
    FailureAdviceScreen #advice-action { color: $success; }
    """

    BINDINGS = [  # noqa: RUF012
        Binding("a", "apply", "apply and resume"),
        Binding("escape,q", "close", "close"),
    ]

    def __init__(self, run_dir: Path, advice: FailureAdvice | None = None, env: dict[str, str] | None = None) -> None:
        super().__init__()
        self.run_dir = Path(run_dir)
        self.advice = advice if advice is not None else advise(self.run_dir)
        self.env = env  # extra environment for the resumed trainer (tests)

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
        preset_path, process = apply_and_resume(self.run_dir, self.advice, env=self.env)
        launched = getattr(self.app, "launched", None)
        if isinstance(launched, list):
            launched.append((self.run_dir, process))  # EmosumApp asks about live runs on quit
        self.notify(f"resuming with {preset_path.name} (pid {process.pid})")
        self.dismiss(Resumed(self.run_dir, preset_path, process))

    def action_close(self) -> None:
        self.dismiss(None)
