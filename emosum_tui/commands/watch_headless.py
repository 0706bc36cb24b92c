"""`emosum-tui watch RUN --headless [--notify]`: follow a run with no screen, printing each change
of state; with `--notify`, alerts go out too (the bell, a desktop notification, the webhook of
`[alerts] webhook` or EMOSUM_WEBHOOK). Exits when the run ends: 0 finished or stopped, 1 failed
or dead, so `watch --headless && next-job` chains on a run that went well.
"""

from __future__ import annotations

import sys
from pathlib import Path

from emosum_tui.i18n import _


def ring_terminal() -> None:
    """The terminal bell, on stdout when it is a terminal (a log file gets no BEL bytes)."""
    if sys.stdout.isatty():
        sys.stdout.write("\a")
        sys.stdout.flush()


def run_headless(run_dir: Path, stall_after: float | None, notify: bool) -> int:
    from dataclasses import replace

    from emosum_tui.alerts.notifier import RunAlerts
    from emosum_tui.monitor.headless_watch import EXIT_CODES, HeadlessWatch
    from emosum_tui.ui.stall_threshold import policy_from_env, preset_stall_after

    policy = policy_from_env()
    if stall_after is not None:
        policy = replace(policy, stall_after=stall_after)
    elif policy.stall_after is None:
        policy = replace(policy, stall_after=preset_stall_after(run_dir))

    def echo(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    alerts = RunAlerts.for_run(run_dir, bell=ring_terminal, echo=echo) if notify else None
    stall = f"{policy.stall_after} s" if policy.stall_after else _("the automatic threshold")
    watching = _("watching {run_dir} (stalled after {stall}; alerts on)") if notify else \
        _("watching {run_dir} (stalled after {stall}; alerts off)")
    print(watching.format(run_dir=run_dir, stall=stall), flush=True)
    watch = HeadlessWatch(run_dir, policy, alerts=alerts, out=lambda line: print(line, flush=True))
    try:
        state = watch.run()
    except KeyboardInterrupt:
        watch.close()
        return 130
    return EXIT_CODES.get(state, 1)
