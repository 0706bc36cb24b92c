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

from emosum_tui.commands.terminal_text import error, rjust, shown, warning
from emosum_tui.i18n import N_, _
from emosum_tui.ui.format import human_bytes, human_duration, pad_cells

if TYPE_CHECKING:
    from emosum_tui.core.calibration import CalibrationResult
    from emosum_tui.core.presets import Preset
    from emosum_tui.core.probe_job import ProbeProgress


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("estimate", help=_("price presets: steps, time, memory, checkpoint and disk, with their basis"))
    parser.add_argument("presets", nargs="*", metavar="PRESET", help=_("preset names or .toml paths (default: every preset)"))
    parser.add_argument("--calibrate", action="store_true",
                        help=_("measure a few real steps of each preset's shape on this machine"))
    parser.add_argument("--s-per-step", type=float, metavar="X",
                        help=_("seconds per optimizer step you measured (replaces the model's)"))
    parser.add_argument("--train-rows", type=int, metavar="N",
                        help=_("price a training file of N rows (the preset's view applies)"))
    parser.add_argument("--validation-rows", type=int, metavar="N", help=_("price a validation file of N rows"))
    parser.add_argument("--vs", metavar="BASE", help=_("decompose each preset's time ratio against BASE, factor by factor"))
    parser.add_argument("--run", metavar="RUN_DIR", help=_("estimate vs actual for a run directory"))
    parser.add_argument("--no-probe", action="store_true",
                        help=_("do not run the quick throughput probe (use an assumed prior)"))
    parser.add_argument("--json", action="store_true", help=_("print JSON (an object keyed by preset name)"))
    parser.add_argument("--tune", action="store_true",
                        help=_("measure micro-batch x grad-accum at the same effective batch; offer the fastest"))
    parser.add_argument("--yes", action="store_true", help=_("with --tune: write the offered preset without asking"))
    parser.set_defaults(handler=run)


def _positive(args: argparse.Namespace) -> str | None:
    for name in ("s_per_step", "train_rows", "validation_rows"):
        value = getattr(args, name)
        if value is not None and (value <= 0 or (isinstance(value, float) and not math.isfinite(value))):
            return _("{option} = {value}: must be a positive number").format(option=f"--{name.replace('_', '-')}",
                                                                              value=repr(value))
    return None


# ---------------------------------------------------------------------------------------------
# The command.


def run(args: argparse.Namespace) -> int:
    problem = _positive(args)
    if problem:
        error(problem)
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
        error(exc)
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
            error(f"{preset.name}: {exc}")
            continue
        results[preset.name] = (result, factors)
    if args.json:
        body = {}
        for name, (result, factors) in results.items():
            body[name] = result.as_dict()
            if factors is not None:
                body[name]["speedup_vs"] = {"base": base.name if base else None, "factors": [_factor_json(f) for f in factors]}
        print(json.dumps(body, indent=1, ensure_ascii=False))
    else:
        for name, (result, factors) in results.items():
            print(text_report(result))
            if factors is not None and base is not None:
                print(decomposition_text(base.name, name, factors))
            print()
    return 1 if failed else 0


def _factor_json(factor: Any) -> dict[str, Any]:
    """A factor for `--json`: English whatever the interface's language (core's `to_dict` where it has one)."""
    to_dict = getattr(factor, "to_dict", None)
    return to_dict() if callable(to_dict) else {"key": factor.key, "label": factor.label, "factor": factor.factor}


def _progress(args: argparse.Namespace) -> Callable[[ProbeProgress], None] | None:
    if args.json:
        return None

    def show(step: ProbeProgress) -> None:
        total = f"/{step.total}" if step.total else ""
        print(f"  … {shown(step.what)} {step.done}{total}", file=sys.stderr, flush=True)

    return show


