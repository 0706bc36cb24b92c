"""`emosum-tui generate`: a trained model's reflections for JSON-lines rows, as JSON lines.

    emosum-tui generate RUN_DIR|MODEL_DIR [--input FILE|-] [--max-new-tokens T]
                        [--num-beams K] [--batch-size B]

Each input row is a data row (`case_description` + `consultation_process`, or the run preset's
source fields) or has a plain `source` field; each output line is `{"id": ..., "prediction": ...}`
on stdout, in input order, so the output pipes into other tools. Bad rows are skipped and said
on stderr (exit 1); a model or input that cannot be read is exit 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from emosum_tui.commands.model_session import add_model_arguments, model_from_args, report_problems, start_worker
from emosum_tui.commands.terminal_text import error, shown
from emosum_tui.i18n import _


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("generate",
                                   help=_("generate reflections for JSON-lines rows (stdin or a file) with a trained model"))
    add_model_arguments(parser)
    parser.add_argument("--input", default="-", metavar="FILE|-", help=_("JSON-lines rows to generate for (default: stdin)"))
    parser.add_argument("--num-beams", type=int, default=1, metavar="K", help=_("beam width (default 1: greedy)"))
    parser.add_argument("--batch-size", type=int, default=4, metavar="B", help=_("rows generated together (default 4)"))
    parser.set_defaults(handler=run)


def read_input(text: str, fields: Any) -> Any:
    """The rows of a file or stdin; None after saying on stderr why it cannot be read."""
    from emosum_tui.core.data_encoding import decode_data, shape_problem
    from emosum_tui.core.source_rows import read_sources

    if text == "-":
        return read_sources(sys.stdin.buffer, "<stdin>", fields)
    try:
        raw = Path(text).read_bytes()
    except OSError as exc:
        error(f"--input {text}: {exc.strerror or exc}")
        return None
    decoded = decode_data(raw, Path(text))  # UTF-16 is read; an empty file, an array, GB18030 are named
    problem = decoded.problem or shape_problem(decoded.body, Path(text))
    if problem:
        error(f"--input {text}: {shown(problem)}")
        return None
    return read_sources(decoded.body.splitlines(keepends=True), text, fields)


def run(args: argparse.Namespace) -> int:
    choice = model_from_args(args, "max_new_tokens", "num_beams", "batch_size")
    if choice is None:
        return 2
    read = read_input(args.input, choice.fields)
    if read is None:
        return 2
    report_problems(read.problems)
    if not read.rows:
        error(_("{label}: no rows to generate for").format(label=read.label))
        return 2 if not read.problems else 1
    client = start_worker(choice, args.max_new_tokens, args.num_beams, args.batch_size)
    if client is None:
        return 2
    from emosum_tui.core.generation_client import Prediction, WorkerError, WorkerExited

    failed = 0
    try:
        for index, row in enumerate(read.rows):
            client.send(row.source, id=index)
        client.finish_input()
        for event in client.events():
            if isinstance(event, Prediction):
                print(json.dumps({"id": read.rows[event.id].row_id, "prediction": event.prediction}, ensure_ascii=False),
                      flush=True)
            elif isinstance(event, WorkerError):
                failed += 1
                if isinstance(event.id, int) and event.id < len(read.rows):
                    error(_("row {line}: {message}").format(line=read.rows[event.id].line, message=event.message))
                else:
                    error(event.message)
            elif isinstance(event, WorkerExited) and event.code != 0:
                error(_("the generation worker exited with code {code}: {output}").format(code=event.code,
                                                                                          output=event.stderr_tail))
                return 2
    except KeyboardInterrupt:
        client.kill()
        return 130
    finally:
        client.close()
    return 1 if (failed or read.problems) else 0
