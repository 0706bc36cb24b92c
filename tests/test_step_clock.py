"""The stall alarm's logic, driven by synthetic event sequences and an explicit clock."""

from __future__ import annotations

import pytest

from emosum_tui.core.events import CheckpointSaved, Done, EvalResult, Heartbeat, Phase, RunStart, StepBegin, StepEnd, TrainPlan
from emosum_tui.core.rundir import RunStatus
from emosum_tui.monitor.step_clock import (
    DEAD,
    FAILED,
    FINISHED,
    FROZEN,
    RUNNING,
    SLOW,
    STALLED,
    STARTING,
    STOPPED,
    StallPolicy,
    StepClock,
)


def run_steps(clock: StepClock, t: float, steps: list[float], first: int = 1, total: int = 100) -> float:
    """Feed whole steps of the given durations starting at `t`; returns the time after the last."""
    for n, seconds in enumerate(steps, start=first):
        clock.feed(StepBegin(t=t, step=n))
        t += seconds
        clock.feed(StepEnd(t=t, step=n, total_steps=total, loss=1.0, step_seconds=seconds, samples_per_second=8 / seconds))
        clock.feed(Heartbeat(t=t, step=n))
    return t


QUIET_OK = StallPolicy(frozen_seconds=1e9)  # for cases about step budgets, not heartbeats


def started(t: float = 1000.0, total: int = 100, start_step: int = 0, policy: StallPolicy = QUIET_OK) -> StepClock:
    clock = StepClock(policy)
    clock.feed(RunStart(t=t, preset="demo", pid=1))
    clock.feed(Phase(t=t, name="loading_model"))
    clock.feed(TrainPlan(t=t, total_steps=total, start_step=start_step))
    clock.feed(Phase(t=t, name="training"))
    return clock


def test_before_training_it_is_starting_and_has_no_budget():
    clock = StepClock()
    clock.feed(RunStart(t=0.0, pid=1))
    clock.feed(Phase(t=0.0, name="tokenising", done=10, total=100))
    reading = clock.reading(5.0, alive=True)
    assert reading.state == STARTING
    assert reading.stalled_after is None
    assert "tokenising" in reading.message


def test_steady_step_goes_slow_then_stalled_while_still_running():
    clock = started()
    t = run_steps(clock, 1000.0, [5.0, 1.0, 1.2, 0.8, 1.0])
    clock.feed(StepBegin(t=t, step=6))
    assert clock.reading(t + 1.9, alive=True).state == RUNNING
    slow = clock.reading(t + 2.1, alive=True)
    assert slow.state == SLOW and slow.slow_after == pytest.approx(2.0)
    assert slow.running_seconds == pytest.approx(2.1)
    assert clock.reading(t + 4.9, alive=True).state == SLOW
    stalled = clock.reading(t + 5.1, alive=True)
    assert stalled.state == STALLED and stalled.alarm
    assert stalled.step_running and stalled.step == 6
    assert "stalled: step 6 running 5.1 s" in stalled.message
    assert "median of 4 steps" in stalled.message


def test_first_step_of_a_start_is_skipped_from_the_median_and_gets_its_own_budget():
    clock = started()
    clock.feed(StepBegin(t=1000.0, step=1))
    # 20 s into the first step: past half the 30 s first-step budget (slow), not stalled
    first = clock.reading(1020.0, alive=True)
    assert first.expected_basis == "first-step budget"
    assert first.stalled_after == 30.0 and first.state == SLOW
    assert clock.reading(1031.0, alive=True).state == STALLED
    clock.feed(StepEnd(t=1040.0, step=1, total_steps=100, step_seconds=40.0))
    assert clock.reading(1040.0, alive=True).median_seconds is None  # the 40 s warm-up step is not counted
    t = run_steps(clock, 1040.0, [0.5, 0.5, 0.5], first=2)
    assert clock.reading(t, alive=True).median_seconds == pytest.approx(0.5)


def test_small_steps_have_floors_so_jitter_never_alarms():
    clock = started()
    t = run_steps(clock, 1000.0, [3.0, 0.1, 0.1, 0.1, 0.1])
    clock.feed(StepBegin(t=t, step=6))
    assert clock.reading(t + 1.5, alive=True).state == RUNNING  # 15x the median, but under the 2 s floor
    assert clock.reading(t + 5.2, alive=True).state == STALLED


