"""The stall alarm: how long the running step has taken, against what it should take.

Pure logic, no Textual and no I/O: feed it the run's events (`feed`) and ask it for a reading at
a time of your choosing (`reading(now, alive)`). The console calls `reading` from its own timer
several times a second, so a step that runs far past its expectation is flagged *while it is
still running* — the trainer never has to report that it is slow (a frozen trainer could not).

How the expectation is chosen (in this order):
- the median of the steps measured since the last (re)start, once `min_measured_steps` of them
  are in (the first step after every start is skipped: it pays for warm-up and allocation);
- before that, the run's estimate (`estimate.json`, `seconds_per_step`) when there is one, named
  by what it rests on: "calibrated", "prior" (the cost model's arithmetic) or "given";
- else the median of whatever steps were measured (one is enough).

The thresholds (all in `StallPolicy`, all explicit):
- a steady step is *slow* past `slow_factor` x expected (2x) and *stalled* past
  `stalled_factor` x expected (5x), but never before `min_slow_seconds` / `min_stalled_seconds`
  (tiny models run 0.1 s steps; a GC pause must not raise the alarm). 2x is past the normal
  jitter of a step (eval-free steps vary by some tens of per cent); 5x is a step that is not
  going to come back to normal by itself (swap, VRAM spill to host memory, a CPU fallback).
  An explicit threshold (`stall_after`, from the preset or the command line) replaces the 5x.
- the first step of every (re)start: stalled past max(`first_step_seconds`, `first_step_factor`
  x estimate), slow past half of it — it compiles kernels, allocates, warms caches;
- evaluating / saving / compiling: stalled past max(`eval_seconds`, `phase_factor` x the last
  such phase's duration), likewise `save_seconds` and `compile_seconds`; slow past half of it;
- a step is timed from the previous step's end (the wait for the loader is part of it, as it is
  of the trainer's s/step), with evaluation, checkpoint and compilation time taken out;
- *frozen*: no event at all (heartbeats included) for `frozen_seconds` while the process lives;
- *dead*: the process is gone (for `dead_grace_seconds`, long enough to read its last events)
  with no `done` event, and the trainer's status file (passed in by the caller) does not say
  that the run ended;
- *finished* / *stopped* / *failed*: the `done` event's reason; or, when the process is gone and
  no `done` was read (a crash or a bad disk left its line corrupt), the status file's word, which
  the trainer writes after `done` and replaces whole. The message then says that the log's last
  line could not be read, so figures it held (the final loss, the final model) may be missing.
"""

from __future__ import annotations

import statistics
from collections import deque
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from emosum_tui.core.events import CheckpointSaved, Done, EvalResult, Event, Phase, RunStart, StepBegin, StepEnd, TrainPlan
from emosum_tui.i18n import N_
from emosum_tui.i18n.phrase import Translatable
from emosum_tui.monitor.clock_words import estimate_basis, phase_words

if TYPE_CHECKING:
    from emosum_tui.core.rundir import RunStatus

STARTING = "starting"
RUNNING = "running"
SLOW = "slow"
STALLED = "stalled"
FROZEN = "frozen"
DEAD = "dead"
FINISHED = "finished"
STOPPED = "stopped"
FAILED = "failed"
STATES = (STARTING, RUNNING, SLOW, STALLED, FROZEN, DEAD, FINISHED, STOPPED, FAILED)
ALARMS = (SLOW, STALLED, FROZEN, DEAD, FAILED)
_DONE_STATES = {"completed": FINISHED, "stopped": STOPPED, "failed": FAILED}
_STATUS_END_STATES = {"finished": FINISHED, "stopped": STOPPED, "failed": FAILED}  # RunStatus.state of an ended run
_TIMED_PHASES = ("evaluating", "saving", "compiling")  # phases with a budget of their own
_ACTIVE_PHASES = ("training", *_TIMED_PHASES)
SLOW_SHARE_OF_BUDGET = 0.5  # a first step or an eval/save phase is slow at half its stalled budget


@dataclass(frozen=True)
class StallPolicy:
    """The alarm's thresholds, in seconds or multiples of the expected step time (the module
    docstring says why each is where it is)."""

    # A steady step: slow and stalled as multiples of the expected step, with floors.
    slow_factor: float = 2.0
    stalled_factor: float = 5.0
    min_slow_seconds: float = 2.0
    min_stalled_seconds: float = 5.0
    stall_after: float | None = None  # an explicit "stalled" threshold for steady steps
    # The first step of every (re)start, and the eval and save phases: budgets of their own.
    first_step_seconds: float = 30.0
    first_step_factor: float = 10.0
    eval_seconds: float = 120.0
    save_seconds: float = 60.0
    compile_seconds: float = 900.0  # torch.compile of mt5-base's forward and backward takes minutes
    phase_factor: float = 3.0
    # Silence and a gone process.
    frozen_seconds: float = 15.0
    dead_grace_seconds: float = 1.0
    # The expectation: a median of this many measured steps before it replaces the estimate.
    min_measured_steps: int = 3
    window: int = 50  # the rolling median looks at this many recent steps


