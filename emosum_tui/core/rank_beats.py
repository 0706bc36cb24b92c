"""Every trainer process of a multi-process run keeps a small heartbeat file, so the console can
tell which rank went silent.

Rank 0 alone writes the run's event log and status; ranks 1+ write `ranks/rank-<n>.json`
(and rank 0 too, so every rank reads the same way), replaced whole every few seconds from a
thread, with the step it is in. A rank whose file stops changing, or whose process is gone,
is "silent": the rest of the group will wait for it at the next collective. Torch-free.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from emosum_tui.core.atomic import write_json_atomic
from emosum_tui.core.run_facts import from_dict
from emosum_tui.i18n import N_
from emosum_tui.i18n.phrase import Translatable

RANKS_DIR = "ranks"
SILENT_SECONDS = 15.0  # as the step clock's frozen threshold: a beat comes every 2 s


@dataclass(frozen=True)
class RankBeat:
    """One rank at one moment."""

    rank: int = 0
    world_size: int = 1
    pid: int = 0
    host: str = ""
    step: int = 0
    phase: str = ""
    t: float = 0.0  # time.time() of this beat
    started: float = 0.0  # the process's start, for a pid that may be reused


def beat_path(run_dir: Path, rank: int) -> Path:
    return Path(run_dir) / RANKS_DIR / f"rank-{rank}.json"


def rank_files_dir(run_dir: Path, rank: int) -> Path:
    """Where rank `rank` keeps its own log and status: the run dir for rank 0, `ranks/rank-<n>/` for the others."""
    return Path(run_dir) if rank == 0 else Path(run_dir) / RANKS_DIR / f"rank-{rank}"


def write_rank_beat(run_dir: Path, beat: RankBeat) -> None:
    write_json_atomic(beat_path(run_dir, beat.rank), asdict(beat))


def read_rank_beats(run_dir: Path) -> list[RankBeat]:
    """Every rank's last beat, by rank; a file being replaced or torn is skipped until the next read."""
    beats = []
    for path in sorted((Path(run_dir) / RANKS_DIR).glob("rank-*.json")):
        try:
            beats.append(from_dict(RankBeat, json.loads(path.read_text(encoding="utf-8"))))
        except (OSError, ValueError, TypeError):
            continue
    return sorted(beats, key=lambda b: b.rank)


@dataclass(frozen=True)
class SilentRank:
    rank: int
    pid: int
    step: int
    seconds: float  # since its last beat
    gone: bool  # its process is no longer running

    @property
    def text(self) -> str:
        """English (a Warn event's message); a Translatable, `shown()` where drawn."""
        if self.gone:
            return Translatable(N_("rank {rank} silent: its process (pid {pid}) is gone, last seen at step {step}"),
                                rank=self.rank, pid=self.pid, step=self.step)
        return Translatable(N_("rank {rank} silent: no heartbeat for {seconds} s, last seen at step {step}"),
                            rank=self.rank, seconds=f"{self.seconds:.0f}", step=self.step)


def silent_ranks(beats: list[RankBeat], alive: Callable[[RankBeat], bool], now: float | None = None,
                 after: float = SILENT_SECONDS) -> list[SilentRank]:
    """The ranks whose beats stopped `after` seconds ago or whose process is gone."""
    now = time.time() if now is None else now
    silent = []
    for beat in beats:
        gone = not alive(beat)
        if gone or now - beat.t > after:
            silent.append(SilentRank(beat.rank, beat.pid, beat.step, max(0.0, now - beat.t), gone))
    return silent
