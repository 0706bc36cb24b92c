"""Several trainer processes through torchrun, tested with two CPU processes and the gloo backend on the demo.

One event log written by rank 0 alone, `world_size` in run_start, one final model, the loss of a
two-process run beside a one-process run with the same effective batch; a stop that every rank
obeys at one step, then a resume; a rank SIGKILLed in the middle of a step ends the run, named,
within a bounded time, with no process of the group left.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from support.project import short_demo_toml, write_preset

from emosum_tui.commands.train_group import Rendezvous, inside_group
from emosum_tui.core.events import EVENTS_FILE, Done, Error, RunStart, StepBegin, StepEnd, TrainPlan, Warn, read_events
from emosum_tui.core.presets import PresetError, load_preset
from emosum_tui.core.process_plan import plan_processes, processes_wanted
from emosum_tui.core.rank_beats import RankBeat, read_rank_beats, silent_ranks
from emosum_tui.core.rundir import read_status, request_stop
from emosum_tui.trainer.control import LOCK_FILE

LOSS_TOLERANCE = 0.03  # relative, per step: the ranks' dropout draws differ from one process's; measured at most 1.6%
KILLED_RUN_ENDS_WITHIN = 30.0  # seconds from the SIGKILL to the launcher's exit


def test_grad_accum_is_divided_among_the_processes_where_it_divides() -> None:
    kept = plan_processes(4, 2, 2)
    assert (kept.grad_accum, kept.effective_batch, kept.kept) == (1, 8, True)
    assert kept.note() == "2 processes: grad_accum 2 -> 1 per process, effective batch kept (4 x 1 x 2 processes = 8)"
    grown = plan_processes(8, 1, 2)
    assert (grown.grad_accum, grown.effective_batch, grown.kept) == (1, 16, False)
    assert "effective batch grows from 8 to 16" in grown.note()
    assert plan_processes(2, 4, 1).note() == ""
    assert processes_wanted("auto", 0) == 1 and processes_wanted("auto", 4) == 4 and processes_wanted(3, 0) == 3


def test_the_processes_key_takes_a_count_or_auto(home: Path) -> None:
    for value in ("2", '"auto"'):
        write_preset(home, "p", f'extends = "demo"\n[train]\nprocesses = {value}\n')
        assert load_preset("p")["train.processes"] in (2, "auto")
    for value in ("0", '"many"', "true"):
        write_preset(home, "p", f'extends = "demo"\n[train]\nprocesses = {value}\n')
        with pytest.raises(PresetError, match="processes"):
            load_preset("p")


def test_one_node_gets_a_free_local_port_and_several_nodes_pass_through() -> None:
    local = Rendezvous().torchrun_options(2)
    assert local[:8] == ["--nproc-per-node", "2", "--nnodes", "1", "--node-rank", "0", "--master-addr", "127.0.0.1"]
    assert int(local[9]) > 0
    nodes = Rendezvous(nnodes=2, node_rank=1, master_addr="10.0.0.5", master_port=29500).torchrun_options(8)
    assert nodes == ["--nproc-per-node", "8", "--nnodes", "2", "--node-rank", "1", "--master-addr", "10.0.0.5", "--master-port", "29500"]
    assert not inside_group()


def test_a_rank_whose_beats_stop_or_whose_process_is_gone_is_silent() -> None:
    now = 1_790_000_100.0
    beats = [RankBeat(0, 4, 10, "a", 7, "training", now - 1), RankBeat(1, 4, 11, "a", 7, "training", now - 40),
             RankBeat(3, 4, 13, "a", 6, "training", now - 2)]
    silent = silent_ranks(beats, alive=lambda beat: beat.rank != 3, now=now)
    assert [s.text for s in silent] == ["rank 1 silent: no heartbeat for 40 s, last seen at step 7",
                                        "rank 3 silent: its process (pid 13) is gone, last seen at step 6"]


# ---------------------------------------------------------------------------------------------
# The real thing: `emosum-tui train --nproc 2` on two CPU processes.


def train(name: str, run_dir: Path, *extra: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    command = [sys.executable, "-m", "emosum_tui", "train", name, "--headless", "--run-dir", str(run_dir), *extra]
    return subprocess.Popen(command, env={**os.environ, **(env or {})}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def finish(process: subprocess.Popen, timeout: float = 240) -> tuple[int, str]:
    out, _ = process.communicate(timeout=timeout)
    return process.returncode, out


def losses(run_dir: Path) -> list[float]:
    return [e.loss for e in read_events(run_dir / EVENTS_FILE) if isinstance(e, StepEnd)]


def wait_for(condition, timeout: float = 120.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "condition not met in time"
        time.sleep(0.05)


@pytest.mark.slow
def test_two_processes_write_one_log_one_model_and_the_same_loss_as_one(home: Path) -> None:
    """48 rows at 4 x 2 in one process vs 4 x 1 on each of two: the same 8 rows per step, 6 steps."""
    batch = {"batch_size": 4, "grad_accum": 2}
    write_preset(home, "one", short_demo_toml(48, train=batch, output_dir="model/one"))
    write_preset(home, "two", short_demo_toml(48, train=batch, output_dir="model/two"))
    code, out = finish(train("one", home / "runs" / "one"))
    assert code == 0, out
    code, out = finish(train("two", home / "runs" / "two", "--nproc", "2"))
    assert code == 0, out
    run_dir = home / "runs" / "two"
    events = read_events(run_dir / EVENTS_FILE)
    (start,) = [e for e in events if isinstance(e, RunStart)]
    assert start.world_size == 2
    (plan,) = [e for e in events if isinstance(e, TrainPlan)]
    assert (plan.batch_size, plan.grad_accum, plan.total_steps) == (4, 1, 6)
    assert any(isinstance(e, Warn) and e.code == "processes" and "grad_accum 2 -> 1 per process, effective batch kept" in e.message
               for e in events)
    assert [e.step for e in events if isinstance(e, StepBegin)] == [1, 2, 3, 4, 5, 6]  # one log: each step once
    done = events[-1]
    assert isinstance(done, Done) and done.reason == "completed" and done.final_path
    assert sorted(p.name for p in (home / "model" / "two").iterdir()) == ["checkpoint-6", "final"]
    assert not (home / "model" / "two" / LOCK_FILE).exists()
    assert [b.rank for b in read_rank_beats(run_dir)] == [0, 1]
    assert (run_dir / "ranks" / "rank-1" / EVENTS_FILE).is_file()  # rank 1's own log, beside, not in, the run's
    one, two = losses(home / "runs" / "one"), losses(run_dir)
    assert len(one) == len(two) == 6
    worst = max(abs(a - b) / a for a, b in zip(one, two, strict=True))
    assert worst < LOSS_TOLERANCE, (one, two)


@pytest.mark.slow
def test_a_stop_ends_every_rank_at_one_step_and_the_run_resumes(home: Path) -> None:
    write_preset(home, "long", short_demo_toml(96, train={"batch_size": 4, "grad_accum": 2}, output_dir="model/long"))
    run_dir = home / "runs" / "long"
    process = train("long", run_dir, "--nproc", "2")
    wait_for(lambda: any(isinstance(e, StepEnd) and e.step >= 2 for e in read_events(run_dir / EVENTS_FILE)))
    request_stop(run_dir, by="test")
    code, out = finish(process)
    assert code == 0, out
    done = read_events(run_dir / EVENTS_FILE)[-1]
    assert isinstance(done, Done) and done.reason == "stopped" and 2 <= done.steps < 12
    rank1 = read_events(run_dir / "ranks" / "rank-1" / EVENTS_FILE)[-1]
    assert isinstance(rank1, Done) and (rank1.reason, rank1.steps) == ("stopped", done.steps)  # the same step on both ranks
    assert (home / "model" / "long" / f"checkpoint-{done.steps}").is_dir()

    code, out = finish(train("long", run_dir, "--nproc", "2", "--resume"))
    assert code == 0, out
    events = read_events(run_dir / EVENTS_FILE)
    starts = [e for e in events if isinstance(e, RunStart)]
    assert [s.world_size for s in starts] == [2, 2] and starts[1].resumed_from.endswith(f"checkpoint-{done.steps}")
    assert [e.start_step for e in events if isinstance(e, TrainPlan)] == [0, done.steps]
    assert isinstance(events[-1], Done) and events[-1].reason == "completed" and events[-1].steps == 12
    assert (home / "model" / "long" / "final").is_dir()


@pytest.mark.slow
def test_a_killed_rank_fails_the_run_named_and_leaves_no_process(home: Path) -> None:
    """Rank 1 is SIGKILLed while both ranks are inside step 3 (an injected 60 s sleep keeps them there)."""
    write_preset(home, "tiny", short_demo_toml(40, train={"batch_size": 4, "grad_accum": 2}, output_dir="model/tiny"))
    run_dir = home / "runs" / "killed"
    process = train("tiny", run_dir, "--nproc", "2", env={"EMOSUM_FAULT": "sleep@3:60"})
    rank1_log = run_dir / "ranks" / "rank-1" / EVENTS_FILE
    wait_for(lambda: any(isinstance(e, StepBegin) and e.step == 3 for e in read_events(rank1_log)))
    group = [p.pid for p in psutil.Process(process.pid).children(recursive=True)]
    (victim,) = [b for b in read_rank_beats(run_dir) if b.rank == 1]
    assert victim.pid in group
    os.kill(victim.pid, signal.SIGKILL)
    killed = time.monotonic()
    code, out = finish(process, timeout=KILLED_RUN_ENDS_WITHIN + 30)
    took = time.monotonic() - killed
    assert code != 0
    assert took < KILLED_RUN_ENDS_WITHIN, took
    events = read_events(run_dir / EVENTS_FILE)
    (error,) = [e for e in events if isinstance(e, Error)]
    assert error.classification == "rank-lost" and f"rank 1 (pid {victim.pid})" in error.message and "in step 3" in error.message
    assert isinstance(events[-1], Done) and events[-1].reason == "failed"
    status = read_status(run_dir)
    assert status is not None and (status.state, status.error) == ("failed", "rank-lost")
    assert "rank 1" in out
    time.sleep(0.5)
    left = [pid for pid in group if psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE]
    assert left == [], left


def test_the_console_hears_once_of_a_rank_whose_process_is_gone_and_not_of_one_that_finished(tmp_path: Path) -> None:
    from emosum_tui.core.rank_beats import write_rank_beat
    from emosum_tui.core.rundir import RunStatus, write_status
    from emosum_tui.monitor.rank_watch import READ_SECONDS, RankWatch

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    now = time.time()
    me = psutil.Process().create_time()
    write_rank_beat(tmp_path, RankBeat(0, 3, os.getpid(), "a", 5, "training", now, me))
    write_rank_beat(tmp_path, RankBeat(1, 3, gone.pid, "a", 4, "training", now, now - 5))
    write_rank_beat(tmp_path, RankBeat(2, 3, gone.pid, "a", 9, "done", now, now - 5))
    write_status(tmp_path / "ranks" / "rank-2", RunStatus(state="finished", step=9))
    watch = RankWatch(tmp_path)
    assert [s.text for s in watch.news(0.0)] == [f"rank 1 silent: its process (pid {gone.pid}) is gone, last seen at step 4"]
    assert watch.news(READ_SECONDS + 1) == []  # said once
