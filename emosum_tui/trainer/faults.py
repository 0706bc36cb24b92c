"""Test-only fault injection, driven by the `EMOSUM_FAULT` environment variable.

Real failures (a NaN loss, CUDA out of memory, a full disk, a frozen step) are hard to cause on
demand on a small CPU machine, so tests ask for them: `nan@3` makes the loss of optimizer step 3 NaN
(through the real backward pass), `oom@2` raises torch's CUDA out-of-memory error in step 2,
`sleep@3:8` sleeps 8 s inside step 3, `disk-full` (or `disk-full@4`) raises ENOSPC when the
checkpoint of step 4 (default: the first) is saved, `slow-loader@3:2` makes the training
collator (the real DataLoader's collate function, in the trainer process) take 2 s more for every
batch of step 3 and after (no step: from the start), `die-in-save@4` SIGKILLs the trainer inside
the save of step 4's checkpoint, after the weights and before the optimizer and trainer state
(the torn checkpoint a power cut or an OOM killer leaves). Several faults are joined with commas.
Unset, nothing here changes behaviour.
"""

from __future__ import annotations

import errno
import os
import signal
import time
from dataclasses import dataclass

ENV = "EMOSUM_FAULT"
KINDS = ("nan", "oom", "sleep", "disk-full", "slow-loader", "die-in-save")
DEFAULT_SLEEP_SECONDS = 5.0  # `sleep@3` without seconds


@dataclass(frozen=True)
class Fault:
    kind: str
    step: int | None = None  # the optimizer step (1-based) it fires in; None = first chance
    seconds: float = 0.0


def parse_faults(text: str | None) -> list[Fault]:
    """`"nan@3,sleep@2:5"` -> faults; a malformed entry is a ValueError naming it."""
    faults = []
    for item in (text or "").split(","):
        item = item.strip()
        if not item:
            continue
        kind, _, rest = item.partition("@")
        step_text, _, seconds_text = rest.partition(":")
        if kind not in KINDS:
            raise ValueError(f"{ENV}={text!r}: unknown fault {kind!r} (known: {', '.join(KINDS)})")
        try:
            step = int(step_text) if step_text else None
            seconds = float(seconds_text) if seconds_text else (DEFAULT_SLEEP_SECONDS if kind in ("sleep", "slow-loader") else 0.0)
        except ValueError:
            raise ValueError(f"{ENV}={text!r}: {item!r} is not KIND@STEP[:SECONDS]") from None
        faults.append(Fault(kind, step, seconds))
    return faults


class FaultPlan:
    """The faults of this process; the trainer asks it at the few places a fault can fire."""

    def __init__(self, faults: list[Fault]) -> None:
        self.faults = faults
        self.fired: set[Fault] = set()

    @classmethod
    def from_env(cls) -> FaultPlan:
        return cls(parse_faults(os.environ.get(ENV)))

    def _take(self, kind: str, step: int) -> Fault | None:
        for fault in self.faults:
            if fault.kind == kind and fault not in self.fired and (fault.step is None or fault.step == step):
                self.fired.add(fault)
                return fault
        return None

    def before_micro_batch(self, step: int) -> None:
        """Called at the start of every micro-batch of optimizer step `step` (1-based)."""
        sleep = self._take("sleep", step)
        if sleep:
            time.sleep(sleep.seconds)
        if self._take("oom", step):
            import torch

            raise torch.cuda.OutOfMemoryError(
                "CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 7.79 GiB total capacity) [injected by EMOSUM_FAULT]"
            )

    def loader_delay(self, step: int) -> float:
        """Seconds a training batch for optimizer step `step` (1-based) waits in the collator;
        a slow loader stays slow, so it fires for its step and every later one."""
        return sum(f.seconds for f in self.faults if f.kind == "slow-loader" and (f.step is None or step >= f.step))

    def slow_loader(self, step: int) -> None:
        delay = self.loader_delay(step)
        if delay > 0:
            time.sleep(delay)

    def poison_loss(self, step: int) -> bool:
        """True when this step's loss must become NaN."""
        return self._take("nan", step) is not None

    def before_save(self, step: int, path: str) -> None:
        if self._take("disk-full", step):
            raise OSError(errno.ENOSPC, "No space left on device [injected by EMOSUM_FAULT]", path)

    def inside_save(self, step: int) -> None:
        """Called in the middle of saving step `step`'s checkpoint: the weights are on disk, the rest is not."""
        if self._take("die-in-save", step):
            os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))  # SIGTERM ends a Windows process at once
            time.sleep(60)  # the signal lands before this returns: the save never carries on
