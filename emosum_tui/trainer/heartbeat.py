"""A heartbeat from a thread: alive even inside a step that takes minutes.

The console's clock decides "slow step" versus "hung process": while the main thread is deep in
a forward pass, this thread still writes a `Heartbeat` event (and refreshes `status.json`) every
few seconds. If the whole process freezes or dies, the beats stop.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from emosum_tui.core.events import EventWriter, Heartbeat

HEARTBEAT_SECONDS = 2.0  # well inside the console's frozen threshold, so a live process never looks frozen
JOIN_SECONDS = 5.0  # how long closing waits for the thread's last beat


class HeartbeatThread:
    """Writes a `Heartbeat` every `every` seconds (and calls `also`) until stopped."""

    def __init__(self, writer: EventWriter, where: Callable[[], tuple[int, str]], every: float = HEARTBEAT_SECONDS,
                 also: Callable[[], None] | None = None) -> None:
        self.writer = writer
        self.where = where  # () -> (step, phase), read from the training thread's state
        self.every = every
        self.also = also
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="emosum-heartbeat", daemon=True)

    def start(self) -> HeartbeatThread:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            step, phase = self.where()
            try:
                self.writer.write(Heartbeat(step=step, phase=phase))
                if self.also is not None:
                    self.also()
            except OSError:
                pass  # a full disk must not kill the heartbeat thread; the main thread will report it

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=JOIN_SECONDS)
