"""A trainer process's place in a torchrun group, and what the ranks must agree on at every step.

torchrun sets RANK, WORLD_SIZE and LOCAL_RANK; the Hugging Face Trainer then trains data-parallel.
What is ours: rank 0 alone writes the run's event log, status and output lock (the others write
under `ranks/rank-<n>/`, see `core.rank_beats`); every rank keeps a heartbeat file; and once per
optimizer step the ranks sum their step figures in one all-reduce, which carries rank 0's stop
decision too. So every rank stops at the same step (none waits forever at a collective the
others left), the logged loss is the mean over all ranks' rows (as one process with the same
effective batch would log it), and a NaN on any rank ends every rank at that step.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from emosum_tui.core.presets import Preset
from emosum_tui.core.process_plan import ProcessPlan, plan_processes
from emosum_tui.core.rank_beats import RankBeat, rank_files_dir, write_rank_beat
from emosum_tui.trainer.heartbeat import HEARTBEAT_SECONDS
from emosum_tui.trainer.reporter import Reporter
from emosum_tui.trainer.step_meter import StepTotals


@dataclass(frozen=True)
class RankInfo:
    """This process's rank; one process alone is rank 0 of 1."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @classmethod
    def from_env(cls) -> RankInfo:
        try:
            return cls(int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1)), int(os.environ.get("LOCAL_RANK", 0)))
        except ValueError:
            return cls()

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    def files_dir(self, run_dir: Path) -> Path:
        """Where this rank writes its events and status: the run dir itself for rank 0 alone."""
        return rank_files_dir(run_dir, self.rank)


class RankBeatThread:
    """Replaces `ranks/rank-<n>.json` every HEARTBEAT_SECONDS with this rank's step and phase."""

    def __init__(self, run_dir: Path, ranks: RankInfo, where: Callable[[], tuple[int, str]]) -> None:
        self.run_dir = Path(run_dir)
        self.ranks = ranks
        self.where = where
        self.started = time.time()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="emosum-rank-beat", daemon=True)

    def start(self) -> RankBeatThread:
        self.beat()
        self._thread.start()
        return self

    def beat(self) -> None:
        step, phase = self.where()
        with contextlib.suppress(OSError):  # a full disk: the main thread reports it; the beat tries again
            write_rank_beat(self.run_dir, RankBeat(self.ranks.rank, self.ranks.world_size, os.getpid(), socket.gethostname(),
                                                   step, phase, time.time(), self.started))

    def _run(self) -> None:
        while not self._stop.wait(HEARTBEAT_SECONDS):
            self.beat()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=HEARTBEAT_SECONDS * 2)
        self.beat()  # the last word: the step and phase it ended in


def agree_step(totals: StepTotals, stop_here: bool) -> tuple[StepTotals, bool]:
    """The step's figures over every rank (mean loss, summed rows and tokens) and rank 0's stop decision.

    One all-reduce of five numbers per optimizer step, on every rank (the Trainer calls `on_step_end`
    on each); without a process group it changes nothing."""
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return totals, stop_here
    import torch

    main = dist.get_rank() == 0
    known = totals.loss is not None
    figures = [totals.loss if known else 0.0, 1.0 if known else 0.0, float(totals.samples), float(totals.tokens),
               1.0 if (main and stop_here) else 0.0]
    backend = dist.get_backend()
    device = torch.device("cuda", torch.cuda.current_device()) if backend == "nccl" else torch.device("cpu")
    summed = torch.tensor(figures, dtype=torch.float64, device=device)
    dist.all_reduce(summed, op=dist.ReduceOp.SUM)
    loss_sum, counted, samples, tokens, stop = summed.tolist()
    loss = loss_sum / counted if counted else None
    return replace(totals, loss=loss, samples=int(samples), tokens=int(tokens)), stop > 0


def process_plan(preset: Preset, ranks: RankInfo | None = None) -> ProcessPlan:
    """The batch each rank trains: the preset's grad_accum divided among the ranks where it divides."""
    ranks = ranks or RankInfo.from_env()
    return plan_processes(preset["train.batch_size"], preset["train.grad_accum"], ranks.world_size)


def exit_on_group_teardown(reporter: Reporter) -> Callable[[], None]:
    """SIGTERM in a rank is torchrun tearing the group down (another rank failed, or the launcher
    gave up): say so in this rank's status, so the launcher does not blame this rank, and exit at
    once; a clean stop is the stop file's job. Returns what restores the previous handler."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def handler(signum: int, frame: object) -> None:
        with contextlib.suppress(Exception):
            reporter.status.state, reporter.status.message = "failed", "ended by torchrun (SIGTERM): the group was going down"
            reporter.save_status()
        os._exit(128 + signum)

    previous = signal.signal(signal.SIGTERM, handler)
    return lambda: signal.signal(signal.SIGTERM, previous)
