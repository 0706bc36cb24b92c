"""A webhook that is down must cost nothing: alerts are POSTed from a thread of their own,
retried with growing pauses, and every failure is logged; nothing here raises to the caller.

The body is JSON (`Alert.webhook_body`). The URL is logged by its host alone: a Slack or Discord
webhook URL is a secret.
"""

from __future__ import annotations

import json
import queue
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

from emosum_tui.alerts.alert import Alert


@dataclass(frozen=True)
class RetryPolicy:
    """How hard one alert is pushed: `attempts` tries, pausing `first_pause` then `factor` times longer each time."""

    attempts: int = 6
    first_pause: float = 1.0  # seconds; with factor 2: 1, 2, 4, 8, 16 (31 s in all)
    factor: float = 2.0
    timeout: float = 10.0  # seconds one POST may take

    def pauses(self) -> list[float]:
        return [self.first_pause * self.factor**i for i in range(max(0, self.attempts - 1))]


def host_of(url: str) -> str:
    """The part of a webhook URL that may be shown: scheme and host, never the path's token."""
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or '?'}" + (f":{parts.port}" if parts.port else "")


def post_json(url: str, body: dict, timeout: float) -> None:
    """One POST; raises OSError (URLError, HTTPError, timeout) when it is not answered 2xx."""
    request = urllib.request.Request(
        url, data=json.dumps(body, ensure_ascii=False).encode("utf-8"), method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "emosum-tui"},
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        response.read()


class WebhookSender:
    """Sends alerts to one URL in order, on a daemon thread; `log` receives one line per failure and delivery."""

    def __init__(self, url: str, log: Callable[[str], None], policy: RetryPolicy | None = None) -> None:
        self.url = url
        self.log = log
        self.policy = policy or RetryPolicy()
        self._queue: queue.Queue[Alert | None] = queue.Queue()
        self._closing = threading.Event()
        self.delivered = 0
        self.given_up = 0
        self._thread = threading.Thread(target=self._run, name="webhook-sender", daemon=True)
        self._thread.start()

    def send(self, alert: Alert) -> None:
        self._queue.put(alert)

    def close(self, wait: float = 5.0) -> None:
        """Send what is queued for at most `wait` seconds more, then stop retrying."""
        self._queue.put(None)
        self._thread.join(wait)
        self._closing.set()
        self._thread.join(1.0)

    def _run(self) -> None:
        while True:
            alert = self._queue.get()
            if alert is None:
                return
            self._deliver(alert)

    def _deliver(self, alert: Alert) -> None:
        where = host_of(self.url)
        pauses = self.policy.pauses()
        for attempt in range(1, self.policy.attempts + 1):
            try:
                post_json(self.url, alert.webhook_body(), self.policy.timeout)
            except (OSError, ValueError) as exc:  # URLError, HTTPError, timeouts, a malformed URL
                why = getattr(exc, "reason", None) or exc
                if attempt > len(pauses) or self._closing.is_set():
                    self.given_up += 1
                    self.log(f"webhook {where}: '{alert.kind}' alert not delivered after {attempt} attempts: {why}")
                    return
                pause = pauses[attempt - 1]
                self.log(f"webhook {where}: '{alert.kind}' alert attempt {attempt}/{self.policy.attempts} failed: {why}; "
                         f"retrying in {pause:g} s")
                if self._closing.wait(pause):
                    self.given_up += 1
                    self.log(f"webhook {where}: '{alert.kind}' alert dropped: the watcher is closing")
                    return
                continue
            self.delivered += 1
            self.log(f"webhook {where}: '{alert.kind}' alert delivered (attempt {attempt})")
            return