def test_calibrated_estimate_is_used_until_enough_steps_are_measured():
    clock = StepClock(QUIET_OK, estimate_seconds=10.0, estimate_kind="calibrated")
    clock.feed(RunStart(t=0.0, pid=1))
    clock.feed(TrainPlan(t=0.0, total_steps=10))
    clock.feed(StepBegin(t=0.0, step=1))
    first = clock.reading(1.0, alive=True)
    assert first.stalled_after == 100.0  # max(30 s, 10 x estimate)
    assert first.eta_seconds == pytest.approx(100.0)  # from the estimate before any step is measured
    t = run_steps(clock, 60.0, [9.0], first=2, total=10)
    clock.feed(StepBegin(t=t, step=3))
    reading = clock.reading(t + 1.0, alive=True)
    assert reading.expected_seconds == 10.0 and reading.expected_basis == "calibrated estimate"
    assert reading.stalled_after == 50.0


def test_explicit_threshold_replaces_the_five_times_rule():
    clock = StepClock(policy=StallPolicy(stall_after=3.0))
    clock.feed(RunStart(t=0.0, pid=1))
    t = run_steps(clock, 0.0, [1.0, 1.0, 1.0, 1.0])
    clock.feed(StepBegin(t=t, step=5))
    assert clock.reading(t + 2.5, alive=True).state == SLOW
    assert clock.reading(t + 3.1, alive=True).state == STALLED


def test_resume_restarts_the_median_and_the_first_step_budget():
    clock = started()
    t = run_steps(clock, 1000.0, [2.0, 1.0, 1.0, 1.0])
    clock.feed(Done(t=t, reason="stopped", steps=4))
    assert clock.reading(t + 100, alive=False).state == STOPPED
    clock.feed(RunStart(t=t + 200, pid=2, resumed_from="checkpoint-4"))
    clock.feed(TrainPlan(t=t + 200, total_steps=100, start_step=4))
    clock.feed(StepBegin(t=t + 201, step=5))
    reading = clock.reading(t + 215, alive=True)
    assert reading.state == RUNNING and reading.expected_basis == "first-step budget"  # 14 s: fine for a first step
    assert reading.measured_steps == 0
    assert reading.eta_seconds is None  # no median since the restart and no estimate


def test_eta_from_rolling_median_and_elapsed():
    clock = started(t=1000.0, total=10)
    t = run_steps(clock, 1000.0, [9.0, 2.0, 2.0, 3.0], total=10)
    reading = clock.reading(t, alive=True)
    assert reading.median_seconds == pytest.approx(2.0)
    assert reading.eta_seconds == pytest.approx(6 * 2.0)
    assert reading.elapsed_seconds == pytest.approx(16.0)
    assert reading.last_seconds == pytest.approx(3.0)


def test_eval_and_save_get_budgets_of_their_own():
    clock = started()
    t = run_steps(clock, 1000.0, [1.0, 1.0, 1.0, 1.0])
    clock.feed(Phase(t=t, name="evaluating"))
    assert clock.reading(t + 50, alive=True).state == RUNNING  # far past 5x a step, but evaluation is not a step
    assert clock.reading(t + 61, alive=True).state == SLOW
    assert clock.reading(t + 121, alive=True).state == STALLED
    clock.feed(EvalResult(t=t + 40, step=4, metrics={"eval_loss": 1.0}, seconds=40.0))
    clock.feed(Phase(t=t + 40, name="saving"))
    assert clock.reading(t + 70, alive=True).state == RUNNING
    assert clock.reading(t + 101, alive=True).state == STALLED
    clock.feed(CheckpointSaved(t=t + 45, step=4, seconds=5.0))
    assert clock.reading(t + 46, alive=True).phase == "training"
    # the next evaluation's budget grows with the measured one: 3 x 40 s
    clock.feed(Phase(t=t + 50, name="evaluating"))
    assert clock.reading(t + 51, alive=True).stalled_after == 120.0


def test_frozen_when_silent_while_alive_and_dead_when_gone():
    clock = started(policy=StallPolicy())
    t = run_steps(clock, 1000.0, [1.0, 1.0, 1.0, 1.0])
    clock.feed(StepBegin(t=t, step=5))
    clock.feed(Heartbeat(t=t + 10, step=5))
    assert clock.reading(t + 20, alive=True).state == STALLED  # heartbeats arrive: slow work, not frozen
    frozen = clock.reading(t + 26, alive=True)
    assert frozen.state == FROZEN and frozen.silent_seconds == pytest.approx(16.0)
    assert clock.reading(t + 27, alive=False).state != DEAD  # grace: its last events may be in flight
    dead = clock.reading(t + 28.5, alive=False)
    assert dead.state == DEAD and "gone" in dead.message


