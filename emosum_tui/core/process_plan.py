"""How many trainer processes a run has, and what that does to its batch.

`train.processes = N` (or "auto": one per visible GPU, 1 on a machine without one) starts N
data-parallel processes through torchrun. Each process trains `batch_size` rows per micro-batch,
so N processes multiply the effective batch by N; where grad_accum divides by N it is divided,
which keeps the effective batch (and so the learning-rate schedule's meaning) as the preset
says. Where it does not, the effective batch grows, and the plan says so. Torch-free.
"""

from __future__ import annotations

from dataclasses import dataclass

from emosum_tui.i18n import N_, _
from emosum_tui.i18n.phrase import Translatable

AUTO = "auto"


def check_processes(value: object) -> str | None:
    """The preset check of `train.processes`: a positive integer or "auto"."""
    if value == AUTO or (isinstance(value, int) and not isinstance(value, bool) and value >= 1):
        return None
    return _('must be a positive integer or "auto"')


def processes_wanted(value: int | str, visible_gpus: int) -> int:
    """The number of processes `value` means on a machine with `visible_gpus` usable GPUs."""
    if value == AUTO:
        return max(1, visible_gpus)
    return max(1, int(value))


@dataclass(frozen=True)
class ProcessPlan:
    """A run's processes and per-process batch: what each rank trains, and the effective batch."""

    processes: int
    batch_size: int  # rows per micro-batch, per process
    grad_accum: int  # micro-batches per optimizer step, per process
    preset_grad_accum: int  # what the preset says, for one process

    @property
    def effective_batch(self) -> int:
        return self.batch_size * self.grad_accum * self.processes

    @property
    def preset_effective_batch(self) -> int:
        return self.batch_size * self.preset_grad_accum

    @property
    def kept(self) -> bool:
        return self.effective_batch == self.preset_effective_batch

    def note(self) -> str:
        """What the processes did to the batch, in one line ("" for one process); English (the
        trainer's warning, the estimate's basis), a Translatable where shown."""
        if self.processes == 1:
            return ""
        shape = Translatable(N_("{batch} x {accum} x {processes} processes = {effective}"), batch=self.batch_size,
                             accum=self.grad_accum, processes=self.processes, effective=self.effective_batch)
        if self.kept and self.grad_accum != self.preset_grad_accum:
            return Translatable(N_("{processes} processes: grad_accum {preset_accum} -> {accum} per process, effective batch "
                                   "kept ({shape})"), processes=self.processes, preset_accum=self.preset_grad_accum,
                                accum=self.grad_accum, shape=shape)
        if self.kept:
            return Translatable(N_("{processes} processes: effective batch {shape}"), processes=self.processes, shape=shape)
        return Translatable(N_("{processes} processes: grad_accum {preset_accum} does not divide by {processes}, so the "
                               "effective batch grows from {preset_batch} to {effective} ({shape}); fewer, larger steps: "
                               "consider the learning rate"), processes=self.processes, preset_accum=self.preset_grad_accum,
                            preset_batch=self.preset_effective_batch, effective=self.effective_batch, shape=shape)


def plan_processes(batch_size: int, grad_accum: int, processes: int) -> ProcessPlan:
    """Divide grad_accum among the processes where it divides; else keep it (the effective batch grows)."""
    per_process = grad_accum // processes if processes > 1 and grad_accum % processes == 0 else grad_accum
    return ProcessPlan(processes, batch_size, per_process, grad_accum)
