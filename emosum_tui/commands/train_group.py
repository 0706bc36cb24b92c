"""`train --nproc N` (or `[train] processes`): the trainer as a torchrun group, watched from outside.

This process starts `python -m torch.distributed.run` in a session of its own with N ranks of
`emosum-tui train` on one run directory, and stays to supervise: Ctrl+C or SIGTERM here becomes
the run's stop file (rank 0 reads it and every rank stops at the same step, after a checkpoint);
each rank's heartbeat file says which process is which, so a rank that ends without a word is
seen, and named, when it happens. When the group ends badly the run's log gets the one line the
ranks could not write (`error: rank-lost`, `done: failed`), and no process of the group is left.

Single node: torchrun gets 127.0.0.1 and a free port. Several nodes: --nnodes, --node-rank,
--master-addr and --master-port pass through to torchrun, run the same command on every node;
node 0's rank 0 writes the run's log (put the run dir on a shared folder to see every rank's files).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from emosum_tui.commands.terminal_text import error
from emosum_tui.core.events import EVENTS_FILE, Done, Error, EventWriter, StepBegin, read_events
from emosum_tui.core.rank_beats import RankBeat, rank_files_dir, read_rank_beats
from emosum_tui.core.rundir import CONTROL_DIR, RunStatus, new_run_dir, pid_alive, read_status, write_status
from emosum_tui.i18n import N_, _
from emosum_tui.monitor.rank_watch import rank_ended

POLL_SECONDS = 0.2  # a lost rank is seen before torchrun has ended the others (it checks every 0.1 s)
LOCAL_ADDRESS = "127.0.0.1"
RANK_LOST = N_("rank {rank} (pid {pid}) ended without a word in step {step}: killed (SIGKILL, the out-of-memory killer, "
               "a lost node); torchrun stopped the other ranks")


def inside_group() -> bool:
    """True in a rank torchrun started: it trains, it does not launch again."""
    return "TORCHELASTIC_RUN_ID" in os.environ or "RANK" in os.environ


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOCAL_ADDRESS, 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Rendezvous:
    """Where the ranks meet: one node on this machine, or torchrun's multi-node options as given."""

    nnodes: int = 1
    node_rank: int = 0
    master_addr: str = ""
    master_port: int = 0

    def torchrun_options(self, nproc: int) -> list[str]:
        address = self.master_addr or LOCAL_ADDRESS
        port = self.master_port or free_port()
        return ["--nproc-per-node", str(nproc), "--nnodes", str(self.nnodes), "--node-rank", str(self.node_rank),
                "--master-addr", address, "--master-port", str(port)]


@dataclass(frozen=True)
class LostRank:
    """A rank whose process ended while its status still said it was running."""

    rank: int
    pid: int
    step: int  # the optimizer step it was in (its own log's last step begun), 0 before training
    t: float

    @property
    def message(self) -> str:
        """In English: the run's log keeps it."""
        return RANK_LOST.format(rank=self.rank, pid=self.pid, step=self.step)

    @property
    def shown(self) -> str:
        """In the interface's language, for the terminal."""
        return _(RANK_LOST).format(rank=self.rank, pid=self.pid, step=self.step)


def _step_of(run_dir: Path, rank: int) -> int:
    """The last optimizer step a rank began, from its own log (exact; its beat may be seconds old)."""
    begun = [e.step for e in read_events(rank_files_dir(run_dir, rank) / EVENTS_FILE) if isinstance(e, StepBegin)]
    return begun[-1] if begun else 0


def _alive(beat: RankBeat) -> bool:
    return pid_alive(beat.pid, beat.started)


