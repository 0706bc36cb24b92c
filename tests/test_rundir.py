"""The run directory as a reader sees it: layout, atomic status, judging live/finished/dead runs.

Torch-free and fast: real files, real subprocesses for "alive" and "dead" pids.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from emosum_tui.core.events import (
    EVENTS_FILE,
    Done,
    Environment,
    Error,
    EventWriter,
    GpuDevice,
    RunStart,
    RunTotals,
    StepBegin,
    StepEnd,
    TrainPlan,
    parse_event,
)
from emosum_tui.core.rundir import (
    STATUS_FILE,
    RunStatus,
    clear_stale_stop_request,
    is_run_dir,
    list_runs,
    load_run_preset,
    new_run_dir,
    pid_alive,
    read_run,
    read_status,
    request_stop,
    stop_file,
    stop_requested,
    trainer_command,
    write_run_preset,
    write_status,
)


def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def write_run(run_dir: Path, pid: int, state: str = "running", steps: int = 3, done: Done | None = None,
              error: Error | None = None) -> None:
    writer = EventWriter(run_dir / EVENTS_FILE)
    writer.write(RunStart(preset="demo", run_dir=str(run_dir), output_dir="/x/model/demo", pid=pid))
    writer.write(TrainPlan(total_steps=10))
    for step in range(1, steps + 1):
        writer.write(StepBegin(step=step))
        writer.write(StepEnd(step=step, total_steps=10, loss=5.0 - step))
    if error:
        writer.write(error)
    if done:
        writer.write(done)
    writer.close()
    write_status(run_dir, RunStatus(state=state, preset="demo", pid=pid, started=time.time(), step=steps, total_steps=10))


def test_new_run_dir_is_fresh_and_unique(tmp_path: Path) -> None:
    first = new_run_dir("demo", root=tmp_path)
    second = new_run_dir("demo", root=tmp_path)
    assert first != second
    assert first.name.endswith("-demo") and first.parent == tmp_path
    assert (first / "control").is_dir() and (second / "control").is_dir()


def test_status_is_replaced_whole_and_reads_back(tmp_path: Path) -> None:
    write_status(tmp_path, RunStatus(state="running", preset="demo", pid=42, step=7, total_steps=10))
    write_status(tmp_path, RunStatus(state="finished", preset="demo", pid=42, step=10, total_steps=10))
    status = read_status(tmp_path)
    assert status is not None and status.state == "finished" and status.step == 10
    assert [p.name for p in tmp_path.iterdir()] == [STATUS_FILE]  # no temp file left behind


def test_unreadable_status_is_none(tmp_path: Path) -> None:
    (tmp_path / STATUS_FILE).write_text('{"state": "runn', encoding="utf-8")
    assert read_status(tmp_path) is None


def test_finished_run(tmp_path: Path) -> None:
    write_run(tmp_path, dead_pid(), state="finished", steps=10,
              done=Done(reason="completed", final_path="/x/model/demo/final", steps=10, train_loss=1.5))
    run = read_run(tmp_path)
    assert (run.status, run.steps, run.total_steps, run.final_loss) == ("finished", 10, 10, 1.5)
    assert run.final_path == "/x/model/demo/final" and not run.alive


def test_running_run_with_live_process(tmp_path: Path) -> None:
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        write_run(tmp_path, process.pid)
        run = read_run(tmp_path)
        assert run.status == "running" and run.alive and run.pid == process.pid
        assert run.steps == 3 and run.final_loss == 2.0
    finally:
        process.kill()
        process.wait()
    assert read_run(tmp_path).status == "dead"


def test_dead_run_says_so_with_a_torn_last_line(tmp_path: Path) -> None:
    write_run(tmp_path, dead_pid())
    with (tmp_path / EVENTS_FILE).open("ab") as handle:
        handle.write(b'{"v":1,"kind":"step_end","step":4,"lo')  # killed mid-write
    run = read_run(tmp_path)
    assert run.status == "dead" and not run.alive
    assert run.steps == 3 and run.torn_tail
    assert "without writing 'done'" in run.message


def test_failed_run_carries_the_classification(tmp_path: Path) -> None:
    write_run(tmp_path, dead_pid(), state="failed",
              error=Error(classification="nan-loss", message="the loss of optimizer step 3 is nan"),
              done=Done(reason="failed", steps=3))
    run = read_run(tmp_path)
    assert (run.status, run.error) == ("failed", "nan-loss")
    assert "step 3" in run.message


def test_resumed_run_is_judged_by_its_latest_start(tmp_path: Path) -> None:
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        write_run(tmp_path, dead_pid(), state="stopped", done=Done(reason="stopped", steps=3))
        assert read_run(tmp_path).status == "stopped"
        write_run(tmp_path, process.pid)  # the resume appends a new run_start
        assert read_run(tmp_path).status == "running"
    finally:
        process.kill()
        process.wait()


def test_pid_alive() -> None:
    import os

    assert pid_alive(os.getpid())
    assert not pid_alive(dead_pid())
    assert not pid_alive(None)
    assert not pid_alive(os.getpid(), started=time.time() - 3600 * 24 * 365 * 30)  # born after "start": a reused pid


def test_stop_request_round_trip(tmp_path: Path) -> None:
    assert not stop_requested(tmp_path)
    request_stop(tmp_path)
    assert stop_requested(tmp_path)
    assert json.loads(stop_file(tmp_path).read_text(encoding="utf-8"))["by"] == "console"
    # a request written before this trainer process was born is stale (a resumed run's old one) ...
    assert clear_stale_stop_request(tmp_path, older_than=time.time() + 1)
    assert not stop_requested(tmp_path)
    # ... one written after it is kept: the console may ask before the trainer has even started
    request_stop(tmp_path)
    assert not clear_stale_stop_request(tmp_path, older_than=time.time() - 60)
    assert stop_requested(tmp_path)


def test_list_runs_newest_first_and_skips_other_folders(tmp_path: Path) -> None:
    for name in ("20260101-000000-demo", "20260102-000000-fast"):
        (tmp_path / name).mkdir()
        write_run(tmp_path / name, dead_pid(), state="finished", done=Done(reason="completed"))
    (tmp_path / "notes").mkdir()
    runs = list_runs(tmp_path)
    assert [r.name for r in runs] == ["20260102-000000-fast", "20260101-000000-demo"]
    assert not is_run_dir(tmp_path / "notes")
    assert list_runs(tmp_path / "missing") == []


def test_trainer_command_is_the_cli() -> None:
    command = trainer_command(Path("runs/x/preset.toml"), Path("runs/x"), resume=True)
    assert command[:4] == [sys.executable, "-m", "emosum_tui", "train"]
    assert command[4:] == [str(Path("runs/x/preset.toml").resolve()), "--headless", "--run-dir", str(Path("runs/x").resolve()), "--resume"]
    # launched in the project root: a relative preset path must still name the same file
    assert trainer_command(Path("my/plan.toml"), Path("r"))[4] == str(Path("my/plan.toml").resolve())


def test_environment_and_totals_are_typed_and_old_logs_still_read() -> None:
    old = parse_event('{"v":1,"kind":"run_start","t":1,"seq":0,"environment":{"torch":"2.1","cuda_available":false,"new":1}}')
    assert isinstance(old, RunStart) and old.environment.torch == "2.1" and old.environment.cuda_available is False
    bare = parse_event('{"v":1,"kind":"run_start","t":1,"seq":0}')
    assert isinstance(bare, RunStart) and not bare.environment.recorded and bare.environment.cuda_available is None
    failed = parse_event('{"v":1,"kind":"done","t":1,"seq":1,"reason":"failed","totals":{}}')
    assert isinstance(failed, Done) and failed.totals is None
    done = Done(t=2.0, seq=3, totals=RunTotals(samples=16, tokens=900, final_bytes=10))
    assert parse_event(done.to_json()) == done
    start = RunStart(t=1.0, seq=0, environment=Environment(torch="2.5", devices=(GpuDevice(index=0, name="H200", memory_bytes=1),)))
    assert parse_event(start.to_json()) == start


def test_the_preset_as_run_keeps_its_name_and_trains_by_itself(tmp_path: Path) -> None:
    from emosum_tui.core.presets import load_preset

    original = load_preset("demo")
    path = write_run_preset(tmp_path, original)
    assert path == tmp_path / "preset.toml"
    copy = load_run_preset(path)
    assert copy.name == "demo"  # not the file's stem
    assert copy.values == {**original.values, "save.output_dir": str(original.output_dir)}
    assert copy.output_dir == original.output_dir


@pytest.mark.parametrize("module", ["emosum_tui.core.rundir", "emosum_tui.commands.train_cmd"])
def test_console_side_imports_no_torch(module: str) -> None:
    code = f"import sys, {module}; heavy = {{'torch', 'transformers', 'datasets'}} & set(sys.modules); print(sorted(heavy))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"


def test_long_log_is_read_from_its_ends(tmp_path: Path) -> None:
    """A 145-hour run writes ~260k heartbeats; the Runs screen must not parse them all."""
    from emosum_tui.core.events import Heartbeat

    write_run(tmp_path, dead_pid(), state="finished", steps=0)
    writer = EventWriter(tmp_path / EVENTS_FILE)
    for step in range(1, 6001):
        writer.write(StepEnd(step=step, total_steps=6000, loss=1.0))
        writer.write(Heartbeat(step=step))
    writer.write(Done(reason="completed", steps=6000, train_loss=0.5))
    writer.close()
    assert (tmp_path / EVENTS_FILE).stat().st_size > 1_000_000
    started = time.perf_counter()
    run = read_run(tmp_path)
    assert time.perf_counter() - started < 0.5
    assert (run.status, run.steps, run.final_loss, run.preset) == ("finished", 6000, 0.5, "demo")
