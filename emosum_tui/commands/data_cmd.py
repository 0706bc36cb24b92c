"""`emosum-tui data check [PATH...] [--preset NAME] [--json]`: is the data fit to train on?

Reads (never writes) each file and reports bad rows as `file:line: reason`, duplicates, ids
shared between train and validation, length statistics, the preset's subsample view (before
and after, to show the distribution is kept), token lengths and truncation at the preset's
max lengths, and low target diversity. Exit status 1 when a file has bad rows, 2 when a file
or preset cannot be read at all (missing, empty, not JSON Lines, a legacy code page: one message
each, with the conversion). UTF-16 files are read as they are and the report says so.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emosum_tui.commands.terminal_text import error, shown
from emosum_tui.core.data import PairFields, Problem, ReadResult, count_by_reason, ids_shared, read_pairs
from emosum_tui.core.diversity import DiversityReport, target_diversity
from emosum_tui.core.presets import Preset, PresetError, load_preset, resolve_path
from emosum_tui.core.sampling import LengthStats, subsample_indices
from emosum_tui.i18n import _
from emosum_tui.ui.format import pad_cells

MAX_LISTED = 50  # bad lines printed per file; the JSON always has them all


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("data", help=_("check data files: bad lines, duplicates, lengths, truncation, diversity"))
    sub = parser.add_subparsers(dest="data_action", metavar="ACTION", required=True)
    check = sub.add_parser("check", help=_("validate JSON-lines files and print a report"))
    check.add_argument("paths", nargs="*", type=Path, help=_("files to check (default: the preset's train and validation files)"))
    check.add_argument("--preset", help=_("preset whose fields, view and max lengths apply (name or .toml path)"))
    check.add_argument("--json", action="store_true", help=_("print the report as JSON"))
    check.set_defaults(handler=run)


@dataclass
class FileReport:
    result: ReadResult
    diversity: DiversityReport

    def as_dict(self) -> dict[str, Any]:
        r = self.result
        return {
            "path": str(r.path),
            "encoding": r.encoding,
            "file_problem": r.file_problem,
            "good_rows": len(r.pairs),
            "bad_rows": len(r.problems),
            "problems": [{"line": p.line, "reason": p.reason} for p in r.problems],
            "problem_counts": dict(count_by_reason(r.problems)),
            "blank_lines": r.blank_lines,
            "duplicates": [{"line": p.line, "reason": p.reason} for p in r.duplicates],
            "source_chars": LengthStats.of([len(p.source) for p in r.pairs]).as_dict(),
            "target_chars": LengthStats.of([len(p.target) for p in r.pairs]).as_dict(),
            "diversity": {
                "constant_rouge1": self.diversity.constant_rouge1,
                "constant_rouge2": self.diversity.constant_rouge2,
                "unique_share": self.diversity.unique_share,
                "low": self.diversity.low,
                "message": self.diversity.message(),
            },
        }


def view_report(preset: Preset, result: ReadResult) -> dict[str, Any]:
    """The preset's subsample of the train file, with char-length quantiles before and after."""
    indices = subsample_indices(len(result.pairs), preset["data.train_samples"], preset["data.train_fraction"], preset["data.seed"])
    chosen = [result.pairs[i] for i in indices]
    return {
        "rows_in_file": len(result.pairs),
        "rows_used": len(chosen),
        "seed": preset["data.seed"],
        "before": {
            "source_chars": LengthStats.of([len(p.source) for p in result.pairs]).as_dict(),
            "target_chars": LengthStats.of([len(p.target) for p in result.pairs]).as_dict(),
        },
        "after": {
            "source_chars": LengthStats.of([len(p.source) for p in chosen]).as_dict(),
            "target_chars": LengthStats.of([len(p.target) for p in chosen]).as_dict(),
        },
    }


def _stats_line(label: str, stats: dict[str, float]) -> str:
    figures = {name: f"{stats[name]:>7,.0f}" for name in ("p50", "p90", "p99", "max")}
    return f"  {pad_cells(label, 14)} " + _("p50 {p50}  p90 {p90}  p99 {p99}  max {max}").format(**figures)


