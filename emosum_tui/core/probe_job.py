"""A probe subprocess: one `python -m <module>` run whose JSON-lines stdout is followed on a thread.

The console never imports torch, so anything that measures with torch runs in a probe
(`emosum_tui.probe.*`). The protocol is progress lines, then one result or one error line;
anything else a library prints on stdout is skipped.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emosum_tui.core.paths import cache_dir
from emosum_tui.core.priority import popen
from emosum_tui.i18n import N_
from emosum_tui.i18n.phrase import Translatable


@dataclass(frozen=True)
class ProbeProgress:
    """One progress line of a probe: `done` of `total` units of `what`."""

    what: str
    done: int = 0
    total: int = 0
    t: float = field(default_factory=time.time)


class ProbeJob:
    """Runs one probe module in a subprocess and follows its JSON-lines stdout on a thread.

    stderr goes to a file (an unread pipe can deadlock a chatty child). `cancel()` ends the
    process (TerminateProcess on Windows), never anything else.
    """

    def __init__(self, module: str, args: list[str], on_progress: Callable[[ProbeProgress], None] | None = None) -> None:
        self.module = module
        self.args = args
        self.on_progress = on_progress
        self.progress: ProbeProgress | None = None
        self.result: dict[str, Any] | None = None
        self.error: str | None = None
        self.cancelled = False
        self.ready_seconds: float | None = None  # spawn to "model built": the start-up a run pays
        self._process: subprocess.Popen[str] | None = None
        self._thread: threading.Thread | None = None
        self._started = 0.0
        self._stderr_path: Path | None = None

    def start(self) -> ProbeJob:
        cache_dir().mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix="probe-", suffix=".stderr.log", dir=cache_dir())
        os.close(handle)
        self._stderr_path = Path(name)
        env = dict(os.environ, PYTHONUNBUFFERED="1", TRANSFORMERS_VERBOSITY="error", HF_HUB_OFFLINE="1")
        self._started = time.perf_counter()
        with self._stderr_path.open("w", encoding="utf-8") as stderr:
            self._process = popen(  # normal priority: it times the machine, the console yields
                [sys.executable, "-m", self.module, *self.args],
                stdout=subprocess.PIPE,
                stderr=stderr,
                stdin=subprocess.DEVNULL,
                text=True,
                encoding="utf-8",
                env=env,
            )
        self._thread = threading.Thread(target=self._follow, name=f"probe-{self.module}", daemon=True)
        self._thread.start()
        return self

    def _follow(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        for line in self._process.stdout:
            try:
                body = json.loads(line)
            except ValueError:
                continue  # not ours (a library printing to stdout): skipped
            if not isinstance(body, dict):
                continue
            kind = body.get("kind")
            if kind == "progress":
                self.progress = ProbeProgress(str(body.get("what", "")), int(body.get("done", 0)), int(body.get("total", 0)))
                if body.get("what") == "model built" and self.ready_seconds is None:
                    self.ready_seconds = time.perf_counter() - self._started
                if self.on_progress is not None:
                    self.on_progress(self.progress)
            elif kind == "result":
                self.result = body
            elif kind == "error":
                self.error = str(body["message"]) if "message" in body else Translatable(N_("probe failed"))
        code = self._process.wait()
        if self.result is None and self.error is None:
            if self.cancelled:
                self.error = Translatable(N_("cancelled"))
            else:
                tail = self._stderr_path.read_text(encoding="utf-8", errors="replace")[-2000:] if self._stderr_path else ""
                self.error = Translatable(N_("probe exited with code {code}: {stderr}"), code=code, stderr=tail.strip())
        if self._stderr_path is not None and self.error is None:
            self._stderr_path.unlink(missing_ok=True)

    @property
    def done(self) -> bool:
        return self._thread is not None and not self._thread.is_alive()

    def wait(self, timeout: float | None = None) -> bool:
        """True when the probe has finished (result, error or cancelled)."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self.done

    def cancel(self) -> None:
        self.cancelled = True
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