@dataclass(frozen=True)
class ClockReading:
    """Everything the step panel and the alarm banner show, at one instant."""

    state: str
    phase: str
    step: int  # the running step, else the last finished one
    total_steps: int
    step_running: bool
    running_seconds: float | None  # how long the running step (or eval/save phase) has run
    expected_seconds: float | None
    expected_basis: str  # English (a Translatable: `shown()` where drawn)
    slow_after: float | None
    stalled_after: float | None
    last_seconds: float | None
    median_seconds: float | None
    measured_steps: int
    samples_per_second: float | None
    tokens_per_second: float | None
    elapsed_seconds: float | None
    eta_seconds: float | None
    estimate_seconds: float | None  # the run's estimated s/step, when known
    silent_seconds: float | None  # since the last event of any kind
    message: str  # the state in words (alerts.log, webhooks: English); a Translatable, `shown()` where drawn
    end_from_status: bool = False  # the end state comes from status.json: no `done` event could be read
    estimate_kind: str = ""  # what the estimate rests on: "calibrated", "prior", "given" ("" = not said)
    detail: str = ""  # the message after its state word (what a banner shows beside the state); a Translatable

    @property
    def alarm(self) -> bool:
        return self.state in ALARMS


class StepClock:
    """Follows one run's events; `reading(now, alive)` judges the state at `now`."""

    def __init__(self, policy: StallPolicy | None = None, estimate_seconds: float | None = None, estimate_kind: str = "") -> None:
        self.policy = policy or StallPolicy()
        self.estimate_seconds = estimate_seconds
        self.estimate_kind = estimate_kind  # "calibrated", "prior", "given" or "" (not said)
        self.phase = STARTING
        self.phase_since: float | None = None
        self.step = 0
        self.total_steps = 0
        self.step_begin_t: float | None = None  # set while a step runs
        self.last_step_end_t: float | None = None
        self.step_origin_t: float | None = None  # where the running step's time starts (pauses taken out)
        self.first_step_pending = True  # the next step is the first since a (re)start
        self.running_first_step = False
        self.segment: deque[float] = deque(maxlen=self.policy.window)  # measured steps since the (re)start
        self.last_step_seconds: float | None = None
        self.samples_per_second: float | None = None
        self.tokens_per_second: float | None = None
        self.last_eval_seconds: float | None = None
        self.last_save_seconds: float | None = None
        self.last_compile_seconds: float | None = None
        self.started_t: float | None = None
        self.last_event_t: float | None = None
        self.done: Done | None = None
        self.gone_since: float | None = None

    # -- feeding -----------------------------------------------------------------------------

    def feed(self, event: Event) -> None:
        """Take one event from the log, in log order."""
        self.last_event_t = max(self.last_event_t or event.t, event.t)
        if isinstance(event, RunStart):
            self.started_t = self.started_t or event.t
            self.done = None  # a resumed run appends to the same log
            self.first_step_pending = True
            self.segment.clear()
            self.step_begin_t = self.step_origin_t = None
            self._enter(STARTING, event.t)
        elif isinstance(event, Phase):
            if event.name != self.phase:
                self._enter(event.name, event.t)
        elif isinstance(event, TrainPlan):
            self.total_steps = event.total_steps or self.total_steps
            self.step = max(self.step, event.start_step)
        elif isinstance(event, StepBegin):
            self._enter("training", event.t)
            self.step = event.step
            self.step_begin_t = event.t
            self.running_first_step = self.first_step_pending
            self.first_step_pending = False
        elif isinstance(event, StepEnd):
            self.step = event.step
            self.total_steps = event.total_steps or self.total_steps
            self.last_step_seconds = event.step_seconds
            self.samples_per_second = event.samples_per_second or None
            self.tokens_per_second = event.tokens_per_second or None
            if not self.running_first_step:
                self.segment.append(event.step_seconds)
            self.running_first_step = False
            self.step_begin_t = None
            self.last_step_end_t = self.step_origin_t = event.t
        elif isinstance(event, EvalResult):
            self.last_eval_seconds = event.seconds or self.last_eval_seconds
            if self.phase == "evaluating":
                self._enter("training", event.t)
        elif isinstance(event, CheckpointSaved):
            self.last_save_seconds = event.seconds or self.last_save_seconds
            if self.phase == "saving":
                self._enter("training", event.t)
        elif isinstance(event, Done):
            self.done = event
            self.step_begin_t = None
            self._enter("done", event.t)
        # A heartbeat (or any other event) counts by its time alone: `last_event_t`.

    def _enter(self, phase: str, t: float) -> None:
        if phase == "training" and self.phase != "training":
            paused = max(0.0, t - self.phase_since) if self.phase_since is not None else 0.0
            if self.phase == "compiling":
                self.last_compile_seconds = paused
            if self.phase in _TIMED_PHASES and self.step_origin_t is not None:
                self.step_origin_t += paused  # an eval, save or compilation is not step time
            else:
                self.step_origin_t = t
        self.phase = phase
        self.phase_since = t

    # -- judging -----------------------------------------------------------------------------

    def median_seconds(self) -> float | None:
        return statistics.median(self.segment) if self.segment else None

    def expected(self) -> tuple[float | None, str]:
        """The expected seconds of a steady step, and where that figure comes from."""
        policy = self.policy
        if len(self.segment) >= policy.min_measured_steps:
            return statistics.median(self.segment), Translatable(N_("median of {steps} steps"), steps=len(self.segment))
        if self.estimate_seconds:
            return self.estimate_seconds, estimate_basis(self.estimate_kind)
        if self.segment:
            template = N_("median of {steps} steps") if len(self.segment) > 1 else N_("median of {steps} step")
            return statistics.median(self.segment), Translatable(template, steps=len(self.segment))
        return None, Translatable(N_("no step measured yet"))

    def budget(self) -> tuple[float | None, float | None, str]:
        """(slow_after, stalled_after, basis) for what is running now; None when nothing is timed."""
        policy = self.policy
        if self.phase == "evaluating":
            stalled = max(policy.eval_seconds, policy.phase_factor * (self.last_eval_seconds or 0.0))
            return stalled * SLOW_SHARE_OF_BUDGET, stalled, Translatable(N_("evaluation budget"))
        if self.phase == "saving":
            stalled = max(policy.save_seconds, policy.phase_factor * (self.last_save_seconds or 0.0))
            return stalled * SLOW_SHARE_OF_BUDGET, stalled, Translatable(N_("checkpoint budget"))
        if self.phase == "compiling":
            stalled = max(policy.compile_seconds, policy.phase_factor * (self.last_compile_seconds or 0.0))
            return stalled * SLOW_SHARE_OF_BUDGET, stalled, Translatable(N_("compilation budget"))
        if self.phase != "training":
            return None, None, ""
        expected, basis = self.expected()
        first = self.running_first_step if self.step_begin_t is not None else self.first_step_pending
        if first or expected is None:
            stalled = max(policy.first_step_seconds, policy.first_step_factor * (self.estimate_seconds or 0.0))
            return stalled * SLOW_SHARE_OF_BUDGET, stalled, Translatable(N_("first-step budget"))
        stalled = max(policy.stalled_factor * expected, policy.min_stalled_seconds)
        if policy.stall_after:
            stalled = policy.stall_after
        slow = min(max(policy.slow_factor * expected, policy.min_slow_seconds), stalled)
        return slow, stalled, basis

    def reading(self, now: float, alive: bool | None = None, status: RunStatus | None = None) -> ClockReading:
        """The state at `now`. `alive`: whether the trainer process runs (None = unknown).
        `status`: the trainer's status file, when the caller has read it; it decides only when the
        process is gone (past the grace) and no `done` event was read."""
        gone = self._gone(now, alive)
        status_end = _STATUS_END_STATES.get(status.state) if status is not None and gone and self.done is None else None
        over = self.done is not None or status_end is not None
        expected, basis = self.expected()
        slow_after, stalled_after, budget_basis = self.budget()
        median = self.median_seconds()
        since = self._running_since()
        running = max(0.0, now - since) if since is not None and not over else None
        silent = max(0.0, now - self.last_event_t) if self.last_event_t is not None and not over else None
        if self.done is not None:
            state = _DONE_STATES.get(self.done.reason, FINISHED)
        else:
            state = status_end or self._live_state(gone, alive, silent, running, slow_after, stalled_after)
        end_t = self._end_t(now, status if status_end is not None else None)
        reading = ClockReading(
            state=state,
            phase=self.phase,
            step=self.step,
            total_steps=self.total_steps,
            step_running=self.step_begin_t is not None,
            running_seconds=running,
            expected_seconds=expected,
            expected_basis=budget_basis or basis,
            slow_after=slow_after,
            stalled_after=stalled_after,
            last_seconds=self.last_step_seconds,
            median_seconds=median,
            measured_steps=len(self.segment),
            samples_per_second=self.samples_per_second,
            tokens_per_second=self.tokens_per_second,
            elapsed_seconds=end_t - self.started_t if self.started_t is not None else None,
            eta_seconds=0.0 if over else self._eta(median),
            estimate_seconds=self.estimate_seconds,
            silent_seconds=silent,
            message="",
            end_from_status=status_end is not None,
            estimate_kind=self.estimate_kind,
        )
        return _with_message(reading)

    def _gone(self, now: float, alive: bool | None) -> bool:
        """Has the process been gone for the grace period (long enough to read its last events)?"""
        if alive is False:
            self.gone_since = self.gone_since if self.gone_since is not None else now
        else:
            self.gone_since = None
        return self.gone_since is not None and now - self.gone_since >= self.policy.dead_grace_seconds

    def _running_since(self) -> float | None:
        """When what is timed now began: the eval/save/compile phase, else the running step from
        the previous step's end (the wait for its batches counts, pauses taken out); None when
        nothing is timed."""
        if self.phase in _TIMED_PHASES:
            return self.phase_since
        if self.phase == "training" or self.step_begin_t is not None:
            return self.step_origin_t or self.step_begin_t or self.phase_since
        return None

    def _live_state(self, gone: bool, alive: bool | None, silent: float | None, running: float | None,
                    slow_after: float | None, stalled_after: float | None) -> str:
        """The state of a run with no end recorded: the worst alarm that applies, else its phase."""
        if gone:
            return DEAD
        if silent is not None and silent > self.policy.frozen_seconds and alive is not False:
            return FROZEN
        if running is not None and stalled_after is not None and running > stalled_after:
            return STALLED
        if running is not None and slow_after is not None and running > slow_after:
            return SLOW
        return RUNNING if self.phase in _ACTIVE_PHASES else STARTING

    def _end_t(self, now: float, ended_status: RunStatus | None) -> float:
        """Where elapsed time stops: the `done` event, the status file of an ended run, else now."""
        if self.done is not None:
            return self.done.t
        if ended_status is not None:
            return ended_status.updated or self.last_event_t or now  # written with the unreadable `done`
        return now

    def _eta(self, median: float | None) -> float | None:
        """Seconds left at the measured median (else the estimate) per remaining step."""
        per_step = median or self.estimate_seconds
        if not (per_step and self.total_steps):
            return None
        completed = self.step - 1 if self.step_begin_t is not None else self.step
        return max(0, self.total_steps - completed) * per_step


