"""`emosum-tui watch RUN_DIR`: attach the console to a run, live or finished.

RUN_DIR is a run directory, a run's name under runs/, or `latest`. The training screen reads the
run's whole event log first (the history so far), then follows it. Watching never changes the
run: quitting leaves it running.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from emosum_tui.commands.terminal_text import error
from emosum_tui.i18n import _

STALL_ENV = "EMOSUM_STALL_AFTER"  # read by the training screen: an explicit "stalled" threshold, seconds


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("watch", help=_("attach the console to a run directory (live or finished)"))
    parser.add_argument("run_dir", metavar="RUN_DIR", help=_("run directory, a run name under runs/, or 'latest'"))
    parser.add_argument("--stall-after", type=float, metavar="SECONDS", help=_("call a step stalled after this many seconds"))
    parser.add_argument("--headless", action="store_true",
                        help=_("no screen: print each change of state, exit when the run ends"))
    parser.add_argument("--notify", action="store_true",
                        help=_("with --headless: alerts by bell, desktop and webhook ([alerts] webhook or EMOSUM_WEBHOOK)"))
    parser.set_defaults(handler=run)


def resolve_run_dir(ref: str) -> Path | str:
    """The run directory for a path, a name under runs/ or 'latest'; else an error message."""
    from emosum_tui.core.paths import runs_dir
    from emosum_tui.core.rundir import is_run_dir, list_runs

    if ref == "latest":
        runs = list_runs()
        return runs[0].run_dir if runs else _("no runs in {folder} yet").format(folder=runs_dir())
    for candidate in (Path(ref), runs_dir() / ref):
        if is_run_dir(candidate):
            return candidate.resolve()
    if Path(ref).is_dir():
        return _("{path}: not a run directory (no events.jsonl, status.json or preset.toml in it)").format(path=ref)
    return _("{path}: no such run directory (nor a run named so in {folder})").format(path=ref, folder=runs_dir())


def run(args: argparse.Namespace) -> int:
    found = resolve_run_dir(args.run_dir)
    if isinstance(found, str):
        error(found)
        return 2
    if args.stall_after is not None:
        if args.stall_after <= 0:
            error(_("--stall-after {value}: must be a positive number of seconds").format(value=args.stall_after))
            return 2
        os.environ[STALL_ENV] = str(args.stall_after)
    if args.headless:
        from emosum_tui.commands.watch_headless import run_headless

        return run_headless(Path(found), args.stall_after, args.notify)
    from emosum_tui.core.priority import yield_to_trainers
    from emosum_tui.ui.app import EmosumApp

    yield_to_trainers()
    return int(EmosumApp(watch=found).run() or 0)
