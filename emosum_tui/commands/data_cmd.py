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
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emosum_tui.core.data import PairFields, Problem, ReadResult, count_by_reason, ids_shared, read_pairs
from emosum_tui.core.diversity import DiversityReport, target_diversity
from emosum_tui.core.presets import Preset, PresetError, load_preset, resolve_path
from emosum_tui.core.sampling import LengthStats, subsample_indices

MAX_LISTED = 50  # bad lines printed per file; the JSON always has them all


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("data", help="check data files: bad lines, duplicates, lengths, truncation, diversity")
    sub = parser.add_subparsers(dest="data_action", metavar="ACTION", required=True)
    check = sub.add_parser("check", help="validate JSON-lines files and print a report")
    check.add_argument("paths", nargs="*", type=Path, help="files to check (default: the preset's train and validation files)")
    check.add_argument("--preset", help="preset whose fields, view and max lengths apply (name or .toml path)")
    check.add_argument("--json", action="store_true", help="print the report as JSON")
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
    return f"  {label:<14} p50 {stats['p50']:>7,.0f}  p90 {stats['p90']:>7,.0f}  p99 {stats['p99']:>7,.0f}  max {stats['max']:>7,.0f}"


def print_report(report: dict[str, Any]) -> None:
    for item in report["files"]:
        if item["file_problem"]:
            print(f"error: {item['path']}: {item['file_problem']}", file=sys.stderr)
            continue
        print(f"{item['path']}: {item['good_rows']:,} good rows, {item['bad_rows']:,} bad")
        if item["encoding"] != "UTF-8":
            print(f"  read as {item['encoding']} (the file is left as it is)")
        for problem in item["problems"][:MAX_LISTED]:
            print(f"  {item['path']}:{problem['line']}: {problem['reason']}")
        if item["bad_rows"] > MAX_LISTED:
            print(f"  … {item['bad_rows'] - MAX_LISTED} more (use --json for all)")
        for dup in item["duplicates"][:10]:
            print(f"  warning: {item['path']}:{dup['line']}: {dup['reason']}")
        if len(item["duplicates"]) > 10:
            print(f"  warning: … {len(item['duplicates']) - 10} more repeated rows")
        if item["blank_lines"]:
            print(f"  {item['blank_lines']} blank line(s) skipped")
        print(_stats_line("source chars", item["source_chars"]))
        print(_stats_line("target chars", item["target_chars"]))
        print(f"  {item['diversity']['message']}")
    for shared in report["shared_ids"][:10]:
        print(f"warning: {shared}")
    if len(report["shared_ids"]) > 10:
        print(f"warning: … {len(report['shared_ids']) - 10} more ids shared between train and validation")
    view = report.get("view")
    if view:
        print(f"view ({report['preset']}): {view['rows_used']:,} of {view['rows_in_file']:,} rows, seed {view['seed']} (files untouched)")
        print(_stats_line("before source", view["before"]["source_chars"]))
        print(_stats_line("after  source", view["after"]["source_chars"]))
        print(_stats_line("before target", view["before"]["target_chars"]))
        print(_stats_line("after  target", view["after"]["target_chars"]))
    tokens = report.get("tokens")
    if tokens:
        print(f"tokens ({tokens['basis']}):")
        print(_stats_line("source tokens", tokens["source"]))
        print(_stats_line("target tokens", tokens["target"]))
        print(
            f"  at {tokens['max_source_tokens']}/{tokens['max_target_tokens']} tokens: "
            f"source cut in {tokens['source_rows_cut']:.0%} of rows ({tokens['source_tokens_cut']:.0%} of tokens lost), "
            f"target cut in {tokens['target_rows_cut']:.0%} of rows ({tokens['target_tokens_cut']:.0%} of tokens lost)"
        )
    elif report.get("preset") is None:
        print("(pass --preset NAME for the subsample view, token lengths and truncation at its max lengths)")


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
        "shared_ids": [str(p) for p in shared],
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
            print(f"error: {exc}", file=sys.stderr)
            return 2
    if args.paths:
        paths = [p.resolve() for p in args.paths]
    elif preset:
        paths = [preset.train_file, preset.validation_file]
    else:
        paths = [resolve_path("data/train/Emotion_Summary.jsonl"), resolve_path("data/validation/Emotion_Summary.jsonl")]
    for path in paths:
        if not path.is_file():
            hint = "" if args.paths else (" (put your data there: `emosum-tui init` writes the layout;"
                                          " the bundled sample: emosum-tui data check --preset demo)")
            print(f"error: {path}: no such file{hint}", file=sys.stderr)
            return 2
    if preset is not None:
        from emosum_tui.core.sample_notice import print_sample_notice

        print_sample_notice([preset])
    report = build_report(paths, preset)
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
        for item in report["files"]:
            if item["file_problem"]:
                print(f"error: {item['path']}: {item['file_problem']}", file=sys.stderr)
    else:
        print_report(report)
    if any(item["file_problem"] for item in report["files"]):
        return 2  # a file that cannot be read as JSON Lines at all: unreadable input
    return 1 if any(item["bad_rows"] for item in report["files"]) else 0
