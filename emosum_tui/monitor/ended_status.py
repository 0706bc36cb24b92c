"""status.json as a watcher reads it once the trainer is gone without a readable `done`.

The trainer writes status.json after `done` and replaces it whole, so it still says how a run
ended whose last log line is corrupt (the step clock would otherwise call it dead). It is read
once per absence, not on every tick, and forgotten when the process is back (a resume) or a
`done` arrives.
"""

from __future__ import annotations

from pathlib import Path

from emosum_tui.core.rundir import RunStatus, read_status


class EndedStatus:
    """`EndedStatus(run_dir).when_gone(alive, done_seen)`: the status to judge a gone run by."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.status: RunStatus | None = None
        self.read = False

    def when_gone(self, alive: bool | None, done_seen: bool) -> RunStatus | None:
        if alive is not False or done_seen:
            self.status, self.read = None, False
            return None
        if not self.read:
            self.read = True
            self.status = read_status(self.run_dir)
        return self.status
