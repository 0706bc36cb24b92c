"""`emosum-tui try`: paste a case description or dialogue, watch the model's reflection stream.

    emosum-tui try RUN_DIR|MODEL_DIR [--max-new-tokens T]

At a terminal: paste, then an empty line; the reflection streams token by token; again until
Ctrl+D (Ctrl+Z Enter on Windows). With stdin not a terminal (a pipe, a file) the whole input is
one dialogue, read to the end. A pasted JSON data row is turned into its source like the
training rows. The model loads while the user pastes, so the first answer starts sooner.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from typing import Any

from emosum_tui.commands.model_session import add_model_arguments, await_ready, model_from_args, start_worker
from emosum_tui.commands.terminal_text import error
from emosum_tui.i18n import _


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("try", help=_("paste a dialogue and watch a trained model's reflection stream"))
    add_model_arguments(parser)
    parser.set_defaults(handler=run)


def pasted_texts(interactive: bool) -> Iterator[str]:
    """Each pasted text: at a terminal ended by an empty line, otherwise all of stdin as one."""
    if not interactive:
        text = sys.stdin.read().strip()
        if text:
            yield text
        return
    while True:
        print("\n" + _("paste a case description or dialogue, then an empty line (Ctrl+D quits):"), file=sys.stderr, flush=True)
        lines: list[str] = []
        for line in sys.stdin:
            if not line.strip():
                if lines:
                    break
                continue
            lines.append(line.rstrip("\n"))
        else:
            if lines:
                yield "\n".join(lines)
            return
        yield "\n".join(lines)


def source_text(text: str, fields: Any) -> str:
    """A pasted JSON data row becomes its source (as in training); any other text is used as it is."""
    if text.startswith("{"):
        try:
            row = json.loads(text)
        except ValueError:
            return text
        if isinstance(row, dict):
            from emosum_tui.core.source_rows import source_of

            source, _fields_used = source_of(row, fields)
            if source:
                return source
    return text


def stream_one(client: Any, text: str) -> int:
    """Send one text, print its tokens as they come; 0 when a prediction ended it."""
    from emosum_tui.core.generation_client import Prediction, Token, WorkerError, WorkerExited

    request = client.send(text, stream=True)
    streamed = False
    while True:
        event = client.next_event()
        if isinstance(event, Token) and event.id == request:
            sys.stdout.write(event.text)
            sys.stdout.flush()
            streamed = True
        elif isinstance(event, Prediction) and event.id == request:
            if not streamed:
                sys.stdout.write(event.prediction)
            sys.stdout.write("\n")
            sys.stdout.flush()
            print(_("({n} tokens, {seconds} s)").format(n=event.tokens, seconds=f"{event.seconds:.1f}"), file=sys.stderr, flush=True)
            return 0
        elif isinstance(event, WorkerError):
            print(file=sys.stderr)
            error(event.message)
            if event.id == request or event.fatal:
                return 1
        elif isinstance(event, WorkerExited):
            print(file=sys.stderr)
            error(_("the generation worker exited with code {code}: {output}").format(code=event.code, output=event.stderr_tail))
            return 2


def run(args: argparse.Namespace) -> int:
    choice = model_from_args(args, "max_new_tokens")
    if choice is None:
        return 2
    client = start_worker(choice, args.max_new_tokens, wait=False)  # it loads while the user pastes
    worst = 0
    ready = False
    try:
        for text in pasted_texts(sys.stdin.isatty()):
            if not ready:
                if await_ready(client) is None:
                    return 2
                ready = True
            code = stream_one(client, source_text(text, choice.fields))
            worst = max(worst, code)
            if code == 2:
                break
    except KeyboardInterrupt:
        client.kill()
        return 130
    finally:
        client.close()
    return worst
