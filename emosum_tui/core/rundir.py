"""The run directory: the one place a trainer and any number of consoles meet.

A run lives in `runs/<YYYYmmdd-HHMMSS>-<preset>/` and holds the preset as run, the environment
the trainer found, the append-only event log, the trainer's stdout/stderr, a `status.json`
that is only ever replaced whole (write a temp file, then `os.replace`), and `control/` where
a console drops a stop request. Everything is files, so a run outlives the console that
started it and reads the same on Linux, macOS and Windows.

`read_run` judges a run from the status file, the event log and whether the recorded process
is still alive: a status of "running" whose process is gone is a dead run (killed, crashed,
machine rebooted), whatever the file says. Torch-free: the console imports this.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from emosum_tui.core.atomic import write_bytes_atomic, write_json_atomic
from emosum_tui.core.events import EVENTS_FILE, Done, Error, Event, RunStart, StepEnd, TrainPlan, known_fields, parse_event
from emosum_tui.core.paths import WORKSPACE_VARIABLES, runs_dir, workspace
from emosum_tui.core.presets import Preset, dump_toml, load_preset
from emosum_tui.i18n import N_, _
from emosum_tui.i18n.phrase import Translatable

PRESET_FILE = "preset.toml"
ENVIRONMENT_FILE = "environment.json"
STATUS_FILE = "status.json"
STDOUT_FILE = "stdout.log"
STDERR_FILE = "stderr.log"
ESTIMATE_FILE = "estimate.json"
CONTROL_DIR = "control"
STOP_FILE = "stop"

# What a status file may say (written by the trainer) ...
STATES = ("starting", "running", "finished", "stopped", "failed")
# ... and what a reader concludes: "running" (alive, starting or training), "dead" (said running,
# but its process is gone), "unknown" (a folder with neither status nor events to go on).
RUN_STATES = ("running", "finished", "stopped", "failed", "dead", "unknown")


@dataclass
class RunStatus:
    """The trainer's own word on where it is; replaced whole on every change."""

    state: str = "starting"
    preset: str = ""
    preset_ref: str = ""  # what `train` was given (a name or a .toml path), as a reminder; a resume reads preset.toml
    pid: int = 0
    started: float = 0.0
    updated: float = 0.0
    phase: str = "starting"
    step: int = 0
    total_steps: int = 0
    output_dir: str = ""
    final_path: str | None = None
    error: str | None = None  # error classification when failed
    message: str = ""


@dataclass
class RunSummary:
    """A run as the Runs screen and `emosum-tui runs` show it."""

    run_dir: Path
    preset: str
    status: str  # one of RUN_STATES
    preset_ref: str = ""  # what the trainer was given; resume with `run_preset_file(run_dir)`
    steps: int = 0
    total_steps: int = 0
    final_loss: float | None = None
    started: float | None = None
    duration: float | None = None
    pid: int | None = None
    alive: bool = False
    output_dir: str = ""
    final_path: str | None = None
    phase: str = ""
    error: str | None = None
    message: str = ""
    last_event_t: float | None = None
    torn_tail: bool = False

    @property
    def name(self) -> str:
        return self.run_dir.name


# ---------------------------------------------------------------------------------------------
# Layout and writing (the trainer side uses these too).


def new_run_dir(preset_name: str, root: Path | None = None) -> Path:
    """A fresh, empty `runs/<timestamp>-<preset>/` (a suffix keeps two starts in one second apart)."""
    base = Path(root) if root is not None else runs_dir()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in preset_name) or "run"
    for attempt in range(1000):
        suffix = f"-{attempt + 1}" if attempt else ""
        path = base / f"{stamp}-{safe}{suffix}"
        try:
            path.mkdir(parents=True, exist_ok=False)
        except FileExistsError:
            continue
        (path / CONTROL_DIR).mkdir()
        return path
    raise FileExistsError(_("{folder}: could not create a new run folder for {preset}").format(folder=base, preset=preset_name))


def write_status(run_dir: Path, status: RunStatus) -> None:
    status.updated = time.time()
    write_json_atomic(Path(run_dir) / STATUS_FILE, asdict(status))


