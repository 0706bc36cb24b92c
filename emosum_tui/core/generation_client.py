"""The console's side of the generation worker: start it, send sources, read typed events.

`GenerationClient` starts `python -m emosum_tui.generation.worker` with this interpreter (at
normal priority, like the calibration probe), writes requests to its stdin and follows its
JSON-lines stdout on a thread that turns every line into a dataclass event on a queue: a UI
polls `poll()` from a timer, a command blocks on `events()`. The worker's stderr goes to a file
(its tail explains a crash), never to a pipe nobody reads: a chatty child would block on it.
A line that is not the protocol is skipped. `close()` asks the worker to quit, then terminates
and finally kills it, so no worker outlives its client. Torch-free.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emosum_tui.core.paths import cache_dir
from emosum_tui.core.priority import popen
from emosum_tui.i18n import _

WORKER_MODULE = "emosum_tui.generation.worker"


@dataclass(frozen=True)
class Ready:
    """The model is loaded: where, on what device, and with which generation settings."""

    model: str
    device: str
    dtype: str
    max_new_tokens: int
    num_beams: int
    batch_size: int
    max_source_tokens: int
    seconds: float  # spawn to loaded, as the worker measured it


@dataclass(frozen=True)
class Token:
    """A finished piece of a streamed answer (a word or a CJK character, with its spacing)."""

    id: Any
    text: str


@dataclass(frozen=True)
class Prediction:
    """The whole answer to one request."""

    id: Any
    prediction: str
    tokens: int = 0
    seconds: float = 0.0


@dataclass(frozen=True)
class WorkerError:
    """A bad request line, a failed generation (with its id), or a model that did not load (fatal)."""

    message: str
    id: Any = None
    line: int | None = None
    fatal: bool = False


@dataclass(frozen=True)
class WorkerExited:
    """The worker is gone; the last event there will be. `stderr_tail` explains an unexpected end."""

    code: int
    stderr_tail: str = ""


GenerationEvent = Ready | Token | Prediction | WorkerError | WorkerExited


def parse_event(line: str) -> GenerationEvent | None:
    """One stdout line as an event; None for anything else (a library's stray print)."""
    try:
        body = json.loads(line)
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    kind = body.get("type")
    try:
        if kind == "token":
            return Token(body.get("id"), str(body["text"]))
        if kind == "prediction":
            return Prediction(body.get("id"), str(body["prediction"]), int(body.get("tokens", 0)), float(body.get("seconds", 0.0)))
        if kind == "error":
            line_number = body.get("line")
            return WorkerError(str(body.get("message", "error")), body.get("id"),
                               line_number if isinstance(line_number, int) else None, bool(body.get("fatal", False)))
        if kind == "ready":
            return Ready(str(body["model"]), str(body["device"]), str(body.get("dtype", "")), int(body["max_new_tokens"]),
                         int(body["num_beams"]), int(body["batch_size"]), int(body["max_source_tokens"]),
                         float(body.get("seconds", 0.0)))
    except (KeyError, TypeError, ValueError):
        return None
    return None


class GenerationFailed(RuntimeError):
    """The worker ended or refused before it was ready; the message says why."""


class GenerationClient:
    """One generation worker on one model folder.

    Use: `with GenerationClient(model_dir).start() as client: client.wait_ready(); client.send(text, id=1)`
    then read `client.events()` (blocking) or `client.poll()` (from a UI timer) until the
    prediction with that id arrives.
    """

    def __init__(self, model_dir: str | Path, *, max_new_tokens: int | None = None, num_beams: int = 1,
                 batch_size: int = 1, max_source_tokens: int | None = None, device: str = "auto",
                 stderr_path: Path | None = None, env: dict[str, str] | None = None) -> None:
        self.model_dir = Path(model_dir)
        self.options = {"--max-new-tokens": max_new_tokens, "--num-beams": num_beams, "--batch-size": batch_size,
                        "--max-source-tokens": max_source_tokens, "--device": device}
        self.stderr_path = stderr_path
        self.env = env
        self.ready: Ready | None = None
        self.exited: WorkerExited | None = None
        self._own_stderr = False
        self._events: queue.Queue[GenerationEvent] = queue.Queue()
        self._ids = itertools.count(1)
        self._process: subprocess.Popen[str] | None = None
        self._thread: threading.Thread | None = None
        self._write_lock = threading.Lock()

    def command(self) -> list[str]:
        args = [sys.executable, "-m", WORKER_MODULE, str(self.model_dir)]
        for flag, value in self.options.items():
            if value is not None:
                args += [flag, str(value)]
        return args

    def start(self) -> GenerationClient:
        if self.stderr_path is None:
            cache_dir().mkdir(parents=True, exist_ok=True)
            handle, name = tempfile.mkstemp(prefix="generation-", suffix=".stderr.log", dir=cache_dir())
            os.close(handle)
            self.stderr_path, self._own_stderr = Path(name), True
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONIOENCODING": "utf-8", "TRANSFORMERS_VERBOSITY": "error",
               "HF_HUB_OFFLINE": "1", **(self.env or {})}
        with self.stderr_path.open("a", encoding="utf-8") as stderr:
            self._process = popen(  # normal priority, though the console yields (core.priority)
                self.command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr,
                text=True, encoding="utf-8", errors="replace", env=env, bufsize=1,
            )
        self._thread = threading.Thread(target=self._follow, name="generation-worker", daemon=True)
        self._thread.start()
        return self

    def _follow(self) -> None:
        process = self._process
        assert process is not None and process.stdout is not None
        for line in process.stdout:
            event = parse_event(line)
            if event is None:
                continue
            if isinstance(event, Ready):
                self.ready = event
            self._events.put(event)
        code = process.wait()
        self.exited = WorkerExited(code, self._stderr_tail() if code else "")
        self._events.put(self.exited)
        if code == 0 and self._own_stderr and self.stderr_path is not None:
            self.stderr_path.unlink(missing_ok=True)

    def _stderr_tail(self, size: int = 2000) -> str:
        try:
            return self.stderr_path.read_text(encoding="utf-8", errors="replace")[-size:].strip() if self.stderr_path else ""
        except OSError:
            return ""

    # -- requests ----------------------------------------------------------------------------

    def send_line(self, line: str) -> None:
        """Write one raw protocol line (tests use it for bad input); a dead worker is not an error here."""
        process = self._process
        if process is None or process.stdin is None:
            raise RuntimeError("the worker is not started")
        with self._write_lock:
            try:
                process.stdin.write(line.rstrip("\n") + "\n")
                process.stdin.flush()
            except (BrokenPipeError, OSError, ValueError):
                pass  # the worker is gone: its WorkerExited event says so

    def send(self, source: str, id: Any = None, stream: bool = False) -> Any:
        """Ask for one prediction; returns its id (a counter unless given)."""
        request_id = next(self._ids) if id is None else id
        self.send_line(json.dumps({"id": request_id, "source": source, "stream": stream}))
        return request_id

    def finish_input(self) -> None:
        """No more requests: the worker answers what it has, then exits."""
        process = self._process
        if process is not None and process.stdin is not None:
            with self._write_lock, contextlib.suppress(OSError):
                process.stdin.close()

    # -- events ------------------------------------------------------------------------------

    def poll(self) -> list[GenerationEvent]:
        """Every event that has arrived, without waiting."""
        found: list[GenerationEvent] = []
        while True:
            try:
                found.append(self._events.get_nowait())
            except queue.Empty:
                return found

    def next_event(self, timeout: float | None = None) -> GenerationEvent | None:
        """The next event, or None after `timeout` seconds."""
        try:
            return self._events.get(timeout=timeout)
        except queue.Empty:
            return None

    def events(self, timeout: float | None = None) -> Iterator[GenerationEvent]:
        """Events as they arrive, up to and including WorkerExited (or until `timeout` passes between two)."""
        while True:
            event = self.next_event(timeout)
            if event is None:
                return
            yield event
            if isinstance(event, WorkerExited):
                return

    def wait_ready(self, timeout: float | None = 300.0) -> Ready:
        """Block until the model is loaded; GenerationFailed if the worker refuses, dies or takes too long.
        Events that come before Ready (none, normally) are dropped."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            event = self.next_event(left)
            if isinstance(event, Ready):
                return event
            if isinstance(event, WorkerError) and event.fatal:
                raise GenerationFailed(event.message)
            if isinstance(event, WorkerExited):
                raise GenerationFailed(_("the generation worker exited with code {code}: {stderr}").format(
                    code=event.code, stderr=event.stderr_tail))
            if event is None:
                raise GenerationFailed(_("the generation worker was not ready after {seconds} s").format(
                    seconds=f"{timeout:.0f}"))

    # -- ending ------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def close(self, timeout: float = 10.0) -> None:
        """Ask the worker to finish (stdin closed), then terminate, then kill: it never outlives us."""
        process = self._process
        if process is None:
            return
        self.finish_input()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        if self._thread is not None:
            self._thread.join(5)

    def kill(self) -> None:
        """End the worker now (TerminateProcess on Windows), whatever it is doing."""
        process = self._process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)

    def __enter__(self) -> GenerationClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
