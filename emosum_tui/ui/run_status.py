"""How a run's status reads on a screen: its word in the interface's language, and its colour.

The status (`running`, `finished`, ...) and a `done` event's reason are data, English in the
run directory and in `--json`; only the word a person reads is translated.
"""

from __future__ import annotations

from emosum_tui.i18n import pgettext

STATUS_STYLE = {
    "running": "bold green",
    "starting": "green",
    "finished": "bold",
    "stopped": "yellow",
    "failed": "bold red",
    "dead": "bold red",
}


def status_word(status: str) -> str:
    """A run's status (or a `done` reason), as the data says it, in the interface's language."""
    words = {
        "running": pgettext("run status", "running"),
        "starting": pgettext("run status", "starting"),
        "finished": pgettext("run status", "finished"),
        "completed": pgettext("run status", "completed"),
        "stopped": pgettext("run status", "stopped"),
        "failed": pgettext("run status", "failed"),
        "dead": pgettext("run status", "dead"),
    }
    return words.get(status, status)
