"""Control that works on Windows too: a stop file, and a lock on the output dir.

Stop: the console writes `<run_dir>/control/stop`; the trainer's callback sees it at the end of
an optimizer step. Lock: `<output_dir>/.emosum-trainer.lock` names the pid holding the output
dir, so a second trainer writing the same checkpoints is refused with a clear message. A lock
left by a dead process (SIGKILL, power cut) is taken over, never a reason to refuse forever.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from emosum_tui.core.rundir import pid_alive
from emosum_tui.trainer.health import OutputInUse

LOCK_FILE = ".emosum-trainer.lock"
LOCK_ATTEMPTS = 3  # a lock released or found dead between two looks is tried again, a few times


class OutputLock:
    """Exclusive use of one output dir by one trainer process."""

    def __init__(self, output_dir: Path, run_dir: Path) -> None:
        self.path = Path(output_dir) / LOCK_FILE
        self.run_dir = Path(run_dir)
        self.held = False

    def holder(self) -> dict | None:
        try:
            body = json.loads(self.path.read_text(encoding="utf-8"))
            return body if isinstance(body, dict) else {}
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return {}  # being written right now, or garbage: treat as held by someone unknown

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        body = json.dumps({"pid": os.getpid(), "run_dir": str(self.run_dir), "started": time.time()})
        for _ in range(LOCK_ATTEMPTS):
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                holder = self.holder()
                if holder is None:
                    continue  # released between our two looks
                if holder and not pid_alive(holder.get("pid"), holder.get("started")):
                    self.path.unlink(missing_ok=True)  # a dead trainer's lock
                    continue
                raise OutputInUse(
                    f"{self.path.parent} is in use by another trainer "
                    f"(pid {holder.get('pid', '?')}, run {holder.get('run_dir', '?')}); "
                    f"stop that run first, or set save.output_dir to another folder"
                ) from None
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(body)
            self.held = True
            return
        raise OutputInUse(f"{self.path}: could not take the output dir lock")

    def release(self) -> None:
        if self.held:
            self.path.unlink(missing_ok=True)
            self.held = False
