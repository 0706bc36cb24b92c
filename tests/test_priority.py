"""The console runs below normal priority and starts the trainer at normal priority (Linux here;
Windows uses priority classes, which this machine cannot run)."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

import pytest

from emosum_tui.core.events import EVENTS_FILE, RunStart, read_events
from emosum_tui.core.priority import CONSOLE_NICE
from emosum_tui.ui.screens.confirm_kill import kill_process_tree

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice values are Linux's")

CHECKOUT = Path(__file__).resolve().parents[1]

PROBE = """
import os, sys, threading
from emosum_tui.core import priority
said = priority.yield_to_trainers()
def nice(tid): return os.getpriority(os.PRIO_PROCESS, tid)
later = []
worker = threading.Thread(target=lambda: later.append(nice(threading.get_native_id())))
worker.start(); worker.join()
child = priority.popen([sys.executable, "-c", "import os; print(os.getpriority(os.PRIO_PROCESS, 0))"], stdout=-1, text=True)
print(repr(said), sorted(nice(int(t)) for t in os.listdir("/proc/self/task")), later[0], child.communicate()[0].strip())
"""


def run_probe(**env: str) -> str:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, cwd=CHECKOUT,
                          env={**os.environ, **env})
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def thread_nices(pid: int) -> list[int]:
    return sorted(os.getpriority(os.PRIO_PROCESS, int(tid)) for tid in os.listdir(f"/proc/{pid}/task"))


def test_yielding_lowers_every_thread_but_the_launcher_and_children_start_at_normal_priority():
    assert os.getpriority(os.PRIO_PROCESS, 0) == 0, "the test itself must run at normal priority"
    # the main thread lowered, the launcher kept; a thread started later inherits; the child is back at 0
    assert run_probe() == f"'nice {CONSOLE_NICE}' [0, {CONSOLE_NICE}] {CONSOLE_NICE} 0"
    assert run_probe(EMOSUM_CONSOLE_PRIORITY="normal") == "'' [0] 0 0"  # the opt-out leaves everything alone


def test_the_console_runs_below_normal_and_the_trainer_it_starts_at_normal_priority(home: Path):
    """`emosum-tui --preset demo --start` in a terminal, as a user runs it."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 160, 0, 0))
    console = subprocess.Popen([sys.executable, "-m", "emosum_tui", "--preset", "demo", "--start"], cwd=home,
                               env={**os.environ, "TERM": "xterm-256color", "HF_HUB_OFFLINE": "1"},
                               stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
    os.close(slave)
    threading.Thread(target=drain, args=(master,), daemon=True).start()  # a terminal reads what the app draws
    trainer_pid = None
    try:
        deadline = time.time() + 120
        while trainer_pid is None:
            assert console.poll() is None, "the console exited"
            assert time.time() < deadline, "no trainer started within 120 s"
            for events in (home / "runs").glob(f"*/{EVENTS_FILE}"):
                trainer_pid = next((e.pid for e in read_events(events) if isinstance(e, RunStart) and e.pid), None)
            time.sleep(0.2)
        console_threads = thread_nices(console.pid)
        assert console_threads.count(0) == 1 and len(console_threads) >= 3, console_threads  # the launcher alone
        assert all(n == CONSOLE_NICE for n in console_threads[1:]), console_threads  # the app's loop, writer, workers
        assert max(thread_nices(trainer_pid)) == 0, thread_nices(trainer_pid)  # every torch thread at normal priority
    finally:
        if trainer_pid is not None:
            kill_process_tree(trainer_pid)
        console.kill()
        console.wait(timeout=30)
        os.close(master)


def drain(fd: int) -> None:
    try:
        while os.read(fd, 65536):
            pass
    except OSError:
        return
