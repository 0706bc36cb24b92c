"""Messages that cross from a screen to the app: the one way to start (or resume) a run.

Kept apart from `app.py` so a screen can post them without importing the app.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from textual.message import Message

from emosum_tui.core.presets import Preset

if TYPE_CHECKING:
    from emosum_tui.core.cost_model import Estimate


@dataclass
class StartRun(Message):
    """Train `preset` in a trainer process of its own; `EmosumApp.on_start_run` handles it.

    A new run gets a run directory and keeps `estimate` there (the figures the user saw; None:
    the cost model's). `resume_in` resumes that run directory from its last checkpoint instead,
    with `preset` (the run's own copy, or a fix derived from it) and the estimate it has.
    Post it to the app (`self.app.post_message`): a message a screen posts to itself does not
    reach the app when the app is what is running the screen's code at that moment."""

    preset: Preset
    estimate: Estimate | None = None
    resume_in: Path | None = None


@dataclass
class LanguageChanged(Message):
    """The app switched the interface to `language`; posted to every screen and widget on the
    stack (it does not bubble). A handler redraws the text it set itself (`Static.update`,
    titles, table headers); what a widget's `render` draws follows on the next refresh."""

    bubble = False
    language: str