def _calibrate(preset: Preset, args: argparse.Namespace) -> CalibrationResult | None:
    from emosum_tui.core.calibration import CalibrationJob

    print(_("calibrating {preset} on this machine (Ctrl+C cancels)…").format(preset=preset.name), file=sys.stderr, flush=True)
    job = CalibrationJob(preset, use_cache=False, on_progress=_progress(args)).start()
    try:
        result = job.wait()
    except KeyboardInterrupt:
        job.cancel()
        raise
    if result is None:
        warning(_("calibration of {preset} failed: {error}").format(preset=preset.name, error=job.error))
    return result


FIGURES = (
    (N_("params"), "params", lambda v: f"{v:,}"),
    (N_("optimizer steps"), "optimizer_steps", lambda v: f"{v:,}"),
    ("s/step", "seconds_per_step", lambda v: f"{v:.3g} s"),
    (N_("training"), "train_seconds", human_duration),
    (N_("evaluation"), "eval_seconds", human_duration),
    (N_("saving"), "save_seconds", human_duration),
    (N_("total time"), "total_seconds", human_duration),
    (N_("peak memory"), "peak_memory_bytes", human_bytes),
    (N_("checkpoint"), "checkpoint_bytes", human_bytes),
    (N_("peak disk"), "peak_disk_bytes", human_bytes),
    (N_("final disk"), "final_disk_bytes", human_bytes),
)


def text_report(result: Any) -> str:
    lines = [_("{preset}  ({train_rows} training rows, {validation_rows} validation rows)").format(
        preset=result.preset, train_rows=f"{result.train_rows:,}", validation_rows=f"{result.validation_rows:,}")]
    for label, key, show in FIGURES:
        basis = shown(result.basis.get(key, ""))
        lines.append(f"  {pad_cells(_(label), 16)} {rjust(show(getattr(result, key)), 12)}   {basis}")
    tokens = pad_cells(_("tokens"), 16)
    lines.append(f"  {tokens} {'':>12}   {shown(result.basis.get('tokens', ''))}")
    return "\n".join(lines)


def decomposition_text(base: str, other: str, factors: list[Any]) -> str:
    lines = ["  " + _("why {other} vs {base} (each factor = time after / before that change; they multiply to the total):").format(
        other=other, base=base)]
    product = 1.0
    for factor in factors:
        product *= factor.factor
        so_far = _("(so far x{ratio})").format(ratio=f"{product:.3g}")
        lines.append(f"    {pad_cells(shown(factor.label), 86)} x{factor.factor:.3g}   {so_far}")
    speed = f"{1 / product if product else float('inf'):.3g}"
    verdict = (_("= {speed}x faster") if product < 1 else _("= {speed}x slower")).format(speed=speed)
    total = pad_cells(_("total time ratio"), 86)
    lines.append(f"    {total} x{product:.3g}   {verdict}")
    return "\n".join(lines)


def show_run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from emosum_tui.core.estimate_record import compare, read_estimate

    run_dir = Path(args.run)
    if not run_dir.is_dir():
        error(_("--run {run_dir}: no such run directory").format(run_dir=run_dir))
        return 2
    if read_estimate(run_dir) is None:
        error(_("{path}: this run kept no estimate (started before estimates were recorded?)").format(
            path=run_dir / "estimate.json"))
        return 1
    rows = compare(run_dir)
    if args.json:
        print(json.dumps([{"figure": r.figure, "key": r.key, "unit": r.unit, "predicted": r.predicted, "measured": r.measured,
                           "ratio": r.ratio, "note": r.note} for r in rows], indent=1))
        return 0
    show = {"s": human_duration, "bytes": human_bytes, "steps": lambda v: f"{v:,.0f}" if v is not None else "—"}
    print(_("estimate vs actual: {run_dir}").format(run_dir=run_dir))
    print("  " + " ".join([pad_cells(_("figure"), 20), rjust(_("predicted"), 12), rjust(_("measured"), 12),
                           rjust(_("measured/predicted"), 20)]))
    for row in rows:
        ratio = f"x{row.ratio:.3g}" if row.ratio is not None else "—"
        print(f"  {pad_cells(shown(row.figure), 20)} {rjust(show[row.unit](row.predicted), 12)} {rjust(show[row.unit](row.measured), 12)} "
              f"{ratio:>20}   {shown(row.note)}")
    return 0
