"""The console yields the CPU to the work it starts: below-normal priority for itself, normal for
the trainer, the calibration and the probes.

Where the trainer keeps every core busy (torch on a CPU uses them all), each slice the console
takes stalls a training step, and by more than its own share: torch's threads meet at a barrier
after each operation, so one descheduled thread keeps the others waiting (`bench_overhead`
measures it; the README has the figures). At below-normal priority the trainer's threads run
first, and the console still gets the few percent of a core it needs (a nice-10 thread loses the CPU to a busy one, not to an
idle one).

A child inherits its parent's priority, and an unprivileged process cannot raise it again, so the
processes the console starts are spawned at normal priority: on Windows with
`NORMAL_PRIORITY_CLASS`; on Linux, where the nice value belongs to each thread, from one thread
kept at normal priority that does nothing else. Elsewhere (macOS: one nice value for the whole
process, no way back for its children) the console keeps normal priority.

What priority cannot do: lower the CPU the console takes. A trainer that keeps every core busy
loses what the console runs, whatever its priority (`bench_overhead`'s kernel accounting); priority
only decides when. And on Linux with autogroup scheduling (`/proc/sys/kernel/sched_autogroup_enabled`,
on by default in many desktop kernels) nice values rank threads only within one session: the
trainer runs in a session of its own (`rundir.launch_trainer`), so there the console's nice 10
does not rank it below the trainer at all. Windows has no such groups.

`EMOSUM_CONSOLE_PRIORITY=normal` keeps the console at normal priority (and is how the overhead
bench measures the difference).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

CONSOLE_NICE = 10  # `nice`'s own default step; Windows: BELOW_NORMAL_PRIORITY_CLASS
PRIORITY_ENV = "EMOSUM_CONSOLE_PRIORITY"

_launcher: ThreadPoolExecutor | None = None  # Linux: the one thread left at normal priority


def yield_to_trainers() -> str:
    """Lower this process (the console) below normal priority; what was done, in words ("" for
    nothing). Call it first thing, before other threads start: later threads inherit it."""
    global _launcher
    if os.environ.get(PRIORITY_ENV, "").lower() == "normal":
        return ""
    if os.name == "nt":
        import psutil

        psutil.Process().nice(psutil.BELOW_NORMAL_PRIORITY_CLASS)
        return "below normal"
    if not sys.platform.startswith("linux") or _launcher is not None:
        return ""
    launcher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="emosum-launcher")
    kept = launcher.submit(threading.get_native_id).result()  # the thread exists, at normal priority
    for task in os.listdir("/proc/self/task"):  # every thread's id (without importing psutil: the first frame waits for it)
        if int(task) != kept:
            current = os.getpriority(os.PRIO_PROCESS, int(task))
            os.setpriority(os.PRIO_PROCESS, int(task), max(current, CONSOLE_NICE))
    _launcher = launcher
    return f"nice {CONSOLE_NICE}"


def popen(args: list[str], **kwargs: Any) -> subprocess.Popen:
    """`subprocess.Popen` at normal priority, whatever the console's own."""
    if os.name == "nt":
        kwargs["creationflags"] = kwargs.get("creationflags", 0) | subprocess.NORMAL_PRIORITY_CLASS
    if _launcher is None:
        return subprocess.Popen(args, **kwargs)
    return _launcher.submit(subprocess.Popen, args, **kwargs).result()
