"""Run directories written with the real event writer, as a trainer leaves them.

Times are fixed (`T0`) so a recorded run draws the same screen every time.
"""

from __future__ import annotations

import time
from pathlib import Path

from emosum_tui.core.events import (
    EVENTS_FILE,
    CheckpointSaved,
    Done,
    Environment,
    EvalResult,
    EventWriter,
    Phase,
    RunStart,
    StepBegin,
    StepEnd,
    TrainPlan,
    Warn,
)

T0 = 1_700_000_000.0
DEAD_PID = 999_999  # no process has it: the recorded trainer is gone


def write_started(writer: EventWriter, run_dir: Path, t: float, pid: int, total: int) -> None:
    """The events before the first step: start, loading, tokenising, the plan, training."""
    writer.write(RunStart(t=t, preset="demo", run_dir=str(run_dir), output_dir="model/demo", pid=pid,
                          environment=Environment(torch="2.13.0+cpu", torch_cpu_only_build=True)))
    writer.write(Phase(t=t, name="loading_model"))
    writer.write(Phase(t=t + 1, name="tokenising", done=160, total=160))
    writer.write(TrainPlan(t=t + 2, total_steps=total, train_rows=160, eval_rows=40, batch_size=8, grad_accum=1,
                           device="cpu", precision="fp32", epochs=2))
    writer.write(Phase(t=t + 2, name="training"))


def write_finished_run(run_dir: Path, steps: int = 40, t0: float = T0, reason: str = "completed", pid: int = DEAD_PID) -> Path:
    """A whole recorded run: steps with a decreasing loss, two evals and checkpoints, a warning, done."""
    writer = EventWriter(run_dir / EVENTS_FILE)
    write_started(writer, run_dir, t0, pid, steps)
    t = t0 + 2
    for n in range(1, steps + 1):
        writer.write(StepBegin(t=t, step=n, epoch=(n - 1) / 20))
        dt = 1.5 if n == 1 else 0.25 + 0.05 * (n % 3)
        t += dt
        writer.write(StepEnd(t=t, step=n, total_steps=steps, epoch=n / 20, loss=8.0 * 0.95**n, learning_rate=1e-3,
                             step_seconds=dt, samples_per_second=8 / dt, tokens_per_second=2000 / dt))
        if n % 20 == 0:
            writer.write(Phase(t=t, name="evaluating"))
            t += 2
            writer.write(EvalResult(t=t, step=n, metrics={"eval_loss": 8.2 * 0.95**n}, seconds=2.0))
            writer.write(Phase(t=t, name="saving"))
            t += 1
            writer.write(CheckpointSaved(t=t, step=n, path=f"model/demo/checkpoint-{n}", bytes=12_345_678, seconds=1.0))
    writer.write(Warn(t=t, code="low-diversity", message="targets are mostly one template"))
    final = "model/demo/final" if reason == "completed" else None
    writer.write(Done(t=t + 1, reason=reason, final_path=final, steps=steps, seconds=t + 1 - t0, train_loss=1.2))
    writer.close()
    return run_dir


def write_live_prefix(run_dir: Path, pid: int) -> None:
    """A run that has just begun its first step, recorded now by process `pid`."""
    writer = EventWriter(run_dir / EVENTS_FILE)
    write_started(writer, run_dir, time.time(), pid, 100)
    writer.write(StepBegin(step=1))
    writer.close()
