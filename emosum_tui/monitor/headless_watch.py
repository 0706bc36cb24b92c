"""`watch RUN --headless`: the training screen's step clock and live rules with no screen.

The same judgments as the console (the `StepClock` ticking on this process's own timer, the
trainer's pid for "dead", `status.json` when the log's last line is unreadable, the doctor's live
rules over events and resource samples), printed as one line per change of state in the
interface's language; with alerts, each alert also goes out (bell, desktop, webhook), so a user
with no console open still hears of a stall. It returns when the run ends: finished, stopped,
failed or dead.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from emosum_tui.alerts.notifier import RunAlerts
from emosum_tui.core.events import EVENTS_FILE, EventReader, RunStart
from emosum_tui.core.rundir import RunStatus, pid_alive
from emosum_tui.doctor.live import LiveDiagnoser, run_preset
from emosum_tui.i18n.phrase import shown
from emosum_tui.monitor.ended_status import EndedStatus
from emosum_tui.monitor.rank_watch import RankWatch
from emosum_tui.monitor.step_clock import DEAD, FAILED, FINISHED, STOPPED, ClockReading, StallPolicy, StepClock

if TYPE_CHECKING:  # psutil and NVML are imported when sampling starts
    from emosum_tui.monitor.resources import ResourceSampler

TICK_SECONDS = 0.2  # as the training screen: a crossed threshold is seen within this
ALIVE_SECONDS = 1.0  # how often the process table is read for the trainer's pid
SAMPLE_SECONDS = 1.0  # resource samples for the live rules
END_STATES = (FINISHED, STOPPED, FAILED, DEAD)
EXIT_CODES = {FINISHED: 0, STOPPED: 0, FAILED: 1, DEAD: 1}


class HeadlessWatch:
    """Follows one run directory until it ends; `step()` is one tick, `run()` ticks until the end."""

    def __init__(self, run_dir: Path, policy: StallPolicy, *, alerts: RunAlerts | None = None,
                 out: Callable[[str], None] = print, sample_resources: bool = True) -> None:
        from emosum_tui.core.estimate_record import read_estimate_seconds

        self.run_dir = Path(run_dir)
        self.clock = StepClock(policy, estimate_seconds=read_estimate_seconds(self.run_dir))
        self.reader = EventReader(self.run_dir / EVENTS_FILE)
        self.alerts = alerts
        self.out = out
        self.diagnoser = LiveDiagnoser(None, run_preset(self.run_dir))  # the console, when open, logs the findings
        self.sampler = self._sampler() if sample_resources else None
        self.pid: int | None = None
        self.started_t: float | None = None
        self.alive_read: tuple[float, bool | None] = (float("-inf"), None)
        self.ended_status = EndedStatus(self.run_dir)
        self.next_sample = float("-inf")
        self.state = ""
        self.fresh_events = False
        self.ranks = RankWatch(self.run_dir)

    def _sampler(self) -> ResourceSampler:
        from emosum_tui.monitor.resources import ResourceSampler

        return ResourceSampler(self.run_dir)

    def run(self, tick_seconds: float = TICK_SECONDS) -> str:
        """Tick until the run ends; returns its end state."""
        try:
            while True:
                reading = self.step()
                if reading.state in END_STATES:
                    return reading.state
                time.sleep(tick_seconds)
        finally:
            self.close()

    def step(self) -> ClockReading:
        now = time.monotonic()
        self._read_events()
        self._sample(now)
        alive = self._alive(now)
        reading = self.clock.reading(time.time(), alive, self._status_when_gone(alive))
        if self.fresh_events and (self.diagnoser.due() or reading.state in END_STATES):
            self.fresh_events = False
            findings = self.diagnoser.update()
            if self.alerts is not None:
                self.alerts.observe_findings(findings, reading.step)
        if reading.state != self.state:
            self.state = reading.state
            self.out(f"{time.strftime('%H:%M:%S')} {shown(reading.message)}")
        for silent in self.ranks.news():
            self.out(f"{time.strftime('%H:%M:%S')} {shown(silent.text)}")
        if self.alerts is not None:
            self.alerts.observe(reading, alive)
        return reading

    def _read_events(self) -> None:
        events = self.reader.poll()
        if not events:
            return
        self.fresh_events = True
        self.diagnoser.add_events(events)
        for event in events:
            self.clock.feed(event)
            if isinstance(event, RunStart) and event.pid:
                self.pid, self.started_t = event.pid, event.t
                self.alive_read = (float("-inf"), None)
                if self.sampler is not None:
                    self.sampler.set_pid(event.pid)

    def _sample(self, now: float) -> None:
        if self.sampler is None or now < self.next_sample:
            return
        self.next_sample = now + SAMPLE_SECONDS
        self.diagnoser.add_sample(self.sampler.sample())
        self.fresh_events = True

    def _alive(self, now: float) -> bool | None:
        when, alive = self.alive_read
        if now - when >= ALIVE_SECONDS or alive is None:
            alive = pid_alive(self.pid, self.started_t) if self.pid else None
            self.alive_read = (now, alive)
        return alive

    def _status_when_gone(self, alive: bool | None) -> RunStatus | None:
        return self.ended_status.when_gone(alive, self.clock.done is not None)

    def close(self) -> None:
        if self.sampler is not None:
            self.sampler.close()
            self.sampler = None
        if self.alerts is not None:
            self.alerts.close()