def read_status(run_dir: Path) -> RunStatus | None:
    """The status file, or None when it is missing or unreadable."""
    try:
        body = json.loads((Path(run_dir) / STATUS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(body, dict):
        return None
    try:
        return RunStatus(**known_fields(RunStatus, body))
    except TypeError:
        return None


# ---------------------------------------------------------------------------------------------
# Control: file-based, so the same on every OS (no POSIX signals).


def stop_file(run_dir: Path) -> Path:
    return Path(run_dir) / CONTROL_DIR / STOP_FILE


def request_stop(run_dir: Path, by: str = "console") -> Path:
    """Ask the trainer to finish its step, save a checkpoint and exit cleanly."""
    path = stop_file(run_dir)
    write_json_atomic(path, {"t": time.time(), "by": by})
    return path


def stop_requested(run_dir: Path) -> bool:
    return stop_file(run_dir).exists()


def clear_stale_stop_request(run_dir: Path, older_than: float) -> bool:
    """Set aside a stop request written before `older_than` (a resumed run's old request).

    A request written after the trainer process was born is kept: the console may ask a run to
    stop before the trainer has even finished importing torch.
    """
    path = stop_file(run_dir)
    try:
        body = json.loads(path.read_text(encoding="utf-8") or "{}")
        written = float(body.get("t", 0)) if isinstance(body, dict) else 0.0
    except FileNotFoundError:
        return False
    except (OSError, ValueError):
        written = path.stat().st_mtime
    if written >= older_than:
        return False
    path.replace(path.with_name(f"{STOP_FILE}.handled-{int(written)}"))
    return True


# ---------------------------------------------------------------------------------------------
# The preset as run: the file the trainer reads, written before it starts.

_AS_RUN_HEADER = re.compile(r"^# (?P<name>.+), as run \(chain: .*\)$")


def preset_as_run(preset: Preset) -> str:
    """The resolved preset as TOML, with its output dir made absolute so the file can be trained
    (and resumed) by itself: `emosum-tui train <run dir>/preset.toml --resume`. The first line
    names the preset, because a file called `preset.toml` cannot carry the name in its stem."""
    tables = preset.to_toml_dict()
    tables["save"]["output_dir"] = str(preset.output_dir)
    chain = " -> ".join(p.name for p in preset.chain)
    return f"# {preset.name}, as run (chain: {chain})\n" + dump_toml(tables)


def run_preset_file(run_dir: Path) -> Path:
    """Where a run keeps its preset as run (what a start and a resume hand the trainer)."""
    return Path(run_dir) / PRESET_FILE


def write_run_preset(run_dir: Path, preset: Preset) -> Path:
    """Write `run_dir/preset.toml` (replaced whole) and return its path."""
    path = run_preset_file(run_dir)
    write_bytes_atomic(path, preset_as_run(preset).encode("utf-8"))
    return path


def load_run_preset(name_or_path: str | Path) -> Preset:
    """`load_preset`, except that a preset-as-run file keeps the name its first line records
    (its stem is always "preset"). Raises PresetError like `load_preset`."""
    preset = load_preset(name_or_path)
    try:
        first = preset.path.read_text(encoding="utf-8").split("\n", 1)[0]
    except OSError:
        return preset
    header = _AS_RUN_HEADER.match(first)
    return replace(preset, name=header["name"]) if header else preset


# ---------------------------------------------------------------------------------------------
# Launching a trainer from the console.


def trainer_command(preset_file: Path, run_dir: Path, resume: bool = False) -> list[str]:
    """The trainer's command line; the preset file and the run dir are made absolute, because
    the trainer runs in the project root, not in the caller's folder."""
    preset = str(Path(preset_file).expanduser().resolve())
    command = [sys.executable, "-m", "emosum_tui", "train", preset, "--headless", "--run-dir", str(Path(run_dir).resolve())]
    return [*command, "--resume"] if resume else command


def launch_trainer(preset_file: Path, run_dir: Path, resume: bool = False, env: dict[str, str] | None = None) -> subprocess.Popen:
    """Start the trainer on `preset_file` (normally `write_run_preset`'s) as its own process,
    output to files in the run dir, detached.

    stdout and stderr go to `stdout.log` / `stderr.log` (appended, so a resume keeps the first
    part): never to a pipe that nobody drains. The process gets its own session (process group
    on Windows) so closing the console does not take the run down with it.
    """
    run_dir = Path(run_dir)
    (run_dir / CONTROL_DIR).mkdir(parents=True, exist_ok=True)
    environ = {**os.environ, **(env or {})}
    home = str(workspace(environ) if any(environ.get(name) for name in WORKSPACE_VARIABLES) else workspace())
    environ["EMOSUM_WORKSPACE"] = home  # the trainer reads the same presets/, data/ and model/
    environ.update(PYTHONUNBUFFERED="1", EMOSUM_LANG="en")  # the run's log, status and errors on disk stay English
    environ.setdefault("PYTHONIOENCODING", "utf-8")
    kwargs: dict[str, Any] = {}
    if os.name == "nt":
        kwargs["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP | getattr(subprocess, "CREATE_NO_WINDOW", 0)
    else:
        kwargs["start_new_session"] = True
    from emosum_tui.core.priority import popen

    with (run_dir / STDOUT_FILE).open("ab") as out, (run_dir / STDERR_FILE).open("ab") as err:
        return popen(  # normal priority, though the console yields (core.priority)
            trainer_command(preset_file, run_dir, resume),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            cwd=home,
            env=environ,
            **kwargs,
        )


# ---------------------------------------------------------------------------------------------
# Reading a run.


def pid_alive(pid: int | None, started: float | None = None) -> bool:
    """Is this process still running (and the same one: a reused pid started later is not)?"""
    if not pid:
        return False
    import psutil

    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return False
        # A pid reused by a process born after our run started is not our trainer.
        return not (started and process.create_time() > started + 2.0)
    except (psutil.NoSuchProcess, psutil.AccessDenied, ProcessLookupError):
        return False


def _judge(status: RunStatus | None, done: Done | None, error: Error | None, alive: bool, has_start: bool) -> str:
    """What a reader can trust: the done event first, then the status file, then the process."""
    if done is not None:
        return {"completed": "finished", "stopped": "stopped"}.get(done.reason, "failed")
    if status is not None and status.state in ("finished", "stopped", "failed"):
        return status.state
    if error is not None and not alive:
        return "failed"
    if alive:
        return "running"  # starting or training: `RunSummary.phase` says which
    if status is not None or has_start:
        return "dead"
    return "unknown"


def read_run(run_dir: Path) -> RunSummary:
    """Judge one run: live, finished, stopped, failed or dead (process gone without a word)."""
    run_dir = Path(run_dir)
    status = read_status(run_dir)
    events_path = run_dir / EVENTS_FILE
    events = _tail_events(events_path)
    start = next((e for e in reversed(events) if isinstance(e, RunStart)), None)
    first = _head_events(events_path)
    if start is None:  # a long log: the (only) start is near the top
        start = next((e for e in first if isinstance(e, RunStart)), None)
    plan = next((e for e in reversed(events) if isinstance(e, TrainPlan)), None)
    last_step = next((e for e in reversed(events) if isinstance(e, StepEnd)), None)
    done = next((e for e in reversed(events) if isinstance(e, Done)), None)
    error = next((e for e in reversed(events) if isinstance(e, Error)), None)
    if done is not None and start is not None and done.seq < start.seq:
        done = None  # a resumed run: the earlier `done(stopped)` is history
    if error is not None and start is not None and error.seq < start.seq:
        error = None
    pid = status.pid if status and status.pid else (start.pid if start else None)
    started = status.started if status and status.started else (first[0].t if first else None)
    alive = pid_alive(pid, started) if (done is None and (status is None or status.state in ("starting", "running"))) else False
    state = _judge(status, done, error, alive, start is not None)
    last_t = events[-1].t if events else None
    end_t = done.t if done else (status.updated if status and not alive else None) or last_t
    preset = (status.preset if status else "") or (start.preset if start else "") or run_dir.name.split("-", 2)[-1]
    steps = max(last_step.step if last_step else 0, status.step if status else 0)
    total = (plan.total_steps if plan else 0) or (status.total_steps if status else 0)
    message = error.message if error else (status.message if status else "")
    if state == "dead" and not message:
        message = Translatable(N_("process {pid} is gone without writing 'done' (killed, crashed or the machine restarted)"), pid=pid)
    return RunSummary(
        run_dir=run_dir,
        preset=preset,
        status=state,
        preset_ref=(status.preset_ref if status else "") or preset,
        steps=steps,
        total_steps=total,
        final_loss=(done.train_loss if done and done.train_loss is not None else (last_step.loss if last_step else None)),
        started=started,
        duration=(time.time() - started if alive else (end_t - started if end_t else None)) if started else None,
        pid=pid,
        alive=alive,
        output_dir=(status.output_dir if status else "") or (start.output_dir if start else ""),
        final_path=(done.final_path if done else None) or (status.final_path if status else None),
        phase=status.phase if status else "",
        error=(error.classification if error else (status.error if status else None)),
        message=message,
        last_event_t=last_t,
        torn_tail=_torn(events_path),
    )


TAIL_BYTES = 256 * 1024
HEAD_BYTES = 64 * 1024


def _parse_chunk(chunk: bytes, from_middle: bool) -> list[Event]:
    lines = chunk.split(b"\n")
    lines = lines[1:-1] if from_middle else lines[:-1]  # a cut first line; the last is partial or empty
    return [e for e in (parse_event(raw.decode("utf-8", errors="replace")) for raw in lines) if e is not None]


def _tail_events(path: Path, size: int = TAIL_BYTES) -> list[Event]:
    """The complete events in the last `size` bytes of a log: everything `read_run` needs from a
    long run (its last step, done, error, and any later start) without parsing hours of heartbeats."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            length = handle.tell()
            handle.seek(max(0, length - size))
            return _parse_chunk(handle.read(), from_middle=length > size)
    except OSError:
        return []


def _head_events(path: Path, size: int = HEAD_BYTES) -> list[Event]:
    try:
        with path.open("rb") as handle:
            return _parse_chunk(handle.read(size), from_middle=False)
    except OSError:
        return []


def _torn(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            if handle.tell() == 0:
                return False
            handle.seek(-1, os.SEEK_END)
            return handle.read(1) != b"\n"
    except OSError:
        return False


def is_run_dir(path: Path) -> bool:
    return path.is_dir() and any((path / name).exists() for name in (STATUS_FILE, EVENTS_FILE, PRESET_FILE))


def list_runs(root: Path | None = None) -> list[RunSummary]:
    """Every run under `runs/` (or `root`), newest first."""
    base = Path(root) if root is not None else runs_dir()
    if not base.is_dir():
        return []
    return [read_run(path) for path in sorted(base.iterdir(), key=lambda p: p.name, reverse=True) if is_run_dir(path)]
