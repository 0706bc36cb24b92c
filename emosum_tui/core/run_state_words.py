"""How a run's state reads to a person: its word in the interface's language.

The state (`running`, `finished`, ... and a `done` event's reason, `completed`) is data, English
in the run directory and in `--json`; only the word a person reads is translated, the same word
on the runs screen, the training screen, the events pane and in a model-folder message.
"""

from __future__ import annotations

from emosum_tui.i18n import pgettext


def state_word(state: str) -> str:
    """A run's state (or a `done` reason), as the data says it, in the interface's language."""
    words = {
        "running": pgettext("run status", "running"),
        "starting": pgettext("run status", "starting"),
        "finished": pgettext("run status", "finished"),
        "completed": pgettext("run status", "completed"),
        "stopped": pgettext("run status", "stopped"),
        "failed": pgettext("run status", "failed"),
        "dead": pgettext("run status", "dead"),
        "unknown": pgettext("run status", "unknown"),
    }
    return words.get(state, state)
