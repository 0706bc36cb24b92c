"""Where a run's alerts go: the bell, the desktop, the webhook, and a line in `<run_dir>/alerts.log`.

`alert_settings` reads the run's `[alerts]` table (the preset as run) and `EMOSUM_WEBHOOK`, which
wins: a machine's own hook needs no preset edit. `RunAlerts` is what a watcher holds: the tracker
that decides and the notifier that sends, fed one clock reading at a time. `alerts.log` is
English; the same line echoed to a terminal reads in the interface's language.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

from emosum_tui.alerts.alert import ALERT_KINDS, QUIET_KINDS, Alert, AlertTracker
from emosum_tui.alerts.desktop import notify_desktop
from emosum_tui.alerts.webhook import RetryPolicy, WebhookSender
from emosum_tui.core.rundir import PRESET_FILE
from emosum_tui.doctor.findings import Finding
from emosum_tui.i18n import gettext as _
from emosum_tui.monitor.step_clock import ClockReading

WEBHOOK_ENV = "EMOSUM_WEBHOOK"
ALERTS_LOG = "alerts.log"


@dataclass(frozen=True)
class AlertSettings:
    """The channels a run's alerts use besides the bell."""

    webhook: str = ""  # "" = none
    desktop: bool = True


def alert_settings(run_dir: Path | None) -> AlertSettings:
    """The `[alerts]` table of `<run_dir>/preset.toml` (defaults when it is missing or unreadable),
    with `EMOSUM_WEBHOOK` in place of its webhook when that is set."""
    table: dict = {}
    if run_dir is not None:
        try:
            import tomllib
        except ImportError:  # Python 3.10
            import tomli as tomllib
        try:
            with (Path(run_dir) / PRESET_FILE).open("rb") as handle:
                found = tomllib.load(handle).get("alerts", {})
            table = found if isinstance(found, dict) else {}
        except (OSError, ValueError):
            table = {}
    webhook = os.environ.get(WEBHOOK_ENV, "").strip() or str(table.get("webhook", "") or "").strip()
    desktop = table.get("desktop", True)
    return AlertSettings(webhook=webhook, desktop=desktop if isinstance(desktop, bool) else True)


class Notifier:
    """Sends each alert down every channel; a channel that fails is logged, the others still go.
    `bell_kinds`: the alerts that ring the bell (the console's banner rings for the clock's alarms itself)."""

    def __init__(self, run_dir: Path | None, settings: AlertSettings, *, bell: Callable[[], None] | None = None,
                 bell_kinds: Collection[str] = ALERT_KINDS, echo: Callable[[str], None] | None = None,
                 retry: RetryPolicy | None = None) -> None:
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.settings = settings
        self.bell = bell
        self.bell_kinds = frozenset(bell_kinds)
        self.echo = echo
        self.webhook = WebhookSender(settings.webhook, self.log, retry) if settings.webhook else None

    def log(self, line: str, shown: str | None = None) -> None:
        """One line in `<run_dir>/alerts.log` (best effort: a read-only run dir drops it) and to `echo`
        (`shown` there, when given: the line in the interface's language)."""
        stamp = time.strftime('%Y-%m-%d %H:%M:%S')
        stamped = f"{stamp} {line}"
        if self.echo is not None:
            self.echo(stamped if shown is None else f"{stamp} {shown}")
        if self.run_dir is None:
            return
        try:
            with (self.run_dir / ALERTS_LOG).open("a", encoding="utf-8") as handle:
                handle.write(stamped + "\n")
        except OSError:
            pass

    def send(self, alert: Alert) -> None:
        self.log(f"alert {alert.kind}: {alert.message}",
                 _("alert {state}: {message}").format(state=alert.state, message=alert.shown_message))
        if self.bell is not None and alert.kind in self.bell_kinds:
            with contextlib.suppress(OSError):  # a closed terminal cannot ring
                self.bell()
        if self.settings.desktop:
            why_not = notify_desktop(alert.title, alert.text)
            if why_not:
                self.log(f"desktop notification skipped: {why_not}")
        if self.webhook is not None:
            self.webhook.send(alert)

    def close(self, wait: float = 5.0) -> None:
        if self.webhook is not None:
            self.webhook.close(wait)


class RunAlerts:
    """A watched run's alerts: feed every clock reading and the live rules' findings; alerts go out at once."""

    def __init__(self, run_dir: Path, notifier: Notifier) -> None:
        self.tracker = AlertTracker(Path(run_dir).name)
        self.notifier = notifier
        self.sent: list[Alert] = []

    @classmethod
    def for_run(cls, run_dir: Path, *, bell: Callable[[], None] | None = None, bell_kinds: Collection[str] = ALERT_KINDS,
                echo: Callable[[str], None] | None = None, retry: RetryPolicy | None = None) -> RunAlerts:
        return cls(run_dir, Notifier(run_dir, alert_settings(run_dir), bell=bell, bell_kinds=bell_kinds, echo=echo, retry=retry))

    @classmethod
    def for_console(cls, run_dir: Path, bell: Callable[[], None]) -> RunAlerts:
        """The training screen's: its banner already rings for the clock's alarms, so the bell here is for the rest."""
        return cls.for_run(run_dir, bell=bell, bell_kinds=QUIET_KINDS)

    def observe(self, reading: ClockReading, alive: bool | None) -> None:
        self._send(self.tracker.observe(reading, alive))

    def observe_findings(self, findings: Sequence[Finding], step: int = 0) -> None:
        self._send(self.tracker.observe_findings(findings, step))

    def _send(self, alerts: list[Alert]) -> None:
        for alert in alerts:
            self.sent.append(alert)
            self.notifier.send(alert)

    def close(self, wait: float = 5.0) -> None:
        self.notifier.close(wait)
