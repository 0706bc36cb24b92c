"""`emosum-tui doctor [--preset NAME] [--json] [--strict]`: will this machine train this plan well?

`emosum-tui doctor --run RUN [--apply]` explains a run instead: the live diagnoses logged for it
and, when it failed, what happened and the smallest fix (`--apply` applies it and resumes, as
the console's `a` does).

Checks torch's build against the GPU NVML sees (the CPU-only wheel next to an NVIDIA GPU is
the classic 100x slowdown), CUDA runtime vs driver, estimated peak memory vs free VRAM/RAM,
peak disk vs free space, precision, the model's files and the data. Without `--preset` every
preset in presets/ is checked. Torch is asked in a subprocess. Exit 0 when the checks ran
(with `--strict`: 1 when any finding is an error), 2 when a preset cannot be read.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emosum_tui.commands.terminal_text import error, shown
from emosum_tui.i18n import N_, _
from emosum_tui.ui.format import pad_cells

if TYPE_CHECKING:
    from emosum_tui.doctor.findings import Finding

SYMBOL = {"error": "✗", "warning": "!", "info": "·", "ok": "✓"}
SEVERITY = {"error": N_("ERROR"), "warning": N_("WARNING"), "info": N_("INFO"), "ok": N_("OK")}


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("doctor", help=_("preflight: torch build vs GPU, memory, disk, precision, model, data"))
    parser.add_argument("--preset", help=_("preset to check (name or .toml path); default: every preset in presets/"))
    parser.add_argument("--json", action="store_true", help=_("print the findings and the facts as JSON"))
    parser.add_argument("--strict", action="store_true", help=_("exit 1 when any finding is an error"))
    parser.add_argument("--run", metavar="RUN", help=_("explain a run instead (its folder, its name under runs/, or 'latest')"))
    parser.add_argument("--apply", action="store_true",
                        help=_("with --run: apply the fix and resume the run, when that is safe"))
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.run:
        return explain_run(args)
    if args.apply:
        error(_("--apply needs --run RUN"))
        return 2
    from emosum_tui.core.presets import PresetError, load_all, load_preset
    from emosum_tui.doctor.findings import worst_first
    from emosum_tui.doctor.preflight import (
        check_cuda_versions,
        check_torch_build,
        gather_machine_facts,
        plan_facts,
        run_preflight,
    )
    from emosum_tui.monitor.resources import free_disk_at

    try:
        presets = [load_preset(args.preset)] if args.preset else load_all()[0]
    except PresetError as exc:
        error(exc)
        return 2
    from emosum_tui.core.sample_notice import print_sample_notice

    print_sample_notice(presets)
    disk_at = presets[0].output_dir if presets else Path.cwd()
    facts = gather_machine_facts(disk_at)
    plans = {p.name: plan_facts(p, facts) for p in presets}
    machine = worst_first([*check_torch_build(facts, plans.get(presets[0].name) if presets else None), *check_cuda_versions(facts)])
    machine_codes = {f.code for f in machine}
    per_preset: dict[str, list[Finding]] = {}
    for preset in presets:
        preset_facts = facts if preset.output_dir == disk_at else replace(facts, disk_free=free_disk_at(preset.output_dir))
        per_preset[preset.name] = [f for f in run_preflight(preset, preset_facts, plans[preset.name]) if f.code not in machine_codes]

    if args.json:
        body = {
            "machine": facts.to_dict(),
            "findings": [f.to_dict() for f in machine],
            "presets": {
                name: {"plan": None if plans[name] is None else asdict(plans[name]), "findings": [f.to_dict() for f in found]}
                for name, found in per_preset.items()
            },
        }
        print(json.dumps(body, indent=2, ensure_ascii=False, default=str))
    else:
        _print_text(machine, per_preset, SYMBOL)
    errors = any(f.severity == "error" for f in [*machine, *(f for found in per_preset.values() for f in found)])
    return 1 if args.strict and errors else 0


def _print_text(machine: list[Finding], per_preset: dict[str, list[Finding]], symbol: dict[str, str]) -> None:
    def show(finding: Finding) -> None:
        print(f"  {symbol[finding.severity]} {pad_cells(_(SEVERITY[finding.severity]), 7)} {finding.title}")
        print("      " + _("evidence: {evidence}").format(evidence=finding.evidence))
        if finding.fix:
            print("      " + _("fix: {fix}").format(fix=finding.fix))

    print(_("This machine"))
    for finding in machine:
        show(finding)
    for name, found in per_preset.items():
        print("\n" + _("Preset {name}").format(name=name))
        for finding in found:
            show(finding)


def explain_run(args: argparse.Namespace) -> int:
    """Diagnoses logged for a run and, when it failed, the advice; `--apply` resumes with the fix."""
    from emosum_tui.commands.watch_cmd import resolve_run_dir
    from emosum_tui.doctor.advice import advise, apply_and_resume
    from emosum_tui.doctor.live import read_diagnoses

    found = resolve_run_dir(args.run)
    if isinstance(found, str):
        error(found)
        return 2
    diagnoses = read_diagnoses(found)
    advice = advise(found)
    if args.json:
        body: dict[str, Any] = {"run_dir": str(found), "diagnoses": [f.to_dict() for f in diagnoses], "advice": None}
        if advice is not None:
            body["advice"] = {**asdict(advice), "checkpoint": str(advice.checkpoint) if advice.checkpoint else None,
                              "can_resume": advice.can_resume}
        print(json.dumps(body, indent=2, ensure_ascii=False, default=str))
    else:
        _print_run(found.name, diagnoses, advice, args.run)
    if args.apply:
        if advice is None or not advice.can_resume:
            error(_("nothing to apply: the run has not failed") if advice is None
                  else _("nothing to apply: this fix needs a new run"))
            return 1
        preset_path, process = apply_and_resume(found, advice)
        print(_("resuming {run} with {preset_file} (trainer pid {pid}); follow it: emosum-tui watch {run_dir}").format(
            run=found.name, preset_file=preset_path.name, pid=process.pid, run_dir=found))
    return 0


def _print_run(name: str, diagnoses: list[Finding], advice: Any, ref: str) -> None:
    print(_("Run {name}").format(name=name))
    if diagnoses:
        print(_("Diagnosed while it ran:"))
        for finding in diagnoses:
            print(f"  {SYMBOL[finding.severity]} {finding.title}")
            print("      " + _("evidence: {evidence}").format(evidence=finding.evidence))
            print("      " + _("fix: {fix}").format(fix=finding.fix))
    if advice is None:
        print(_("It has not failed."))
        return
    print(_("Failed: {title}").format(title=shown(advice.title)))
    print("  " + _("what happened: {happened}").format(happened=shown(advice.happened)))
    print("  " + _("smallest fix: {fix}").format(fix=shown(advice.fix)))
    if advice.can_resume:
        changes = ", ".join(f"{k} = {v!r}" for k, v in advice.changes.items()) or _("no change")
        print("  " + _("apply and resume ({changes}) from {checkpoint}: emosum-tui doctor --run {run} --apply").format(
            changes=changes, checkpoint=advice.checkpoint, run=ref))
