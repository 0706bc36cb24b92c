"""The training screen: one run, live or finished, read from its run directory alone.

Everything here comes from files (the event log, `estimate.json`) and the console's own
measurements (the step clock, resource samples), so the same screen follows a run this console
started, a run another console started (`emosum-tui watch`), or a finished run's history.
The step clock ticks on the console's timer, not on trainer reports, so a stalled step is
flagged while it is still running.
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import replace
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.timer import Timer

from emosum_tui.alerts.notifier import RunAlerts
from emosum_tui.core.estimate_record import read_estimate_kind, read_estimate_seconds
from emosum_tui.core.events import Done, Environment, EvalResult, Event, Phase, RunStart, StepBegin, StepEnd, TrainPlan
from emosum_tui.core.run_state_words import state_word
from emosum_tui.core.rundir import PRESET_FILE, RunStatus, pid_alive
from emosum_tui.doctor.live import LiveDiagnoser
from emosum_tui.i18n import N_, _
from emosum_tui.monitor.ended_status import EndedStatus
from emosum_tui.monitor.run_watcher import POLL_SECONDS, EventsRead, ResourcesRead, RunWatcher
from emosum_tui.monitor.step_clock import ClockReading, StallPolicy, StepClock
from emosum_tui.ui.collections_hold import CollectionsHold
from emosum_tui.ui.format import torch_build_text
from emosum_tui.ui.messages import LanguageChanged
from emosum_tui.ui.screens.trainer_keys import TrainerKeysScreen
from emosum_tui.ui.stall_threshold import policy_from_env, preset_stall_after
from emosum_tui.ui.widgets.diagnosis_panel import DiagnosisPanel
from emosum_tui.ui.widgets.events_pane import EventsPane
from emosum_tui.ui.widgets.footer import Footer
from emosum_tui.ui.widgets.loss_plot import LossPlot
from emosum_tui.ui.widgets.phase_header import PhaseHeader
from emosum_tui.ui.widgets.resource_pane import ResourcePane
from emosum_tui.ui.widgets.stall_banner import StallBanner
from emosum_tui.ui.widgets.step_panel import StepPanel
from emosum_tui.ui.widgets.step_time_plot import StepTimePlot

TICK_SECONDS = 0.2  # the alarm's resolution: a crossed threshold shows within this
FRAME_SECONDS = 1.0  # everything that moves with the run is drawn in one frame a second (see `tick`)
SLOW_FRAMES = 2  # the plots, the resources and the doctor's findings: every second frame, as nvitop
BUSY_CPU_PERCENT = 90.0  # a machine this busy gives the console's CPU only by taking it from someone
IDLE_CPU_PERCENT = 75.0  # ... and it counts as busy until it falls below this (a trainer's load swings)
BUSY_FRAME_SECONDS = 3.0  # ... so it draws a third as often (plots every 6 s, as `top`); alarms still show at once
BUSY_TICK_SECONDS = 0.5  # ... and reads the clock twice a second: an alarm shows within 0.5 s, still under the 1 s promised
BUSY_POLL_SECONDS = 0.5  # ... and reads the event log twice a second
ALIVE_SECONDS = 1.0  # how often the clock asks whether the trainer process still runs


class TrainingScreen(TrainerKeysScreen):
    """Follows one run directory. `process` is the trainer when this console launched it."""

    CSS_PATH = Path(__file__).with_name("training.tcss")
    BINDINGS = [  # noqa: RUF012
        Binding("escape", "back", N_("back")),
    ]

    def __init__(
        self,
        run_dir: Path,
        process: subprocess.Popen | None = None,
        *,
        sample_resources: bool = True,
        policy: StallPolicy | None = None,
    ) -> None:
        super().__init__()
        self.run_dir = Path(run_dir)
        self.process = process
        self.sample_resources = sample_resources
        policy = policy or policy_from_env()
        self.explicit_stall_after = policy.stall_after  # --stall-after / env: wins over the preset's
        self.preset_read = False  # preset.toml has been read (a run started elsewhere may not have it yet)
        self.clock = StepClock(policy, estimate_seconds=read_estimate_seconds(self.run_dir), estimate_kind=read_estimate_kind(self.run_dir))
        self._preset_threshold()
        self.pid: int | None = process.pid if process is not None else None
        self.started_t: float | None = None
        self.preset_name = ""
        self.environment = Environment()
        self.device = ""
        self.events_seen = 0
        self.reading: ClockReading | None = None
        self.ended_status = EndedStatus(self.run_dir)
        self.frame_drawn = float("-inf")  # time.monotonic() of the last frame
        self.frame_seconds = FRAME_SECONDS  # BUSY_FRAME_SECONDS while the machine's CPU is busy
        self.tick_timer: Timer | None = None
        self.watcher: RunWatcher | None = None
        self.frames = 0
        self.alive_read: tuple[float, bool | None] = (float("-inf"), None)  # (when, alive) for the clock
        self.phase_pending: tuple | None = None  # the header's phase and progress, drawn in the next frame
        self.resume_pending = False  # `u` asked the app for a trainer that has not started yet
        self.diagnoser = LiveDiagnoser(self.run_dir)
        self.alerts = RunAlerts.for_console(self.run_dir, bell=lambda: self.app.bell())  # bell, desktop, webhook
        self.diagnosis_due = True
        self.history_loaded = False  # after the first batch, events are news, not history
        self._advice_available = False  # whether the footer offers 'a' (see check_action)
        self.collections = CollectionsHold()  # the loaded history, out of Python's collections while shown

    def compose(self) -> ComposeResult:
        yield PhaseHeader(id="phase-header")
        yield StallBanner(id="stall-banner")
        with Horizontal(id="training-middle"):
            with Vertical(id="training-left"):
                yield StepPanel(id="step-panel")
                yield DiagnosisPanel(id="diagnosis-panel")
            with Vertical(id="plots"):
                yield LossPlot(id="loss-plot")
                yield StepTimePlot(id="step-time-plot")
        with Horizontal(id="training-bottom"):
            yield ResourcePane(id="resource-pane")
            yield EventsPane(id="events-pane")
        yield Footer()

    def on_mount(self) -> None:
        self._show_run()
        self.watcher = watcher = RunWatcher(self.run_dir, self, sample_seconds=1.0 if self.sample_resources else None)
        if not self.sample_resources:
            self.query_one(ResourcePane).show_off(N_("not sampled in this view"))  # the pane translates it
        self.run_worker(lambda: watcher.run(self._cancelled), thread=True, exit_on_error=False, name="run-watcher", group="watch")
        self.tick_timer = self.set_interval(TICK_SECONDS, self.tick)
        self.tick()

    def on_unmount(self) -> None:
        self.diagnoser.close()
        self.alerts.close(wait=1.0)
        self.collections.release()

    def on_language_changed(self, message: LanguageChanged) -> None:
        """Redraw the words this screen hands its widgets (each widget redraws its own)."""
        self._show_run()
        if self.clock.done is not None and self.phase_pending is None:
            self._show_done(self.clock.done)
        pane = self.query_one(ResourcePane)
        pane.note = self._busy_note()

    def _cancelled(self) -> bool:
        from textual.worker import get_current_worker

        return get_current_worker().is_cancelled

    # -- the clock -----------------------------------------------------------------------------

    def _preset_threshold(self, again: bool = False) -> None:
        """Use the run's `alarm.stall_after_seconds` as the "stalled" threshold, unless one was
        given explicitly. Read once the file exists, and again when the run (re)starts."""
        if self.explicit_stall_after is not None or (self.preset_read and not again):
            return
        self.preset_read = (self.run_dir / PRESET_FILE).is_file()
        self.clock.policy = replace(self.clock.policy, stall_after=preset_stall_after(self.run_dir))

    def alive(self) -> bool | None:
        """Is the trainer process running? None while we do not know its pid yet."""
        if self.process is not None and self.process.pid == self.pid:
            return self.process.poll() is None
        if self.pid:
            return pid_alive(self.pid, self.started_t)
        return None

    def tick(self) -> None:
        """The clock's reading. A change of state (slow, stalled, dead, finished…) and an alarm's
        running seconds show at once. Everything else that moves with the run is drawn together,
        one frame every `frame_seconds` (the plots, the resources and the doctor's findings every
        SLOW_FRAMES frames): each redraw at its own moment would be a frame of its own, and the
        console's CPU is the trainer's."""
        now = time.monotonic()
        alive = self._alive_lately(now)
        reading = self.clock.reading(time.time(), alive, self._status_when_gone(alive))
        self.reading = reading
        self.alerts.observe(reading, alive)
        banner = self.query_one(StallBanner)
        changed = reading.state != banner.state
        if now - self.frame_drawn >= self.frame_seconds or changed:
            self.frame_drawn = now
            self._draw_frame(reading, everything=changed)
        elif reading.alarm:
            banner.show(reading)

    def _alive_lately(self, now: float) -> bool | None:
        """`alive()` as read at most ALIVE_SECONDS ago: each answer reads the process table, and
        the clock asks more often than that; the dead alarm waits longer than ALIVE_SECONDS."""
        when, alive = self.alive_read
        if now - when >= ALIVE_SECONDS or alive is None:
            alive = self.alive()
            self.alive_read = (now, alive)
        return alive

    def _draw_frame(self, reading: ClockReading, everything: bool) -> None:
        self.query_one(StepPanel).show_reading(reading)
        self._draw_pending_phase()
        self.query_one(StallBanner).show(reading)
        self.query_one(EventsPane).flush()
        if everything or self.frames % SLOW_FRAMES == 0:
            self.query_one(LossPlot).redraw()
            self.query_one(StepTimePlot).redraw()
            self.query_one(ResourcePane).draw()
            self.diagnose(paced=not everything)
        self.frames += 1

    def _draw_pending_phase(self) -> None:
        if self.phase_pending is not None:
            self.query_one(PhaseHeader).show_phase(*self.phase_pending)
            self.phase_pending = None

    def _status_when_gone(self, alive: bool | None) -> RunStatus | None:
        return self.ended_status.when_gone(alive, self.clock.done is not None)

    def diagnose(self, paced: bool = True) -> None:
        """Run the doctor's live rules over what arrived since the last time (if anything did), when
        the doctor's pace allows (`LiveDiagnoser.due`) or the run's state just changed."""
        if self.diagnosis_due and (not paced or self.diagnoser.due()):
            self.diagnosis_due = False
            try:
                findings = self.diagnoser.update()
            except OSError:  # a read-only run dir: the findings cannot be logged, the diagnosis goes on unlogged
                self.diagnoser.run_dir = None
                findings = self.diagnoser.update()
            self.alerts.observe_findings(findings, self.clock.step)
            self.query_one(DiagnosisPanel).show(findings)

    # -- events --------------------------------------------------------------------------------

    @on(EventsRead)
    def events_read(self, message: EventsRead) -> None:
        loss_plot = self.query_one(LossPlot)
        step_plot = self.query_one(StepTimePlot)
        events_pane = self.query_one(EventsPane)
        phase: tuple | None = None  # the header is drawn in the next frame, not once per event
        self.diagnoser.add_events(message.events)
        self.diagnosis_due = True
        self._preset_threshold(again=any(isinstance(e, RunStart) for e in message.events))
        for event in message.events:
            self.events_seen += 1
            self.clock.feed(event)
            events_pane.add(event)
            if isinstance(event, StepEnd):
                loss_plot.add_train(event.step, event.loss)
                step_plot.add_step(event.step, event.step_seconds)
                phase = ("training", event.step, event.total_steps)
            elif isinstance(event, EvalResult):
                loss_plot.add_eval(event.step, event.metrics.get("eval_loss"))
            elif isinstance(event, StepBegin):
                phase = ("training", event.step - 1, self.clock.total_steps)
            elif isinstance(event, Phase):
                if event.name == "training":
                    phase = ("training", self.clock.step, self.clock.total_steps)
                else:
                    phase = (event.name, event.done, event.total, event.detail)
            elif isinstance(event, (RunStart, TrainPlan, Done)):
                if isinstance(event, Done):
                    phase = None
                self._run_facts(event)
        if phase is not None:
            self.phase_pending = phase
        failed_now = self.history_loaded and any(isinstance(e, Done) and e.reason == "failed" for e in message.events)
        if not self.history_loaded:
            self.collections.hold()
        self.history_loaded = True
        failed = self.clock.done is not None and self.clock.done.reason == "failed"
        if failed != self._advice_available:  # a footer rebuilt on every batch of events costs CPU the trainer needs
            self._advice_available = failed
            self.refresh_bindings()
        if failed_now:
            self.action_advice()  # a run that fails while watched ends on the advice screen
        self.tick()

    def _run_facts(self, event: Event) -> None:
        if isinstance(event, RunStart):
            self.pid = event.pid or self.pid
            self.started_t = event.t
            self.preset_name = event.preset
            self.environment = event.environment if event.environment.recorded else self.environment
        elif isinstance(event, TrainPlan):
            self.device = f"{event.device} {event.precision}".strip()
        elif isinstance(event, Done):
            self.phase_pending = None  # the last step's progress must not overwrite "done"
            self._show_done(event)
            return
        self._show_run()

    def _show_run(self) -> None:
        self.query_one(PhaseHeader).show_run(self.run_dir.name, self.preset_name, self.device, torch_build_text(self.environment))

    def _show_done(self, event: Done) -> None:
        header = self.query_one(PhaseHeader)
        if event.reason == "completed":
            final = _("final model: {path}").format(path=event.final_path) if event.final_path else state_word(event.reason)
            header.show_phase("done", detail=final)
        else:  # stopped or failed: the bar keeps saying how far it got
            header.show_phase("done", event.steps, self.clock.total_steps, state_word(event.reason))

    @on(ResourcesRead)
    def resources_read(self, message: ResourcesRead) -> None:
        """A sample also sets the console's pace: while the machine's CPU is busy (a trainer on
        every core), each cycle the console spends is one a training step waits for, so it draws
        every BUSY_FRAME_SECONDS and reads the clock and the log every BUSY_TICK_SECONDS and
        BUSY_POLL_SECONDS. A GPU run leaves cores idle and keeps the full pace. Busy begins at
        BUSY_CPU_PERCENT and ends below IDLE_CPU_PERCENT, so a load near one threshold does not
        flip the pace back and forth."""
        was_busy = self.frame_seconds == BUSY_FRAME_SECONDS
        busy = message.sample.cpu_percent >= (IDLE_CPU_PERCENT if was_busy else BUSY_CPU_PERCENT)
        pane = self.query_one(ResourcePane)
        flip = busy != was_busy
        first_or_flip = pane.samples == 0 or flip
        if flip:
            self._pace(busy)
        pane.note = self._busy_note()
        pane.show(message.sample, message.gpus)
        if first_or_flip:  # the first reading, and why the view slows down, are not left waiting 4 s
            pane.draw()
        self.diagnoser.add_sample(message.sample)
        self.diagnosis_due = True

    def _busy_note(self) -> str:
        """Why the view redraws less often, while it does (the resource pane shows it)."""
        if self.frame_seconds != BUSY_FRAME_SECONDS:
            return ""
        return _("CPU busy: redrawn every {seconds} s, to leave the CPU to the trainer").format(seconds=f"{BUSY_FRAME_SECONDS:.0f}")

    def _pace(self, busy: bool) -> None:
        self.frame_seconds = BUSY_FRAME_SECONDS if busy else FRAME_SECONDS
        if self.watcher is not None:
            self.watcher.poll_seconds = BUSY_POLL_SECONDS if busy else POLL_SECONDS  # read by its thread at its next poll
        if self.tick_timer is not None:
            self.tick_timer.stop()
        self.tick_timer = self.set_interval(BUSY_TICK_SECONDS if busy else TICK_SECONDS, self.tick)

    def action_back(self) -> None:
        """Back to whatever is underneath (the presets or runs screen); the run goes on by itself."""
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()
        else:
            self.app.exit()
