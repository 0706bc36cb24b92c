"""Which rank of a multi-process run went silent, as news: each silent rank once, until it beats again.

Reads `ranks/rank-<n>.json` (see `core.rank_beats`) at most every READ_SECONDS. A rank whose own
status says it ended (finished, stopped, failed) is not silent, it is done. Torch-free.
"""

from __future__ import annotations

import time
from pathlib import Path

from emosum_tui.core.rank_beats import RankBeat, SilentRank, rank_files_dir, read_rank_beats, silent_ranks
from emosum_tui.core.rundir import pid_alive, read_status

READ_SECONDS = 2.0
ENDED_STATES = ("finished", "stopped", "failed")


def rank_ended(run_dir: Path, rank: int) -> bool:
    """Whether a rank's own status says its process ended by itself."""
    status = read_status(rank_files_dir(run_dir, rank))
    return status is not None and status.state in ENDED_STATES


class RankWatch:
    """`news()` returns the ranks that went silent since the last call (an empty list most of the time)."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = Path(run_dir)
        self.next_read = float("-inf")
        self.said: set[int] = set()

    def news(self, now: float | None = None) -> list[SilentRank]:
        now = time.monotonic() if now is None else now
        if now < self.next_read:
            return []
        self.next_read = now + READ_SECONDS
        beats = read_rank_beats(self.run_dir)
        if len(beats) < 2:
            return []  # one process: the step clock's frozen and dead alarms say it
        silent = [s for s in silent_ranks(beats, self._alive) if not rank_ended(self.run_dir, s.rank)]
        fresh = [s for s in silent if s.rank not in self.said]
        self.said = {s.rank for s in silent}
        return fresh

    @staticmethod
    def _alive(beat: RankBeat) -> bool:
        return pid_alive(beat.pid, beat.started)
