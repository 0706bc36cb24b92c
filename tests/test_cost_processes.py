"""The estimate with N processes: per-device batch, steps, and a gradient all-reduce term."""

from __future__ import annotations

import pytest

from emosum_tui.core.calibration import DeviceProfile
from emosum_tui.core.cost_model import estimate
from emosum_tui.core.cost_processes import CPU_LINK_BPS, GPU_LINK_BPS, process_cost
from emosum_tui.core.model_flops import param_count
from emosum_tui.core.model_shapes import shape_for
from emosum_tui.core.presets import load_preset, with_values

H100 = DeviceProfile(device="NVIDIA H100 80GB HBM3", matmul_flops=51.6e12, memory_bps=2.5e12, disk_bps=1.367e9)


def test_four_gpus_keep_the_effective_batch_and_pay_an_all_reduce(project) -> None:
    full = load_preset("full")  # 2 x 4, mt5-base
    one = estimate(full, device=H100)
    four = estimate(with_values(full, {"train.processes": 4}), device=H100)
    assert (four.details["processes"], four.details["grad_accum_per_process"]) == (4, 1)
    assert four.optimizer_steps == one.optimizer_steps  # the same effective batch of 8: the same steps
    params = param_count(shape_for(full)[0])
    allreduce = 2 * 3 / 4 * params * 4 / GPU_LINK_BPS
    assert four.details["allreduce_seconds"] == pytest.approx(allreduce)
    micro_part = one.seconds_per_step - one.details["update_seconds"]
    assert four.seconds_per_step == pytest.approx(micro_part / 4 + one.details["update_seconds"] + allreduce, rel=1e-6)
    assert four.basis["processes"].startswith("approximate: 4 processes: grad_accum 4 -> 1 per process, effective batch kept")
    assert "batch 2 per device x grad-accum 1 x 4 processes" in four.basis["optimizer_steps"]
    assert "gradient all-reduce across 4 processes" in four.basis["seconds_per_step"]


def test_processes_that_do_not_divide_grad_accum_grow_the_batch_and_the_estimate_says_so(project) -> None:
    fast = load_preset("fast")  # 4 x 2
    three = estimate(with_values(fast, {"train.processes": 3}), device=H100)
    one = estimate(fast, device=H100)
    assert three.details["grad_accum_per_process"] == 2
    assert three.optimizer_steps < one.optimizer_steps / 2.5  # 24 rows a step instead of 8
    assert "effective batch grows from 8 to 24" in three.basis["processes"]


def test_on_a_cpu_the_processes_share_the_cores(project) -> None:
    demo = load_preset("demo")
    one, two = estimate(demo), estimate(with_values(demo, {"train.processes": 2}))
    assert two.train_seconds > one.train_seconds  # no faster: the same cores, plus the all-reduce
    assert "share its cores" in two.basis["processes"]
    cost = process_cost(2, 8, 1, 1_000_000, on_gpu=False)
    assert cost.allreduce_seconds == pytest.approx(1_000_000 * 4 / CPU_LINK_BPS)


def test_auto_is_priced_as_one_process_and_says_why(project) -> None:
    auto = estimate(with_values(load_preset("demo"), {"train.processes": "auto"}))
    assert auto.details["processes"] == 1 and "GPUs are counted when the run starts" in auto.basis["processes"]
