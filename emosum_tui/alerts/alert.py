"""Which states of a run are worth an alert, and the one alert each new state makes.

An alert is news: a state entered while this watcher watched, not a fact of the run's history.
A finished run opened days later must not ring, so end states (finished, failed, dead) alert
only once the trainer process has been seen alive; a state alerts again only after it was left.
What a person reads (`title`, `text`: the notification, the webhook's message) is drawn in the
interface's language when sent; `kind` and `message` stay English for `alerts.log` and the
webhook's other fields.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from emosum_tui.doctor.findings import Finding
from emosum_tui.i18n import N_, pgettext
from emosum_tui.i18n import gettext as _
from emosum_tui.i18n.phrase import Phrase, phrase, shown
from emosum_tui.monitor.step_clock import DEAD, FAILED, FINISHED, FROZEN, STALLED, ClockReading

NAN = "nan"
STATE_ALERTS = (STALLED, FROZEN, DEAD, FAILED, FINISHED)  # step clock states that alert
ALERT_KINDS = (*STATE_ALERTS, NAN)
QUIET_KINDS = (FINISHED, NAN)  # alerts that are not the step clock's alarms (the console's banner rings for those)
NAN_FINDING = "loss-nan"  # the live rule whose finding is the NaN alert
MESSAGE_LIMIT = 1900  # Discord refuses content over 2,000 characters


@dataclass(frozen=True)
class Alert:
    """One thing the user should hear about: what happened to which run, in one line."""

    kind: str  # one of ALERT_KINDS
    run: str  # the run directory's name
    step: int
    message: str  # English: what alerts.log keeps
    t: float = field(default_factory=time.time)
    words: Phrase | None = field(default=None, compare=False)  # the message for a person (None: `message` itself)

    @property
    def state(self) -> str:
        """The kind in the interface's language."""
        words = {
            STALLED: pgettext("alert", "stalled"), FROZEN: pgettext("alert", "frozen"), DEAD: pgettext("alert", "dead"),
            FAILED: pgettext("alert", "failed"), FINISHED: pgettext("alert", "finished"), NAN: pgettext("alert", "nan"),
        }
        return words.get(self.kind, self.kind)

    @property
    def shown_message(self) -> str:
        return self.words.shown() if self.words is not None else shown(self.message)

    @property
    def title(self) -> str:
        return _("emosum-tui: {run} {state}").format(run=self.run, state=self.state)

    @property
    def text(self) -> str:
        return _("[emosum-tui] {run}: {message}").format(run=self.run, message=self.shown_message)[:MESSAGE_LIMIT]

    def webhook_body(self) -> dict[str, str | int | float]:
        """The JSON a webhook receives: Slack reads `text`, Discord `content`, ntfy shows the body;
        the other keys are for a receiver of one's own."""
        return {"text": self.text, "content": self.text, "kind": self.kind, "run": self.run, "step": self.step, "t": self.t}


class AlertTracker:
    """Feed it every clock reading (and the live rules' findings); it returns the alerts now due."""

    def __init__(self, run_name: str) -> None:
        self.run_name = run_name
        self.seen_alive = False
        self.last_state: str | None = None
        self.nan_alerted = False

    def observe(self, reading: ClockReading, alive: bool | None) -> list[Alert]:
        """An alert when the clock enters a state of STATE_ALERTS while the run is watched live."""
        self.seen_alive = self.seen_alive or alive is True
        entered = reading.state != self.last_state
        self.last_state = reading.state
        if not (entered and self.seen_alive and reading.state in STATE_ALERTS):
            return []
        return [Alert(reading.state, self.run_name, reading.step, reading.message)]

    def observe_findings(self, findings: Sequence[Finding], step: int = 0) -> list[Alert]:
        """One NaN alert per watch, when the live rules first find a non-finite loss."""
        nan = next((f for f in findings if f.code == NAN_FINDING), None)
        if nan is None or self.nan_alerted or not self.seen_alive:
            return []
        self.nan_alerted = True
        words = Phrase(N_("{title}: {evidence}"), title=phrase(nan.title_words), evidence=phrase(nan.evidence_words))
        return [Alert(NAN, self.run_name, step, str(words), words=words)]