class GroupSupervisor:
    """Runs one torchrun group to its end; `run()` returns torchrun's exit code."""

    def __init__(self, command: list[str], run_dir: Path) -> None:
        self.command = command
        self.run_dir = run_dir
        self.lost: LostRank | None = None
        self.members: dict[int, object] = {}  # pid -> psutil.Process, every process of the group seen

    def run(self) -> int:
        from emosum_tui.trainer.stop_signals import install_stop_signals

        kwargs: dict = {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP} if os.name == "nt" else {"start_new_session": True}
        process = subprocess.Popen(self.command, stdin=subprocess.DEVNULL, env={**os.environ, "PYTHONUNBUFFERED": "1", "EMOSUM_LANG": "en"}, **kwargs)
        restore = install_stop_signals(self.run_dir)  # Ctrl+C, SIGTERM: the stop file, so every rank stops at one step
        try:
            while process.poll() is None:
                self._look(process.pid)
                time.sleep(POLL_SECONDS)
            self._look(process.pid)
        except KeyboardInterrupt:  # a second Ctrl+C: abort
            process.terminate()
        finally:
            restore()
            code = self._wait(process)
            self._end_leftovers()
        if code != 0:
            self._record_failure(code)
        return code

    def _look(self, pid: int) -> None:
        """Note the group's processes and the first rank found gone while its status said it was running."""
        import psutil

        try:
            for proc in [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]:
                self.members.setdefault(proc.pid, proc)
        except psutil.Error:
            pass
        if self.lost is None:
            for beat in read_rank_beats(self.run_dir):
                if not _alive(beat) and not rank_ended(self.run_dir, beat.rank):
                    self.lost = LostRank(beat.rank, beat.pid, _step_of(self.run_dir, beat.rank), time.time())
                    error(self.lost.shown)
                    sys.stderr.flush()
                    break

    @staticmethod
    def _wait(process: subprocess.Popen) -> int:
        try:
            return process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            return process.wait()

    def _end_leftovers(self) -> None:
        """No process of the group outlives it (a rank stuck at a collective the others left)."""
        import psutil

        for proc in self.members.values():
            try:
                if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:  # type: ignore[attr-defined]
                    proc.kill()  # type: ignore[attr-defined]
            except psutil.Error:
                continue

    def _record_failure(self, code: int) -> None:
        """The run's log says how the group ended, when a rank could not say it itself."""
        events = read_events(self.run_dir / EVENTS_FILE)
        done = next((e for e in reversed(events) if isinstance(e, Done)), None)
        step = self.lost.step if self.lost else max((b.step for b in read_rank_beats(self.run_dir)), default=0)
        if self.lost is not None:
            error = Error(classification="rank-lost", type="RankLost", message=self.lost.message, step=step,
                          advice=[f"read {self.run_dir / 'ranks' / 'logs'} for rank {self.lost.rank}'s last output",
                                  "resume: emosum-tui train ... --resume continues from the last checkpoint"])
        elif done is None:
            error = Error(classification="other", type="ChildFailedError", message=f"torchrun ended with exit code {code}",
                          step=step, advice=[f"read {self.run_dir / 'ranks' / 'logs'} for each rank's output"])
        else:
            return  # rank 0 recorded why it ended
        writer = EventWriter(self.run_dir / EVENTS_FILE)
        try:
            writer.write(error)
            if done is None:
                writer.write(Done(reason="failed", steps=step))
        finally:
            writer.close()
        status = read_status(self.run_dir) or RunStatus(state="failed")
        status.state, status.phase, status.error, status.message = "failed", "done", error.classification, error.message
        write_status(self.run_dir, status)


def run_group(preset_ref: str, preset_name: str, run_dir: Path | None, headless: bool, resume: bool, nproc: int,
              rendezvous: Rendezvous) -> int:
    """Start `nproc` ranks on this node through torchrun and supervise them; the exit code of the group."""
    run_dir = Path(run_dir) if run_dir else new_run_dir(preset_name)
    (run_dir / CONTROL_DIR).mkdir(parents=True, exist_ok=True)
    logs = run_dir / "ranks" / "logs"
    command = [sys.executable, "-m", "torch.distributed.run", *rendezvous.torchrun_options(nproc), "--max-restarts", "0",
               "--log-dir", str(logs), "--tee", "3", "--local-ranks-filter", "0",
               "-m", "emosum_tui", "train", preset_ref, "--run-dir", str(run_dir.resolve())]
    command += ["--headless"] if headless else []
    command += ["--resume"] if resume else []
    print(_("run folder: {run_dir}  ({n} processes through torchrun; each rank's output in {logs})").format(
        run_dir=run_dir, n=nproc, logs=logs), flush=True)
    return GroupSupervisor(command, run_dir).run()


def add_group_arguments(parser: object) -> None:
    """`train`'s options for several processes; the multi-node ones pass through to torchrun."""
    parser.add_argument("--nproc", metavar="N", help=_('trainer processes through torchrun: N or "auto" (one per visible GPU); '
                                                       "default: the preset's train.processes"))  # type: ignore[attr-defined]
    group = parser.add_argument_group(  # type: ignore[attr-defined]
        _("multi-node (passed to torchrun; run the same command on every node)"))
    group.add_argument("--nnodes", type=int, default=1, help=_("number of machines"))
    group.add_argument("--node-rank", type=int, default=0, help=_("this machine's rank, 0 .. nnodes-1"))
    group.add_argument("--master-addr", default="", help=_("address of node 0 (default 127.0.0.1 on one node)"))
    group.add_argument("--master-port", type=int, default=0, help=_("port on node 0 (default: a free one on one node)"))


def launch_if_wanted(args: object, preset: object) -> int | None:
    """Run the trainer as a torchrun group when more than one process is asked for; None = train in this process."""
    from emosum_tui.core.process_plan import AUTO, check_processes, processes_wanted

    if inside_group():
        return None
    wanted = getattr(args, "nproc", None)
    value: int | str = preset["train.processes"] if wanted is None else (AUTO if wanted == AUTO else wanted)  # type: ignore[index]
    if isinstance(value, str) and value != AUTO:
        value = int(value) if value.isdigit() else value
    if check_processes(value) is not None:
        error(_('--nproc {value}: must be a positive integer or "auto"').format(value=wanted))
        return 2
    gpus = 0
    if value == AUTO:
        from emosum_tui.monitor.gpu_mapping import visible_gpu_count

        gpus = visible_gpu_count()
    nproc = processes_wanted(value, gpus)
    rendezvous = Rendezvous(args.nnodes, args.node_rank, args.master_addr, args.master_port)  # type: ignore[attr-defined]
    if nproc == 1 and rendezvous.nnodes == 1:
        return None
    return run_group(args.preset, preset.name, args.run_dir, args.headless, args.resume, nproc, rendezvous)  # type: ignore[attr-defined]
