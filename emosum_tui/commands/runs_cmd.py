"""`emosum-tui runs`: the runs under runs/ as a table (the runs screen, for a shell)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from emosum_tui.i18n import _


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("runs", help=_("list runs: preset, status, steps, final loss, duration"))
    parser.add_argument("--root", type=Path, help=_("folder holding the runs (default: runs/ of the project)"))
    parser.set_defaults(handler=run)


def runs_table(root: Path | None = None) -> str:
    from rich.console import Console
    from rich.table import Table

    from emosum_tui.core.paths import runs_dir
    from emosum_tui.core.rundir import list_runs
    from emosum_tui.ui.screens.runs import RUN_COLUMNS, run_row

    runs = list_runs(root)
    if not runs:
        return _("no runs in {folder} yet (start one: emosum-tui train demo)").format(folder=root or runs_dir())
    table = Table(box=None, pad_edge=False)
    for column in RUN_COLUMNS:
        table.add_column(_(column), no_wrap=column in ("run", "status"))  # the runs screen marks the column names
    for summary in runs:
        table.add_row(*run_row(summary))
    console = Console(width=200, record=True, force_terminal=False, color_system=None)
    with console.capture() as capture:
        console.print(table)
    return capture.get().rstrip()


def run(args: argparse.Namespace) -> int:
    print(runs_table(args.root))
    return 0
