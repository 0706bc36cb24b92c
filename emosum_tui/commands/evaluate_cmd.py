"""`emosum-tui evaluate`: a trained model's ROUGE on held-out rows, beside the constant baseline.

    emosum-tui evaluate RUN_DIR|MODEL_DIR [--data FILE] [--limit N] [--batch-size B]
                        [--num-beams K] [--max-new-tokens T] [--out FILE] [--json]

The targets are largely one template, so ROUGE alone says little: the report puts the model's
ROUGE-1/2/L F1 next to what always writing the most typical target scores, with the mean
generated length and the share of distinct predictions (a model that writes the template for
every dialogue has a share near 1/N). Data: `--data`, else the run preset's validation file,
else `data/validation/Emotion_Summary.jsonl`, read through the preset's field mapping (the
official 150-item file reads the same way; its extra reference fields are ignored).
Predictions go to `--out` (default `<model>/predictions.jsonl`), never over a data file.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emosum_tui.commands.model_session import add_model_arguments, model_from_args, report_problems, start_worker
from emosum_tui.commands.terminal_text import error, rjust
from emosum_tui.i18n import _
from emosum_tui.ui.format import pad_cells

if TYPE_CHECKING:
    from emosum_tui.core.presets import Preset

DEFAULT_DATA = Path("data/validation/Emotion_Summary.jsonl")
PREDICTIONS_FILE = "predictions.jsonl"


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("evaluate",
                                   help=_("ROUGE of a trained model on validation rows, beside the constant-template baseline"))
    add_model_arguments(parser)
    parser.add_argument("--data", metavar="FILE", help=_("JSON-lines rows with targets (default: the run's validation file)"))
    parser.add_argument("--limit", type=int, metavar="N", help=_("the first N good rows only"))
    parser.add_argument("--batch-size", type=int, default=8, metavar="B", help=_("rows generated together (default 8)"))
    parser.add_argument("--num-beams", type=int, metavar="K", help=_("beam width (default: the run's eval.num_beams, else 1)"))
    parser.add_argument("--out", metavar="FILE", help=_("predictions JSON lines (default: <model>/predictions.jsonl)"))
    parser.add_argument("--json", action="store_true", help=_("print the scores as JSON"))
    parser.set_defaults(handler=run)


def data_file(args: argparse.Namespace, preset: Preset | None) -> Path:
    if args.data:
        return Path(args.data)
    if preset is not None:
        return preset.validation_file
    from emosum_tui.core.presets import workspace_or_sample

    return workspace_or_sample(DEFAULT_DATA.as_posix())


def looks_like_data(path: Path, fields: Any) -> bool:
    """Does this existing file hold data rows (a target field), not predictions? Then it must not be overwritten."""
    try:
        with path.open("rb") as handle:
            first = next((line for line in handle if line.strip()), b"")
        row = json.loads(first.decode("utf-8", errors="replace")) if first else None
    except (OSError, ValueError):
        return False
    return isinstance(row, dict) and "prediction" not in row and fields.target_field in row


def out_problem(out: Path, data: Path, fields: Any) -> str | None:
    """Why predictions may not be written to `out` (None when they may)."""
    if out.exists() and data.exists() and out.resolve() == data.resolve():
        return _("--out {path} is the data file: predictions never overwrite data").format(path=out)
    if out.is_dir():
        return _("--out {path} is a folder").format(path=out)
    if out.exists() and looks_like_data(out, fields):
        return _("--out {path} holds data rows (a '{field}' field): predictions never overwrite data").format(
            path=out, field=fields.target_field)
    return None


class Progress:
    """`predicted 12/150, 0:01:03 left` on stderr: rewritten in place on a terminal, else every tenth."""

    def __init__(self, total: int) -> None:
        from emosum_tui.ui.format import human_duration

        self.total = total
        self.started = time.monotonic()
        self.tty = sys.stderr.isatty()
        self.every = max(1, total // 10)
        self.human_duration = human_duration

    def update(self, done: int) -> None:
        if not self.tty and done % self.every and done != self.total:
            return
        elapsed = time.monotonic() - self.started
        left = elapsed / done * (self.total - done) if done else None
        text = _("predicted {done}/{total}, {elapsed} so far, {left} left").format(
            done=done, total=self.total, elapsed=self.human_duration(elapsed), left=self.human_duration(left))
        if self.tty:
            print("\r" + pad_cells(text, 72), end="\n" if done == self.total else "", file=sys.stderr, flush=True)
        else:
            print(text, file=sys.stderr, flush=True)


def generate_all(client: Any, pairs: list[Any]) -> tuple[dict[int, str], list[str], int | None]:
    """(predictions by row index, error messages, worker exit code when it died) for every pair."""
    from emosum_tui.core.generation_client import Prediction, WorkerError, WorkerExited

    predictions: dict[int, str] = {}
    errors: list[str] = []
    progress = Progress(len(pairs))
    for index, pair in enumerate(pairs):
        client.send(pair.source, id=index)
    client.finish_input()
    for event in client.events():
        if isinstance(event, Prediction) and isinstance(event.id, int):
            predictions[event.id] = event.prediction
            progress.update(len(predictions) + len(errors))
        elif isinstance(event, WorkerError):
            line = pairs[event.id].line if isinstance(event.id, int) and event.id < len(pairs) else None
            errors.append(_("line {line}: {message}").format(line=line, message=event.message) if line else event.message)
        elif isinstance(event, WorkerExited) and event.code != 0:
            return predictions, errors, event.code
    return predictions, errors, None


def write_predictions(out: Path, pairs: list[Any], predictions: dict[int, str]) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    with partial.open("w", encoding="utf-8") as handle:
        for index, pair in enumerate(pairs):
            if index in predictions:
                row = {"id": pair.row_id, "prediction": predictions[index], "reference": pair.target}
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    partial.replace(out)


def text_report(summary: Any, rows: int, out: Path) -> str:
    model, base = summary.model, summary.baseline.scores
    mean_length, distinct = pad_cells(_("mean length (tokens)"), 26), pad_cells(_("distinct predictions"), 26)
    lines = [_("{rows} rows; predictions in {path}").format(rows=rows, path=out),
             f"  {'':<26} " + rjust(_("model"), 8) + " " + rjust(_("baseline"), 9),
             *(f"  {label:<26} {getattr(model, key):>8.4f} {getattr(base, key):>9.4f}"
               for label, key in (("ROUGE-1 F1", "rouge1"), ("ROUGE-2 F1", "rouge2"), ("ROUGE-L F1", "rougeL"))),
             f"  {mean_length} {summary.mean_generated_tokens:>8.1f} {summary.mean_reference_tokens:>9.1f}",
             f"  {distinct} {summary.distinct_share:>8.0%} {1 / rows:>9.0%}"]
    if max(base.rouge1, base.rougeL) >= max(model.rouge1, model.rougeL):
        lines.append("  " + _("the constant baseline scores as high: ROUGE here does not show the model reading the dialogue"))
    lines.append("  " + _("baseline = always the most typical target (reference {n}):").format(n=summary.baseline.index + 1))
    lines.append(f"    {summary.baseline.text[:160]}{'…' if len(summary.baseline.text) > 160 else ''}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    choice = model_from_args(args, "max_new_tokens", "num_beams", "batch_size", "limit")
    if choice is None:
        return 2
    from emosum_tui.core.data import read_pairs

    data = data_file(args, choice.preset)
    try:
        read = read_pairs(data, choice.fields)
    except OSError as exc:
        error(f"{data}: {exc.strerror or exc}")
        return 2
    if read.file_problem:
        error(read.file_error())
        return 2
    report_problems(read.problems)
    pairs = read.pairs[: args.limit] if args.limit else read.pairs
    if not pairs:
        error(_("{path}: no usable rows (fields {sources} -> {target})").format(
            path=data, sources=", ".join(choice.fields.source_fields), target=choice.fields.target_field))
        return 2
    out = Path(args.out) if args.out else choice.resolved.model_dir / PREDICTIONS_FILE
    problem = out_problem(out, data, choice.fields)
    if problem:
        error(problem)
        return 2
    beams = args.num_beams or int(choice.preset_value("eval.num_beams", 1))
    client = start_worker(choice, args.max_new_tokens, beams, args.batch_size)
    if client is None:
        return 2
    try:
        predictions, errors, died = generate_all(client, pairs)
    except KeyboardInterrupt:
        client.kill()
        return 130
    finally:
        client.close()
    for message in errors:
        error(message)
    if died is not None:
        error(_("the generation worker exited with code {code} after {done} of {total} rows").format(
            code=died, done=len(predictions), total=len(pairs)))
    if not predictions:
        return 2
    write_predictions(out, pairs, predictions)
    from emosum_tui.core.rouge import summarize

    kept = [i for i in range(len(pairs)) if i in predictions]
    summary = summarize([predictions[i] for i in kept], [pairs[i].target for i in kept])
    if args.json:
        body = {**summary.as_dict(), "rows": len(kept), "predictions": str(out), "data": str(data),
                "model_dir": str(choice.resolved.model_dir), "skipped_rows": len(read.problems), "failed_rows": len(errors)}
        print(json.dumps(body, indent=1, ensure_ascii=False))
    else:
        print(text_report(summary, len(kept), out))
    skipped = len(read.problems) + len(errors) + (len(pairs) - len(kept))
    if skipped:
        print(_("{n} rows skipped (bad rows or failed generations): see above").format(n=skipped), file=sys.stderr)
    return 1 if skipped else 0
