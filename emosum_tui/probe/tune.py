"""Tuning: micro-batch sizes of one preset's shape, timed side by side in one process.

Run as `python -m emosum_tui.probe.tune SPEC.json CANDIDATES.json` (the launcher is
`emosum_tui.core.tuning`). One model and optimizer serve every candidate (the calibration
probe's `Bench`: the preset's shape, switches and real lengths). Each candidate is warmed up
once on its longest rows, with the device's peak memory measured from a reset (on a CPU the
process's peak RSS, an upper bound); then the candidates take turns, one micro-batch each per
round, so a machine that gets busier or quieter mid-probe slows them all alike, and each keeps
its fastest micro-batch per FLOP (as `timeit` keeps its best), priced at its mean FLOPs.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from emosum_tui.core.calibration import CalibrationSpec
from emosum_tui.probe import emit, report
from emosum_tui.probe.calibrate import Bench, device_memory_bytes, peak_memory_bytes

ROUNDS = 6  # timed micro-batches per candidate, at most
BUDGET_SECONDS = 60.0  # stop the rounds after this long (every candidate has at least one)


def _peak_since_reset(bench: Bench) -> int:
    import torch

    return int(torch.cuda.max_memory_allocated()) if bench.cuda else peak_memory_bytes(False)


def run(spec: CalibrationSpec, candidates: list[tuple[int, int]]) -> dict[str, Any]:
    import torch

    bench = Bench(spec)
    emit("progress", what="model built")
    per_flop: dict[int, list[float]] = {b: [] for b, _ in candidates}
    flops: dict[int, list[float]] = {b: [] for b, _ in candidates}
    memory: dict[int, int] = {}
    errors: dict[int, str] = {}
    longest = sorted(spec.rows, key=sum)
    for i, (batch, _) in enumerate(sorted(candidates)):  # smallest first: a failure past memory ends the larger ones
        if bench.cuda:
            torch.cuda.reset_peak_memory_stats()
        try:
            bench.micro_batch(longest[-batch:] if len(longest) >= batch else bench.draw(spec.rows, batch))
            bench.update()
        except torch.OutOfMemoryError as exc:  # the candidate does not fit: a finding, not a failure
            errors[batch] = f"out of memory: {str(exc).splitlines()[0]}"
            if bench.cuda:
                torch.cuda.empty_cache()
            bench.optimizer.zero_grad()
            continue
        memory[batch] = _peak_since_reset(bench)
        emit("progress", what="warm-up", done=i + 1, total=len(candidates))
    updates: list[float] = []
    end = time.perf_counter() + BUDGET_SECONDS
    for round_ in range(ROUNDS):
        for batch, _ in candidates:
            if batch in errors:
                continue
            seconds, flops_done = bench.micro_batch(bench.draw(spec.rows, batch))
            per_flop[batch].append(seconds / flops_done)
            flops[batch].append(flops_done)
        updates.append(bench.update())
        emit("progress", what="round", done=round_ + 1, total=ROUNDS)
        if time.perf_counter() > end:
            break
    update = min(updates)
    results = []
    for batch, grad_accum in candidates:
        if batch in errors:
            results.append({"batch_size": batch, "grad_accum": grad_accum, "error": errors[batch]})
            continue
        micro = min(per_flop[batch]) * (sum(flops[batch]) / len(flops[batch]))
        results.append({"batch_size": batch, "grad_accum": grad_accum, "micro_batch_seconds": micro, "update_seconds": update,
                        "step_seconds": grad_accum * micro + update, "micro_batches": len(per_flop[batch]),
                        "peak_memory_bytes": memory.get(batch, 0)})
    return {"device": bench.name, "device_memory_bytes": device_memory_bytes(bench.cuda), "compiled": bench.compiled,
            "candidates": results}


def main(argv: list[str]) -> int:
    def measure() -> dict[str, Any]:
        candidates = [tuple(c) for c in json.loads(Path(argv[1]).read_text(encoding="utf-8"))]
        return run(CalibrationSpec.read(Path(argv[0])), candidates)

    return report(measure)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
