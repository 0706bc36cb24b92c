"""Tails a run directory for the console: events as they are appended, resources once a second.

The watcher never touches widgets: it runs in a thread worker and posts Messages to the screen
that owns it (the shape of Textualize/toolong's watcher). Event batches must all arrive (every
loss point is plotted), so `EventsRead` is never collapsed; `ResourcesRead` is a gauge and may
replace an older one still in the queue.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from textual.message import Message
from textual.message_pump import MessagePump

from emosum_tui.core.events import EVENTS_FILE, Event, EventReader, RunStart, Warn
from emosum_tui.monitor.gpu_mapping import GpuSelection
from emosum_tui.monitor.rank_watch import RankWatch

if TYPE_CHECKING:  # psutil is imported when sampling starts, not with the console
    from emosum_tui.monitor.resources import ResourceSample, ResourceSampler


@dataclass
class EventsRead(Message):
    """New complete events from the log, in order. Never replaced: loss points must all arrive."""

    events: list[Event]


@dataclass
class ResourcesRead(Message):
    """A resource sample and the run's GPUs among its readings; a newer one supersedes one not yet handled."""

    sample: ResourceSample
    gpus: GpuSelection = field(default_factory=GpuSelection)

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ResourcesRead)


POLL_SECONDS = 0.25  # a step's end shows within a frame or two, at most four messages a second
SAMPLE_SECONDS = 1.0  # resources are a gauge: once a second is enough to read a trend


class RunWatcher:
    """Polls one run's event log (and optionally samples resources) until cancelled.

    `run(is_cancelled)` is the body of a thread worker; `target.post_message` is thread-safe.
    It polls every `poll_seconds` (the screen lengthens it while the machine's CPU is busy; the
    thread reads it at each poll): each batch is a message the console handles, so a poll per
    step would cost a message per step. The alarm does not wait for it (the clock judges the
    silence since the last event), and a step's end shows within the next frame.
    """

    def __init__(
        self,
        run_dir: Path,
        target: MessagePump,
        poll_seconds: float = POLL_SECONDS,
        sample_seconds: float | None = SAMPLE_SECONDS,
        disk_path: Path | None = None,
    ) -> None:
        self.run_dir = run_dir
        self.target = target
        self.poll_seconds = poll_seconds
        self.sample_seconds = sample_seconds
        self.disk_path = disk_path or run_dir
        self.reader = EventReader(run_dir / EVENTS_FILE)
        self.pid: int | None = None
        self.gpus = GpuSelection()  # the run's GPUs, from its last start's environment
        self.ranks = RankWatch(run_dir)  # a multi-process run: which rank went silent

    def run(self, is_cancelled: Callable[[], bool]) -> None:
        sampler = self._sampler() if self.sample_seconds else None
        next_sample = 0.0
        try:
            while not is_cancelled():
                events = self.reader.poll()
                if events:
                    for event in events:
                        if isinstance(event, RunStart) and event.environment.recorded:
                            self.gpus = GpuSelection.from_environment(event.environment)
                        if isinstance(event, RunStart) and event.pid:
                            self.pid = event.pid
                            if sampler is not None:
                                sampler.set_pid(event.pid)
                                sampler.disk_path = Path(event.output_dir or self.disk_path)
                    self.target.post_message(EventsRead(events))
                silent = self.ranks.news()
                if silent:  # the console's own observation, shown with the run's events (not written to its log)
                    self.target.post_message(EventsRead([Warn(code="rank-silent", message=s.text) for s in silent]))
                now = time.monotonic()
                if sampler is not None and now >= next_sample:
                    next_sample = now + (self.sample_seconds or SAMPLE_SECONDS)
                    self.target.post_message(ResourcesRead(sampler.sample(), self.gpus))
                time.sleep(self.poll_seconds)
        finally:
            if sampler is not None:
                sampler.close()

    def _sampler(self) -> ResourceSampler:
        from emosum_tui.monitor.resources import ResourceSampler

        return ResourceSampler(self.disk_path, self.pid)
