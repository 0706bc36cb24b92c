"""Writes the recorded scenario fixtures (tests/scenarios/*.json) for the doctor's live rules.

Each scenario is a run's events plus the resource samples a console would have taken, shaped
after what NVML and psutil report on the machines in question. Re-run after changing a
scenario: `python tests/scenarios/make_scenarios.py`. The JSON files are what tests read.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import asdict
from pathlib import Path

from emosum_tui.core.events import CheckpointSaved, Environment, GpuDevice, RunStart, StepBegin, StepEnd, TrainPlan
from emosum_tui.monitor.nvml import GpuReading
from emosum_tui.monitor.resources import ResourceSample

HERE = Path(__file__).parent
GIB = 2**30
T0 = 1_790_000_000.0


def event(e) -> dict:
    return json.loads(e.to_json())


def gpu(name="NVIDIA GeForce RTX 3060", total=12, used=0.4, util=1.0, temp=38.0, power=18.0, limit=170.0, reasons=(), index=0):
    return asdict(GpuReading(index, name, util, int(used * GIB), int(total * GIB), temp, power, limit, tuple(reasons), None))


def sample(t, gpus=(), note="", trainer_cpu=100.0, cpu=50.0, cores=16, rss=3 * GIB):
    return asdict(ResourceSample(t, cpu, cores, trainer_cpu, rss, 12 * GIB, 32 * GIB, 200 * GIB, tuple(gpus), note))


def steps(seconds, losses=None, start=T0 + 30, gap=0.0, total=0):
    """StepBegin/StepEnd pairs; returns (events, end time)."""
    out, t = [], start
    for i, s in enumerate(seconds, start=1):
        out.append(event(StepBegin(t=t, step=i)))
        t += s
        loss = None if losses is None else losses[i - 1]
        out.append(event(StepEnd(t=t, step=i, total_steps=total or len(seconds), loss=loss, step_seconds=s, learning_rate=5e-5)))
        t += gap
    return out, t


def plan(device, batch=2, accum=4, precision="fp32", total=4945):
    return event(TrainPlan(t=T0 + 29, total_steps=total, batch_size=batch, grad_accum=accum, device=device, precision=precision,
                           train_rows=13188, epochs=3.0))


def write(name, description, events, samples, expect, window=None):
    body = {"description": description, "window": window or {}, "events": events, "samples": samples, "expect": expect}
    (HERE / f"{name}.json").write_text(json.dumps(body, indent=1) + "\n", encoding="utf-8")


def main() -> None:
    rng = random.Random(7)

    # The user's story: an RTX GPU that NVML sees, a CPU-only torch, ~105 s/step.
    ev, end = steps([104.2, 106.1, 105.9], losses=[9.1, 8.7, 8.4])
    samples = [sample(T0 + 30 + 5 * i, [gpu(util=rng.choice([0.0, 1.0, 2.0]))], trainer_cpu=1580 + rng.random() * 20)
               for i in range(int((end - T0 - 30) / 5))]
    write("rtx_gpu_cpu_torch", "NVML sees an RTX 3060, the trainer runs on the CPU at ~105 s/step",
          [plan("cpu"), *ev], samples,
          {"first": "cpu-while-gpu-idle", "absent": ["cpu-training"],
           "evidence": ["device = cpu", "RTX 3060", "util 1% avg", "median 105.9 s/step"]})

    # Our machine: no NVIDIA GPU at all, a CPU run of the demo.
    ev, end = steps([0.9, 1.1, 1.0, 0.95, 1.05], losses=[6.4, 6.1, 5.9, 5.8, 5.6], total=100)
    note = "no NVIDIA GPU (NVML not available: NVML Shared Library Not Found)"
    samples = [sample(T0 + 30 + i, note=note, trainer_cpu=190.0, cores=2) for i in range(6)]
    write("cpu_no_gpu", "a CPU-only machine training the demo", [plan("cpu", batch=8, accum=1, total=100), *ev], samples,
          {"first": "cpu-training", "codes": ["cpu-training"], "evidence": ["device = cpu", "NVML not available", "2 logical cores"]})

    # The demo on 2 cores while another process (a second run, a notebook) keeps one core busy:
    # the trainer gets one core of the two it would use, and its steps take twice as long.
    ev, end = steps([2.3, 2.2, 2.4, 2.3], losses=[38.0, 36.5, 35.0, 33.6], total=100)
    samples = [sample(T0 + 30 + i, note=note, trainer_cpu=99.0 + 0.1 * i, cpu=100.0, cores=2) for i in range(9)]
    write("cpu_contention", "the demo on 2 cores while another process keeps one core busy",
          [plan("cpu", batch=8, accum=1, total=100), *ev], samples,
          {"first": "cpu-contention", "codes": ["cpu-contention", "cpu-training"],
           "evidence": ["system CPU 100% of 2 logical cores", "the trainer 1.0 cores", "everything else 1.0 cores",
                        "median 2.3 s/step", "Task Manager"]})

    # VRAM at the brim of an 8 GiB laptop GPU, low util, erratic steps: spill into shared memory.
    seconds = [2.1, 9.5, 3.0, 12.2, 2.5, 8.8, 3.4, 11.0]
    ev, end = steps(seconds, losses=[3.0 - 0.05 * i for i in range(8)])
    samples = [sample(T0 + 30 + 2 * i, [gpu("NVIDIA GeForce RTX 4060 Laptop GPU", total=8, used=7.93, util=25 + rng.random() * 15,
                                            temp=70, power=60, limit=115)], trainer_cpu=60.0)
               for i in range(int((end - T0 - 30) / 2))]
    write("vram_spill", "8 GiB GPU 99% full, util ~30%, step times 2-12 s", [plan("cuda:0"), *ev], samples,
          {"first": "vram-spill", "absent": ["input-bound", "cpu-while-gpu-idle"],
           "evidence": ["RTX 4060", "99%", "2.1-12.2 s", "train.batch_size = 1 with train.grad_accum = 8"]})

    # The GPU waits on a saturated trainer CPU, and VRAM has no room for larger micro-batches
    # (7.5 of 12 GiB): the input pipeline on the main thread is what is left to name.
    ev, end = steps([0.8, 0.82, 0.79, 0.81, 0.8, 0.8], losses=[3, 2.9, 2.8, 2.7, 2.6, 2.5])
    samples = [sample(T0 + 30 + i, [gpu(util=22 + rng.random() * 8, used=7.5, temp=55, power=60)], trainer_cpu=99.0, cpu=20.0, cores=12)
               for i in range(6)]
    write("input_bound", "GPU util ~25% while the trainer's main thread uses a whole core, VRAM 7.5 of 12 GiB",
          [plan("cuda:0"), *ev], samples,
          {"first": "input-bound", "absent": ["vram-spill", "small-batches"],
           "evidence": ["util 2", "trainer CPU 99%", "dataloader_workers = 4"]})

    # Measured on an H100 80GB HBM3 (2026-11-23, bench/bench_gpu.py): `full` (mt5-base, 2 x 4,
    # bf16) at 0.61 s/step with the GPU ~17% busy and the trainer at 100% of one of 16 cores,
    # 14.9 GiB of 80 used. The same effective batch as 8 x 1 ran at 0.21 s/step.
    h100 = random.Random(23)  # its own draws: the scenarios after it stay as they were
    ev, end = steps([0.61 + h100.uniform(-0.02, 0.02) for _ in range(12)], losses=[3.0 - 0.01 * i for i in range(12)])
    samples = [sample(T0 + 30 + 0.5 * i, [gpu("NVIDIA H100 80GB HBM3", total=79.2, used=14.9, util=h100.choice([0, 9, 17, 20, 31, 46]),
                                              temp=40, power=180, limit=700)], trainer_cpu=100.0, cpu=8.0, cores=16)
               for i in range(14)]
    write("h100_small_batches", "H100: full's 2 x 4 micro-batches leave the GPU waiting on one Python thread",
          [plan("cuda:0", precision="bf16", total=120), *ev], samples,
          {"first": "small-batches", "absent": ["input-bound", "vram-spill"],
           "evidence": ["H100", "trainer CPU 100%", "micro-batch 2 x grad-accum 4", "median 0.61 s/step"],
           "fix": ["train.batch_size = 8 with train.grad_accum = 1", "same effective batch 8"]})

    # Saves at steps 20 and 40 that take 12 s each against 0.5 s steps.
    seconds = [0.5 + rng.random() * 0.05 for _ in range(45)]
    ev, t = [], T0 + 30
    for i, s in enumerate(seconds, start=1):
        ev.append(event(StepBegin(t=t, step=i)))
        t += s
        ev.append(event(StepEnd(t=t, step=i, total_steps=100, loss=3 - 0.02 * i, step_seconds=s)))
        if i in (20, 40):
            ev.append(event(CheckpointSaved(t=t + 12.0, step=i, path=f"model/x/checkpoint-{i}", bytes=int(2.1 * GIB), seconds=12.0)))
            t += 12.0
    samples = [sample(T0 + 30 + 2 * i, [gpu(util=96, used=6.0, temp=65, power=150)], trainer_cpu=100.0) for i in range(20)]
    write("checkpoint_spikes", "0.5 s steps, 12 s checkpoint writes at steps 20 and 40", [plan("cuda:0", total=100), *ev], samples,
          {"first": "checkpoint-spikes", "evidence": ["step 20: 12.0 s", "2.1 GiB"]}, window={"save_steps": 20})

    # A hot laptop GPU: busy but clocked down by hardware thermal slowdown.
    ev, end = steps([1.4, 1.5, 1.6, 1.5, 1.6, 1.7], losses=[3, 2.9, 2.8, 2.7, 2.6, 2.5])
    samples = [sample(T0 + 30 + i, [gpu("NVIDIA GeForce RTX 3070 Laptop GPU", total=8, used=5.0, util=97, temp=86 + i % 3, power=80,
                                        limit=125, reasons=("thermal (hardware)",) if i % 4 else ())]) for i in range(10)]
    write("thermal_throttling", "util 97% at 86-88 °C with hardware thermal slowdown", [plan("cuda:0"), *ev], samples,
          {"first": "gpu-throttling", "evidence": ["thermal (hardware)", "88 °C"]})

    # fp16 mT5: the loss overflows to NaN at step 7.
    losses = [12.1, 11.8, 11.5, 11.0, 10.6, 10.1, math.nan, math.nan]
    ev, end = steps([0.6] * 8, losses=losses)
    samples = [sample(T0 + 30 + i, [gpu(util=95, used=5.0, temp=60, power=140)]) for i in range(5)]
    write("loss_nan_fp16", "mT5 in fp16, loss NaN from step 7", [plan("cuda:0", precision="fp16"), *ev], samples,
          {"first": "loss-nan", "evidence": ["at step 7", "precision fp16"], "fix": ["bf16"]}, window={"precision": "fp16"})

    # A loss that stays at 3.0 for 60 steps after a 10-step warm-up.
    losses = [5.0 - 0.2 * i for i in range(10)] + [3.0 + rng.uniform(-0.05, 0.05) for _ in range(60)]
    ev, end = steps([0.6] * 70, losses=losses)
    samples = [sample(T0 + 30 + i, [gpu(util=95, used=5.0, temp=60, power=140)]) for i in range(5)]
    write("loss_flat", "loss flat at ~3.0 after warm-up", [plan("cuda:0", total=300), *ev], samples,
          {"first": "loss-flat", "evidence": ["warm-up 10 steps"]}, window={"warmup_steps": 10, "learning_rate": 1e-7})

    # A healthy GPU run: nothing to say.
    losses = [5.0 * 0.97**i for i in range(40)]
    ev, end = steps([0.6 + rng.random() * 0.02 for _ in range(40)], losses=losses)
    samples = [sample(T0 + 30 + i, [gpu(util=97, used=6.0, temp=66, power=150)]) for i in range(20)]
    write("healthy_gpu", "a busy GPU, regular steps, falling loss", [plan("cuda:0", total=300), *ev], samples,
          {"codes": []}, window={"warmup_steps": 5})
    four_gpus_two_used()


A100 = "NVIDIA A100-SXM4-80GB"
A100_UUIDS = tuple(f"GPU-5e1f0c7a-90b3-4d6e-8c1a-0000000000a{i}" for i in range(4))
TRAINER_PIDS = (4242, 4243)  # the run's two ranks
OTHER_JOB_PID = 777


def four_gpus_two_used() -> None:
    """A shared 4-GPU server; this run has CUDA_VISIBLE_DEVICES=1,3 (cuda:0 = GPU 1, cuda:1 = GPU 3).
    GPU 0 is another job's, hot and throttling; GPU 2 is idle. Read as "GPU 0 is the trainer's" the
    rules would blame the other job's throttling on this run; read by UUID they say nothing."""
    t = T0 + 30

    def reading(i: int, k: int) -> dict:
        if i in (1, 3):  # this run's: busy, cool, 31 GiB each
            body = asdict(GpuReading(i, A100, 96.0 + k % 3, 31 * GIB + 2**28, 80 * GIB, 61.0 + i, 310.0, 400.0, (),
                                     (TRAINER_PIDS[i // 2],), A100_UUIDS[i], ((TRAINER_PIDS[i // 2], 31 * GIB),)))
        elif i == 0:  # another job's: busy and thermally throttled
            body = asdict(GpuReading(0, A100, 99.0, 70 * GIB, 80 * GIB, 88.0, 390.0, 400.0, ("thermal (hardware)",),
                                     (OTHER_JOB_PID,), A100_UUIDS[0], ((OTHER_JOB_PID, 70 * GIB),)))
        else:  # idle
            body = asdict(GpuReading(2, A100, 0.0, 2**29, 80 * GIB, 34.0, 60.0, 400.0, (), (), A100_UUIDS[2], ()))
        return body

    environment = Environment(torch="2.13.0+cu128", torch_cuda_build="12.8", cuda_available=True, bf16_supported=True,
                              devices=tuple(GpuDevice(n, A100, 80 * GIB, "8.0", A100_UUIDS[i]) for n, i in enumerate((1, 3))),
                              cuda_visible_devices="1,3")
    start = event(RunStart(t=T0 + 20, preset="full", pid=TRAINER_PIDS[0], environment=environment))
    ev, _ = steps([0.55 + 0.01 * (i % 3) for i in range(30)], losses=[4.0 * 0.98**i for i in range(30)], total=2473)
    samples = [{**sample(t + i, [reading(g, i) for g in range(4)], trainer_cpu=190.0, cpu=20.0, cores=64, rss=9 * GIB),
                "trainer_gpu_memory": 62 * GIB} for i in range(10)]
    write("four_gpus_two_used", "CUDA_VISIBLE_DEVICES=1,3 on a 4-GPU server: GPU 0 (another job's) throttles, the run's GPUs do not",
          [start, plan("cuda:0", batch=8, accum=1, precision="bf16", total=2473), *ev], samples, {"codes": []})


if __name__ == "__main__":
    main()
