"""`emosum-tui watch RUN_DIR` as a user runs it: its own process, in a pseudo-terminal.

Its output is drained as a terminal would (a console that cannot write blocks, which no user's
terminal does); `drawn` counts the bytes it has drawn.
"""

from __future__ import annotations

import fcntl
import os
import pty
import signal
import struct
import subprocess
import sys
import termios
import threading
from pathlib import Path

COLUMNS, ROWS = 160, 50


class WatchConsole:
    """A `emosum-tui watch` process in a COLUMNS x ROWS pty, started in `cwd` with `env` (plus the terminal's)."""

    def __init__(self, run_dir: Path, env: dict[str, str], cwd: Path) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
        self.master, self.drawn = master, 0
        terminal = {"TERM": "xterm-256color", "COLUMNS": str(COLUMNS), "LINES": str(ROWS)}
        self.process = subprocess.Popen([sys.executable, "-m", "emosum_tui", "watch", str(run_dir)], cwd=cwd,
                                        env={**env, **terminal}, stdin=slave, stdout=slave, stderr=slave,
                                        start_new_session=True)
        os.close(slave)
        self.thread = threading.Thread(target=self._drain, daemon=True)
        self.thread.start()

    def _drain(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.drawn += len(chunk)

    def kill(self) -> None:
        """SIGKILL: the console dies as a closed terminal window or `kill -9` leaves it."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        os.close(self.master)

    def stop(self) -> tuple[bool, float]:
        """SIGTERM and reap: (whether it was still running, its CPU seconds, user + system, over its whole life)."""
        if self.process.poll() is not None:  # already reaped, and its CPU time with it
            os.close(self.master)
            return False, 0.0
        self.process.send_signal(signal.SIGTERM)
        _, status, usage = os.wait4(self.process.pid, 0)
        self.process.returncode = os.waitstatus_to_exitcode(status)
        os.close(self.master)
        return True, usage.ru_utime + usage.ru_stime
