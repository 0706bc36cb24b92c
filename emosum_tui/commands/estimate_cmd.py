"""`emosum-tui estimate`: what each preset will cost on this machine, and on what that rests.

    emosum-tui estimate [PRESET...] [--calibrate] [--s-per-step X] [--train-rows N]
                        [--validation-rows N] [--json] [--vs BASE] [--run RUN_DIR]
    emosum-tui estimate PRESET --tune [--yes] [--json]

`--train-rows N` prices a dataset of N rows when only a sample is on disk (the preset's
count/fraction applies to N; token lengths still come from the rows present). `--vs BASE`
decomposes the time ratio into one factor per changed decision. `--run DIR` shows a finished
(or running) run's estimate next to what it measured. `--tune` measures the micro-batch sizes of
the preset's effective batch and offers the fastest that fits as a new preset (`tune_cmd`). Nothing heavy is imported here: the
measurements run in probe subprocesses.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from emosum_tui.ui.format import human_bytes, human_duration

if TYPE_CHECKING:
    from emosum_tui.core.calibration import CalibrationResult
    from emosum_tui.core.presets import Preset
    from emosum_tui.core.probe_job import ProbeProgress


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("estimate", help="price presets: steps, time, memory, checkpoint and disk, with their basis")
    parser.add_argument("presets", nargs="*", metavar="PRESET", help="preset names or .toml paths (default: every preset)")
    parser.add_argument("--calibrate", action="store_true", help="measure a few real steps of each preset's shape on this machine")
    parser.add_argument("--s-per-step", type=float, metavar="X", help="seconds per optimizer step you measured (replaces the model's)")
    parser.add_argument("--train-rows", type=int, metavar="N", help="price a training file of N rows (the preset's view applies)")
    parser.add_argument("--validation-rows", type=int, metavar="N", help="price a validation file of N rows")
    parser.add_argument("--vs", metavar="BASE", help="decompose each preset's time ratio against BASE, factor by factor")
    parser.add_argument("--run", metavar="RUN_DIR", help="estimate vs actual for a run directory")
    parser.add_argument("--no-probe", action="store_true", help="do not run the quick throughput probe (use an assumed prior)")
    parser.add_argument("--json", action="store_true", help="print JSON (an object keyed by preset name)")
    parser.add_argument("--tune", action="store_true", help="measure micro-batch x grad-accum at the same effective batch; offer the fastest")
    parser.add_argument("--yes", action="store_true", help="with --tune: write the offered preset without asking")
    parser.set_defaults(handler=run)


def _positive(args: argparse.Namespace) -> str | None:
    for name in ("s_per_step", "train_rows", "validation_rows"):
        value = getattr(args, name)
        if value is not None and (value <= 0 or (isinstance(value, float) and not math.isfinite(value))):
            return f"--{name.replace('_', '-')} = {value!r}: must be a positive number"
    return None


# ---------------------------------------------------------------------------------------------
# The command.


def run(args: argparse.Namespace) -> int:
    problem = _positive(args)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    if args.run:
        return show_run(args)
    if args.tune:
        from emosum_tui.commands.tune_cmd import run_tune

        return run_tune(args)
    from emosum_tui.core.model_shapes import ShapeError
    from emosum_tui.core.presets import PresetError, load_all, load_preset

    try:
        presets = [load_preset(name) for name in args.presets] if args.presets else load_all()[0]
        base = load_preset(args.vs) if args.vs else None
    except PresetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from emosum_tui.core.sample_notice import print_sample_notice

    print_sample_notice(presets)
    from emosum_tui.core import calibration as cal
    from emosum_tui.core.cost_model import estimate

    device = None
    if args.s_per_step is None:
        device = cal.cached_device_profile() if args.no_probe else cal.measure_device(on_progress=_progress(args))
    results: dict[str, Any] = {}
    failed = False
    for preset in presets:
        try:
            calibration = None
            if args.calibrate and args.s_per_step is None:
                calibration = _calibrate(preset, args)
            else:
                calibration = cal.cached_calibration(cal.spec_for(preset)) if args.s_per_step is None else None
            result = estimate(preset, train_rows=args.train_rows, s_per_step=args.s_per_step, calibration=calibration,
                              validation_rows=args.validation_rows, device=device)
            factors = None
            if base is not None and base.name != preset.name:
                from emosum_tui.core.decompose import decompose

                factors = decompose(base, preset, train_rows=args.train_rows, validation_rows=args.validation_rows, device=device)
        except (ShapeError, PresetError, OSError) as exc:
            failed = True
            print(f"error: {preset.name}: {exc}", file=sys.stderr)
            continue
        results[preset.name] = (result, factors)
    if args.json:
        body = {}
        for name, (result, factors) in results.items():
            body[name] = result.as_dict()
            if factors is not None:
                body[name]["speedup_vs"] = {"base": base.name if base else None,
                                            "factors": [{"key": f.key, "label": f.label, "factor": f.factor} for f in factors]}
        print(json.dumps(body, indent=1, ensure_ascii=False))
    else:
        for name, (result, factors) in results.items():
            print(text_report(result))
            if factors is not None and base is not None:
                print(decomposition_text(base.name, name, factors))
            print()
    return 1 if failed else 0


def _progress(args: argparse.Namespace) -> Callable[[ProbeProgress], None] | None:
    if args.json:
        return None

    def show(step: ProbeProgress) -> None:
        total = f"/{step.total}" if step.total else ""
        print(f"  … {step.what} {step.done}{total}", file=sys.stderr, flush=True)

    return show


def _calibrate(preset: Preset, args: argparse.Namespace) -> CalibrationResult | None:
    from emosum_tui.core.calibration import CalibrationJob

    print(f"calibrating {preset.name} on this machine (Ctrl+C cancels)…", file=sys.stderr, flush=True)
    job = CalibrationJob(preset, use_cache=False, on_progress=_progress(args)).start()
    try:
        result = job.wait()
    except KeyboardInterrupt:
        job.cancel()
        raise
    if result is None:
        print(f"warning: calibration of {preset.name} failed: {job.error}", file=sys.stderr)
    return result


FIGURES = (
    ("params", "params", lambda v: f"{v:,}"),
    ("optimizer steps", "optimizer_steps", lambda v: f"{v:,}"),
    ("s/step", "seconds_per_step", lambda v: f"{v:.3g} s"),
    ("training", "train_seconds", human_duration),
    ("evaluation", "eval_seconds", human_duration),
    ("saving", "save_seconds", human_duration),
    ("total time", "total_seconds", human_duration),
    ("peak memory", "peak_memory_bytes", human_bytes),
    ("checkpoint", "checkpoint_bytes", human_bytes),
    ("peak disk", "peak_disk_bytes", human_bytes),
    ("final disk", "final_disk_bytes", human_bytes),
)


def text_report(result: Any) -> str:
    lines = [f"{result.preset}  ({result.train_rows:,} training rows, {result.validation_rows:,} validation rows)"]
    for label, key, show in FIGURES:
        basis = result.basis.get(key, "")
        lines.append(f"  {label:<16} {show(getattr(result, key)):>12}   {basis}")
    lines.append(f"  {'tokens':<16} {'':>12}   {result.basis.get('tokens', '')}")
    return "\n".join(lines)


def decomposition_text(base: str, other: str, factors: list[Any]) -> str:
    lines = [f"  why {other} vs {base} (each factor = time after / before that change; they multiply to the total):"]
    product = 1.0
    for factor in factors:
        product *= factor.factor
        lines.append(f"    {factor.label:<86} x{factor.factor:.3g}   (so far x{product:.3g})")
    speed = 1 / product if product else float("inf")
    lines.append(f"    {'total time ratio':<86} x{product:.3g}   = {speed:.3g}x {'faster' if product < 1 else 'slower'}")
    return "\n".join(lines)


def show_run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from emosum_tui.core.estimate_record import compare, read_estimate

    run_dir = Path(args.run)
    if not run_dir.is_dir():
        print(f"error: --run {run_dir}: no such run directory", file=sys.stderr)
        return 2
    if read_estimate(run_dir) is None:
        print(f"error: {run_dir / 'estimate.json'}: this run kept no estimate (started before estimates were recorded?)",
              file=sys.stderr)
        return 1
    rows = compare(run_dir)
    if args.json:
        print(json.dumps([{"figure": r.figure, "key": r.key, "unit": r.unit, "predicted": r.predicted, "measured": r.measured,
                           "ratio": r.ratio, "note": r.note} for r in rows], indent=1))
        return 0
    show = {"s": human_duration, "bytes": human_bytes, "steps": lambda v: f"{v:,.0f}" if v is not None else "—"}
    print(f"estimate vs actual: {run_dir}")
    print(f"  {'figure':<20} {'predicted':>12} {'measured':>12} {'measured/predicted':>20}")
    for row in rows:
        ratio = f"x{row.ratio:.3g}" if row.ratio is not None else "—"
        print(f"  {row.figure:<20} {show[row.unit](row.predicted):>12} {show[row.unit](row.measured):>12} {ratio:>20}   {row.note}")
    return 0
