"""Signals that stop the trainer the way the console's stop file does: a checkpoint after this
step, `done(stopped)`, exit 0.

- SIGINT (Ctrl+C in the trainer's own terminal): the first is a stop request, a second aborts.
- SIGTERM (`kill`, systemd, Docker, a cluster's pre-emption notice), SIGBREAK on Windows
  (Ctrl+Break, `CTRL_BREAK_EVENT` to the trainer's process group, and the console window
  closing) and SIGHUP (the terminal closing): a stop request; a repeat changes nothing.
  A process manager's grace period is then what the step and the save need.

The handler only writes the stop file (`core.rundir.request_stop`), which the event callback reads
at the end of every optimizer step, so every way of stopping takes the same path. A signal that
was ignored when the trainer started (`nohup` ignores SIGHUP) stays ignored: that was the
caller's choice. Windows gives a closing console window about 5 s before it ends the process,
so there the last complete checkpoint, not a new one, is what `--resume` finds.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from emosum_tui.core.rundir import request_stop

# signal name -> who asked, as recorded in the stop file
STOP_SIGNALS = {"SIGTERM": "sigterm", "SIGBREAK": "ctrl-break", "SIGHUP": "terminal-closed"}


def _say(message: str) -> None:
    with contextlib.suppress(OSError, ValueError):  # the terminal that would show it may be gone (SIGHUP)
        print(message, file=sys.stderr, flush=True)


def install_stop_signals(run_dir: Path) -> Callable[[], None]:
    """Make Ctrl+C, SIGTERM, SIGBREAK and SIGHUP request a clean stop of the run in `run_dir`.

    Returns the function that puts the previous handlers back (a no-op off the main thread,
    where Python cannot install handlers)."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    run_dir = Path(run_dir)
    ctrl_c = {"count": 0}

    def on_ctrl_c(signum: int, frame: Any) -> None:
        ctrl_c["count"] += 1
        if ctrl_c["count"] > 1:
            raise KeyboardInterrupt
        request_stop(run_dir, by="ctrl-c")
        _say("stopping after this step with a checkpoint (Ctrl+C again to abort)")

    def on_stop_signal(signum: int, frame: Any) -> None:
        name = signal.Signals(signum).name
        request_stop(run_dir, by=STOP_SIGNALS.get(name, name.lower()))
        _say(f"{name}: stopping after this step with a checkpoint")

    previous: dict[signal.Signals, Any] = {signal.SIGINT: signal.signal(signal.SIGINT, on_ctrl_c)}
    for name in STOP_SIGNALS:
        number = getattr(signal, name, None)
        if number is None or signal.getsignal(number) == signal.SIG_IGN:
            continue
        previous[number] = signal.signal(number, on_stop_signal)

    def restore() -> None:
        for number, handler in previous.items():
            signal.signal(number, handler if handler is not None else signal.SIG_DFL)

    return restore