def print_report(report: dict[str, Any]) -> None:
    for item in report["files"]:
        path = item["path"]
        if item["file_problem"]:
            error(f"{path}: {shown(item['file_problem'])}")
            continue
        print(_("{path}: {good} good rows, {bad} bad").format(path=path, good=f"{item['good_rows']:,}", bad=f"{item['bad_rows']:,}"))
        if item["encoding"] != "UTF-8":
            print("  " + _("read as {encoding} (the file is left as it is)").format(encoding=shown(item["encoding"])))
        for problem in item["problems"][:MAX_LISTED]:
            print(f"  {path}:{problem['line']}: {shown(problem['reason'])}")
        if item["bad_rows"] > MAX_LISTED:
            print("  " + _("… {n} more (use --json for all)").format(n=item["bad_rows"] - MAX_LISTED))
        for dup in item["duplicates"][:10]:
            print("  " + _("warning: {message}").format(message=f"{path}:{dup['line']}: {shown(dup['reason'])}"))
        if len(item["duplicates"]) > 10:
            more = _("… {n} more repeated rows").format(n=len(item["duplicates"]) - 10)
            print("  " + _("warning: {message}").format(message=more))
        if item["blank_lines"]:
            print("  " + _("{n} blank line(s) skipped").format(n=item["blank_lines"]))
        print(_stats_line(_("source chars"), item["source_chars"]))
        print(_stats_line(_("target chars"), item["target_chars"]))
        print(f"  {shown(item['diversity']['message'])}")
    for shared in report["shared_ids"][:10]:
        print(_("warning: {message}").format(message=shown(shared)))
    if len(report["shared_ids"]) > 10:
        more = _("… {n} more ids shared between train and validation").format(n=len(report["shared_ids"]) - 10)
        print(_("warning: {message}").format(message=more))
    view = report.get("view")
    if view:
        print(_("view ({preset}): {used} of {total} rows, seed {seed} (files untouched)").format(
            preset=report["preset"], used=f"{view['rows_used']:,}", total=f"{view['rows_in_file']:,}", seed=view["seed"]))
        print(_stats_line(_("before source"), view["before"]["source_chars"]))
        print(_stats_line(_("after  source"), view["after"]["source_chars"]))
        print(_stats_line(_("before target"), view["before"]["target_chars"]))
        print(_stats_line(_("after  target"), view["after"]["target_chars"]))
    tokens = report.get("tokens")
    if tokens:
        print(_("tokens ({basis}):").format(basis=shown(tokens["basis"])))
        print(_stats_line(_("source tokens"), tokens["source"]))
        print(_stats_line(_("target tokens"), tokens["target"]))
        print("  " + _("at {source_max}/{target_max} tokens: source cut in {source_rows} of rows ({source_lost} of tokens "
                       "lost), target cut in {target_rows} of rows ({target_lost} of tokens lost)").format(
            source_max=tokens["max_source_tokens"], target_max=tokens["max_target_tokens"],
            source_rows=f"{tokens['source_rows_cut']:.0%}", source_lost=f"{tokens['source_tokens_cut']:.0%}",
            target_rows=f"{tokens['target_rows_cut']:.0%}", target_lost=f"{tokens['target_tokens_cut']:.0%}"))
    elif report.get("preset") is None:
        print(_("(pass --preset NAME for the subsample view, token lengths and truncation at its max lengths)"))


def build_report(paths: list[Path], preset: Preset | None) -> dict[str, Any]:
    fields = PairFields.from_preset(preset) if preset else PairFields()
    results = [read_pairs(path, fields) for path in paths]
    files = [FileReport(r, target_diversity([p.target for p in r.pairs])) for r in results]
    shared: list[Problem] = []
    for other in results[1:]:
        shared += ids_shared(results[0], other)
    report: dict[str, Any] = {
        "preset": preset.name if preset else None,
        "files": [f.as_dict() for f in files],
        "shared_ids": shared,  # Problems: str() (English) in the JSON, `shown()` in the report
    }
    if preset is not None and not any(r.file_problem for r in results):
        if results and results[0].path == preset.train_file:
            report["view"] = view_report(preset, results[0])
        from emosum_tui.core.token_stats import token_report

        report["tokens"] = token_report(preset).as_dict()
    return report


def run(args: argparse.Namespace) -> int:
    preset = None
    if args.preset:
        try:
            preset = load_preset(args.preset)
        except PresetError as exc:
            error(exc)
            return 2
    if args.paths:
        paths = [p.resolve() for p in args.paths]
    elif preset:
        paths = [preset.train_file, preset.validation_file]
    else:
        paths = [resolve_path("data/train/Emotion_Summary.jsonl"), resolve_path("data/validation/Emotion_Summary.jsonl")]
    for path in paths:
        if not path.is_file():
            if args.paths:
                error(_("{path}: no such file").format(path=path))
            else:
                error(_("{path}: no such file (put your data there: `emosum-tui init` writes the layout; "
                        "the bundled sample: emosum-tui data check --preset demo)").format(path=path))
            return 2
    if preset is not None:
        from emosum_tui.core.sample_notice import print_sample_notice

        print_sample_notice([preset])
    report = build_report(paths, preset)
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False, default=str))
        for item in report["files"]:
            if item["file_problem"]:
                error(f"{item['path']}: {shown(item['file_problem'])}")
    else:
        print_report(report)
    if any(item["file_problem"] for item in report["files"]):
        return 2  # a file that cannot be read as JSON Lines at all: unreadable input
    return 1 if any(item["bad_rows"] for item in report["files"]) else 0
