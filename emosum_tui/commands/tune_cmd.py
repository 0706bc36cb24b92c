"""`emosum-tui estimate PRESET --tune`: the fastest micro-batch that fits, measured here.

Prints one row per candidate (micro-batch x grad-accum at the preset's effective batch: s/step,
non-padding tokens/s, peak memory, fits) and the pick, then offers the change as a new preset
file: asked for on a terminal, written with `--yes`, never written with `--json` (which lists the
candidates, the pick and the offered file). Nothing heavy is imported: the probes measure.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict

from emosum_tui.commands.terminal_text import error, rjust, shown
from emosum_tui.i18n import _
from emosum_tui.ui.format import human_bytes, pad_cells


def _table(result: object) -> str:
    from emosum_tui.core.tuning import TuneResult

    assert isinstance(result, TuneResult)
    lines = [_("{preset}: micro-batch x grad-accum at effective batch {batch}, measured on this machine").format(
                 preset=result.preset, batch=result.effective_batch),
             "  " + " ".join([pad_cells(_("candidate"), 12), f"{'s/step':>10}", f"{'tokens/s':>10}", rjust(_("peak memory"), 12),
                              rjust(_("fits"), 6)])]
    for c in result.candidates:
        if c is result.pick:
            mark = " " + _("<- pick")
        elif (c.batch_size, c.grad_accum) == result.current:
            mark = " " + _("(preset)")
        else:
            mark = ""
        if c.step_seconds is None:
            lines.append(f"  {c.batch_size:>3} x {c.grad_accum:<6} " + _("failed: {error}").format(error=shown(c.error)))
            continue
        memory = human_bytes(c.peak_memory_bytes) if c.peak_memory_bytes else "—"
        tokens = f"{c.tokens_per_second:,.0f}" if c.tokens_per_second else "—"
        fits = rjust(_("yes") if c.fits else _("no"), 6)
        lines.append(f"  {c.batch_size:>3} x {c.grad_accum:<6} {c.step_seconds:>9.3g}s {tokens:>10} {memory:>12} {fits}{mark}")
    lines.append(f"  {shown(result.verdict)}")
    return "\n".join(lines)


def offered_file(name: str) -> str:
    return f"{name}-tuned"


def run_tune(args: argparse.Namespace) -> int:
    from emosum_tui.core.paths import presets_dir
    from emosum_tui.core.presets import PresetError, load_preset
    from emosum_tui.core.probe_job import ProbeProgress
    from emosum_tui.core.tuning import tune, tuned_preset_text

    if len(args.presets) != 1:
        error(_("--tune measures one preset: emosum-tui estimate PRESET --tune"))
        return 2
    try:
        preset = load_preset(args.presets[0])
    except PresetError as exc:
        error(exc)
        return 2

    def progress(step: ProbeProgress) -> None:
        if not args.json:
            total = f"/{step.total}" if step.total else ""
            print(f"  … {shown(step.what)} {step.done}{total}", file=sys.stderr, flush=True)

    print(_("tuning {preset} on this machine (Ctrl+C cancels)…").format(preset=preset.name), file=sys.stderr, flush=True)
    result = tune(preset, on_progress=progress)
    target = presets_dir() / f"{offered_file(preset.name)}.toml"
    if args.json:
        body = {"preset": result.preset, "effective_batch": result.effective_batch, "current": list(result.current),
                "candidates": [asdict(c) | {"fits": c.fits} for c in result.candidates],
                "pick": asdict(result.pick) if result.pick else None, "flat": result.flat, "verdict": result.verdict,
                "offer": {"file": str(target), "changes": result.changes} if result.changes else None}
        print(json.dumps(body, indent=1))
        return 0 if result.pick else 1
    print(_table(result))
    if not result.changes:
        return 0 if result.pick else 1
    changes = ", ".join(f"{k} = {v}" for k, v in result.changes.items())
    if not args.yes:
        if not sys.stdin.isatty():
            print("  " + _("to keep it: emosum-tui estimate {preset} --tune --yes  (writes {path}: {changes})").format(
                preset=preset.name, path=target, changes=changes))
            return 0
        answer = input("  " + _("write {path} ({changes})? [y/N] ").format(path=target, changes=changes)).strip().lower()
        if answer not in ("y", "yes"):
            print("  " + _("nothing written"))
            return 0
    if target.exists():
        error(_("{path} exists; not replaced (remove it or rename it first)").format(path=target))
        return 1
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(tuned_preset_text(preset, result), encoding="utf-8")
    print("  " + _("wrote {path}: train it with  emosum-tui train {preset}").format(path=target, preset=target.stem))
    return 0