def test_done_decides_and_freezes_the_figures():
    clock = started(total=4)
    t = run_steps(clock, 1000.0, [1.0, 1.0, 1.0, 1.0], total=4)
    clock.feed(Done(t=t + 1, reason="completed", steps=4, final_path="/tmp/model"))
    a = clock.reading(t + 10, alive=False)
    b = clock.reading(t + 10_000, alive=None)
    assert a.state == b.state == FINISHED
    assert a == b  # nothing depends on the clock once a run is done
    assert a.eta_seconds == 0 and a.running_seconds is None


def test_gone_without_a_readable_done_takes_the_end_from_the_status_file_and_says_why():
    """The `done` line is corrupt, status.json (written after it) says how the run ended."""
    clock = started(total=4)
    t = run_steps(clock, 1000.0, [1.0, 1.0, 1.0, 1.0], total=4)
    finished = RunStatus(state="finished", phase="done", step=4, total_steps=4, updated=t + 1)
    assert clock.reading(t + 2, alive=True, status=finished).state == RUNNING  # a live process: the log decides
    assert clock.reading(t + 3, alive=False, status=finished).state != FINISHED  # grace: `done` may be in flight
    reading = clock.reading(t + 10, alive=False, status=finished)
    assert reading.state == FINISHED and not reading.alarm
    assert reading.message.startswith("finished: 4 steps")
    assert "last line could not be read" in reading.message and "status.json" in reading.message
    assert reading.eta_seconds == 0 and reading.running_seconds is None and reading.silent_seconds is None
    assert reading.elapsed_seconds == pytest.approx(t + 1 - 1000.0)  # ends when the trainer wrote its status
    for state, shown in (("stopped", STOPPED), ("failed", FAILED)):
        assert clock.reading(t + 10, alive=False, status=RunStatus(state=state)).state == shown


def test_gone_with_a_status_that_still_says_running_is_dead():
    """A killed trainer never wrote its end: status.json says "running" (or nothing is there)."""
    clock = started(total=4)
    t = run_steps(clock, 1000.0, [1.0, 1.0], total=4)
    for status in (RunStatus(state="running", phase="training", step=2), RunStatus(state="starting"), None):
        clock.reading(t, alive=False, status=status)
        dead = clock.reading(t + 5, alive=False, status=status)
        assert dead.state == DEAD and "gone without finishing" in dead.message, status
        assert "status.json" not in dead.message


def test_a_prior_estimate_is_called_a_prior():
    clock = StepClock(QUIET_OK, estimate_seconds=10.0, estimate_kind="prior")
    clock.feed(RunStart(t=0.0, pid=1))
    clock.feed(TrainPlan(t=0.0, total_steps=10))
    t = run_steps(clock, 0.0, [9.0, 9.0], total=10)
    clock.feed(StepBegin(t=t, step=3))
    reading = clock.reading(t + 1.0, alive=True)
    assert reading.expected_basis == "prior estimate" and reading.estimate_kind == "prior"


def test_the_wait_for_the_next_batches_is_step_time_and_pauses_are_not():
    clock = started()
    t = run_steps(clock, 1000.0, [1.0, 1.0, 1.0, 1.0])
    # The loader takes 4 s before the Trainer says the step began: the step has run 5.5 s at t + 5.5.
    clock.feed(StepBegin(t=t + 4.0, step=5))
    reading = clock.reading(t + 5.5, alive=True)
    assert reading.running_seconds == pytest.approx(5.5) and reading.state == STALLED  # past 5 x the 1 s median
    clock.feed(StepEnd(t=t + 6.0, step=5, total_steps=100, step_seconds=6.0))
    # An evaluation of 40 s after step 5 is its own figure: the next step's time starts after it.
    t += 6.0
    clock.feed(Phase(t=t, name="evaluating"))
    clock.feed(EvalResult(t=t + 40, step=5, seconds=40.0))
    clock.feed(Phase(t=t + 40, name="training"))
    clock.feed(StepBegin(t=t + 40.5, step=6))
    assert clock.reading(t + 41.0, alive=True).running_seconds == pytest.approx(1.0)


def test_a_compilation_has_a_budget_of_its_own_and_is_taken_out_of_the_step():
    clock = started()
    clock.feed(StepBegin(t=1000.0, step=1))
    clock.feed(Phase(t=1000.5, name="compiling", detail="torch.compile, compilation 1"))
    reading = clock.reading(1300.0, alive=True)  # 5 minutes in: far past the first-step budget (30 s)
    assert reading.state == RUNNING and reading.expected_basis == "compilation budget" and reading.stalled_after == 900.0
    assert clock.reading(1901.0, alive=True).state == STALLED
    clock.feed(Phase(t=1400.5, name="training"))
    assert clock.reading(1401.0, alive=True).running_seconds == pytest.approx(1.0)  # 0.5 s before, 0.5 s after