def _with_message(r: ClockReading) -> ClockReading:
    """The one line the banner shows: the state in words, with the figures that decided it.
    English as a str (alerts.log, webhooks); a Translatable, `shown()` where drawn. `detail` is
    the same without the leading state word."""
    T = Translatable
    what = T(N_("step {step}"), step=r.step) if r.step_running else phase_words(r.phase, spaced=False)
    if r.state == FINISHED:
        line, detail = N_("finished: {detail}"), T(N_("{steps} steps"), steps=r.step)
    elif r.state == STOPPED:
        line, detail = "{detail}", T(N_("stopped at step {step} (checkpoint saved; resume continues from it)"), step=r.step)
    elif r.state == FAILED:
        line, detail = "{detail}", T(N_("failed at step {step}: see the events below"), step=r.step)
    elif r.state == DEAD:
        line = N_("dead: {detail}")
        detail = T(N_("the trainer process is gone without finishing (last step {step})"), step=r.step)
    elif r.state == FROZEN:
        line = N_("frozen: {detail}")
        detail = T(N_("no heartbeat for {seconds} s while the process is alive"), seconds=f"{r.silent_seconds:.0f}")
    elif r.state in (STALLED, SLOW) and r.running_seconds is not None:
        limit = r.stalled_after if r.state == STALLED else r.slow_after
        line = N_("stalled: {detail}") if r.state == STALLED else N_("slow: {detail}")
        figures = {"what": what, "running": f"{r.running_seconds:.1f}", "limit": f"{limit:.1f}", "basis": r.expected_basis}
        if r.expected_seconds and r.phase == "training":
            detail = T(N_("{what} running {running} s, past the {limit} s threshold ({basis}); {ratio}x the expected {expected} s"),
                       **figures, ratio=f"{r.running_seconds / r.expected_seconds:.0f}", expected=f"{r.expected_seconds:.2f}")
        else:
            detail = T(N_("{what} running {running} s, past the {limit} s threshold ({basis})"), **figures)
    elif r.state == RUNNING:
        line, detail = N_("running: {detail}"), what
    else:
        line, detail = N_("starting: {detail}"), phase_words(r.phase, spaced=True)
    if r.end_from_status:
        detail = T(N_("{detail}; the event log's last line could not be read, so this comes from status.json and final figures "
                      "may be missing"), detail=detail)
    return replace(r, message=T(line, detail=detail), detail=detail)
