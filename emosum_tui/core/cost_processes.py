"""The cost of several trainer processes: each trains its own micro-batches, then every optimizer
step the gradients are averaged across them (a ring all-reduce) before the update.

The all-reduce moves 2 (N-1)/N times the gradient bytes through each process's link. DDP overlaps
part of it with the backward pass, so adding it whole is an upper bound; the link speeds are
assumptions, not measurements, and the basis says so. Torch-free.
"""

from __future__ import annotations

from dataclasses import dataclass

from emosum_tui.core.process_plan import AUTO, ProcessPlan, plan_processes
from emosum_tui.i18n import N_
from emosum_tui.i18n.phrase import Translatable

GRADIENT_BYTES_PER_PARAM = 4  # fp32 gradients (mixed precision keeps fp32 master weights and gradients)
GPU_LINK_BPS = 10e9  # PCIe 4.0 x16 as NCCL sees it without NVLink; NVLink is several times faster
CPU_LINK_BPS = 2e9  # gloo between processes of one machine (memory copies over loopback)


@dataclass(frozen=True)
class ProcessCost:
    """What the processes add to an optimizer step, and the plan they run."""

    plan: ProcessPlan
    allreduce_seconds: float
    basis: str
    shared_device: int = 1  # processes sharing one device's speed (a CPU's cores), so a step's compute is this many times longer


def priced_processes(value: int | str) -> tuple[int, str]:
    """How many processes an estimate prices: "auto" is one per GPU at start, unknown here, so one."""
    if value == AUTO:
        return 1, Translatable(N_('train.processes = "auto": priced as one process (the GPUs are counted when the run starts)'))
    return int(value), ""


def process_cost(value: int | str, batch_size: int, grad_accum: int, params: int, on_gpu: bool) -> ProcessCost:
    """The plan for `value` processes and the all-reduce seconds per optimizer step (0 for one process)."""
    processes, note = priced_processes(value)
    plan = plan_processes(batch_size, grad_accum, processes)
    if processes == 1:
        return ProcessCost(plan, 0.0, note or Translatable(N_("one process: no gradient all-reduce")))
    link = GPU_LINK_BPS if on_gpu else CPU_LINK_BPS
    moved = 2 * (processes - 1) / processes * params * GRADIENT_BYTES_PER_PARAM
    seconds = moved / link
    figures = {"plan": plan.note(), "gigabytes": f"{moved / 1e9:.2f}", "share": f"{processes - 1}/{processes}",
               "params": f"{params:,}", "link": f"{link / 1e9:g}", "seconds": f"{seconds:.3g}"}
    if on_gpu:
        basis = Translatable(N_("approximate: {plan}; per optimizer step a ring all-reduce moves {gigabytes} GB (2 x {share} x "
                                "{params} fp32 gradients) at an assumed {link} GB/s (PCIe, no NVLink) = {seconds} s, added whole "
                                "(DDP overlaps part of it with the backward pass)"), **figures)
    else:
        basis = Translatable(N_("approximate: {plan}; per optimizer step a ring all-reduce moves {gigabytes} GB (2 x {share} x "
                                "{params} fp32 gradients) at an assumed {link} GB/s (gloo between CPU processes) = {seconds} s, "
                                "added whole (DDP overlaps part of it with the backward pass); on a CPU the {processes} processes "
                                "share its cores, so each one's micro-batches take {processes}x as long"), **figures, processes=processes)
    return ProcessCost(plan, seconds, basis, shared_device=1 if on_gpu else processes)
