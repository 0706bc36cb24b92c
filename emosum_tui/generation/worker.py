"""The generation worker: loads a seq2seq model folder once and answers requests in JSON Lines.

    python -m emosum_tui.generation.worker MODEL_DIR [--max-new-tokens T] [--num-beams K]
                                           [--batch-size B] [--max-source-tokens S] [--device D]

stdin, one JSON object a line:
    {"id": ..., "source": "...", "stream": false}   a request (`stream` optional)
    {"control": "quit"}                               finish what is queued, then exit (EOF does too)
stdout, one JSON object a line (ASCII-only JSON, so no console encoding can garble it):
    {"type": "ready", "model", "device", "dtype", "max_new_tokens", "num_beams", "batch_size", "max_source_tokens", "seconds"}
    {"type": "token", "id", "text"}                   streamed pieces of a `stream` request's answer
    {"type": "prediction", "id", "prediction", "tokens", "seconds"}
    {"type": "error", "message", "id"?, "line"?, "fatal"?}

A bad line or a failed generation is an `error` line, and the worker goes on; only a model that
cannot be loaded is fatal (exit 1). Requests that arrive together are generated in batches of up
to B with greedy or beam search; a `stream` request runs alone and greedy, because transformers'
streamers take one sequence. Anything a library prints goes to stderr: stdout is the protocol.
"""

from __future__ import annotations

import argparse
import json
import queue
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, TextIO

BATCH_WAIT_SECONDS = 0.05  # how long a batch waits for one more request that is already on its way
_protocol: TextIO = sys.stdout


def emit(kind: str, **body: Any) -> None:
    """One protocol line on the real stdout, flushed at once."""
    _protocol.write(json.dumps({"type": kind, **body}) + "\n")
    _protocol.flush()


@dataclass(frozen=True)
class Request:
    id: Any
    source: str
    stream: bool = False


@dataclass(frozen=True)
class Quit:
    pass


def parse_line(line: str, number: int) -> Request | Quit | str:
    """A request, a quit, or the reason the line is bad."""
    try:
        body = json.loads(line)
    except ValueError as exc:
        return f"line {number}: invalid JSON ({exc.msg} at column {exc.colno})"
    if not isinstance(body, dict):
        return f"line {number}: not a JSON object"
    if "control" in body:
        if body["control"] == "quit":
            return Quit()
        return f"line {number}: unknown control {body['control']!r} (known: 'quit')"
    source = body.get("source")
    if not isinstance(source, str) or not source.strip():
        return f"line {number}: 'source' must be a non-empty string"
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        return f"line {number}: 'stream' must be true or false"
    return Request(id=body.get("id", number), source=source, stream=stream)


def read_stdin(lines: queue.Queue[tuple[int, str] | None]) -> None:
    """Feed stdin's lines to the queue (a thread: the main one generates meanwhile); None at EOF."""
    for number, line in enumerate(sys.stdin, start=1):
        if line.strip():
            lines.put((number, line))
    lines.put(None)


class Batcher:
    """Takes lines off the queue and hands out batches: requests that arrived together, up to B."""

    def __init__(self, lines: queue.Queue[tuple[int, str] | None], batch_size: int) -> None:
        self.lines = lines
        self.batch_size = batch_size
        self.held: deque[Request | Quit | None] = deque()
        self.finished = False

    def _next(self, wait: float | None) -> Request | Quit | None:
        """The next request or quit (None at EOF); bad lines are reported and skipped."""
        while True:
            if self.held:
                return self.held.popleft()
            item = self.lines.get(timeout=wait) if wait is not None else self.lines.get()
            if item is None:
                return None
            number, line = item
            parsed = parse_line(line, number)
            if isinstance(parsed, str):
                emit("error", message=parsed, line=number)
                continue
            return parsed

    def batch(self) -> list[Request]:
        """The next batch (empty once the input is over or a quit came)."""
        if self.finished:
            return []
        first = self._next(None)
        if not isinstance(first, Request):
            self.finished = True
            return []
        batch = [first]
        while not first.stream and len(batch) < self.batch_size:
            try:
                item = self._next(BATCH_WAIT_SECONDS)
            except queue.Empty:
                break
            if isinstance(item, Request) and not item.stream:
                batch.append(item)
            else:
                self.held.append(item)  # a stream request, a quit or EOF: next round
                break
        return batch


class Generator:
    """The model and tokenizer, and how they answer one batch."""

    def __init__(self, model_dir: str, args: argparse.Namespace) -> None:
        import torch
        from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

        self.torch = torch
        self.args = args
        wanted = args.device
        self.device = ("cuda" if torch.cuda.is_available() else "cpu") if wanted == "auto" else wanted
        # mT5 overflows in fp16: bf16 where the GPU has it, else fp32.
        dtype = torch.bfloat16 if self.device.startswith("cuda") and torch.cuda.is_bf16_supported() else torch.float32
        self.dtype = str(dtype).replace("torch.", "")
        self.tokenizer = AutoTokenizer.from_pretrained(model_dir)
        # Loaded, then cast: the keyword for a load-time dtype changed name between transformers releases.
        self.model = AutoModelForSeq2SeqLM.from_pretrained(model_dir).to(device=self.device, dtype=dtype).eval()

    def _options(self, stream: bool) -> dict[str, Any]:
        beams = 1 if stream else self.args.num_beams
        return {"max_new_tokens": self.args.max_new_tokens, "num_beams": beams, "do_sample": False,
                "early_stopping": beams > 1}

    def _encode(self, sources: list[str]) -> Any:
        encoded = self.tokenizer(sources, max_length=self.args.max_source_tokens, truncation=True, padding=True,
                                 return_tensors="pt")
        return encoded.to(self.device)

    def _count(self, ids: Any) -> int:
        special = set(self.tokenizer.all_special_ids)
        return sum(1 for token in ids.tolist() if token not in special)

    def answer(self, batch: list[Request]) -> None:
        """Emit a prediction (and, for a stream request, its tokens) for each request of the batch."""
        started = time.perf_counter()
        options = self._options(batch[0].stream)
        if batch[0].stream:
            options["streamer"] = _token_streamer(self.tokenizer, batch[0].id)
        with self.torch.inference_mode():
            output = self.model.generate(**self._encode([r.source for r in batch]), **options)
        texts = self.tokenizer.batch_decode(output, skip_special_tokens=True)
        seconds = (time.perf_counter() - started) / len(batch)
        for request, ids, text in zip(batch, output, texts, strict=True):
            emit("prediction", id=request.id, prediction=text.strip(), tokens=self._count(ids), seconds=round(seconds, 4))


def _token_streamer(tokenizer: Any, request_id: Any) -> Any:
    """A transformers TextStreamer whose finished pieces become `token` lines."""
    from transformers import TextStreamer

    class TokenLines(TextStreamer):
        def on_finalized_text(self, text: str, stream_end: bool = False) -> None:
            if text:
                emit("token", id=request_id, text=text)

    return TokenLines(tokenizer, skip_prompt=True, skip_special_tokens=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m emosum_tui.generation.worker", description=__doc__.split("\n")[0])
    parser.add_argument("model_dir")
    parser.add_argument("--max-new-tokens", type=int, default=256)
    parser.add_argument("--num-beams", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--max-source-tokens", type=int, default=1024)
    parser.add_argument("--device", default="auto", help="auto (CUDA when available), cpu, cuda or cuda:N")
    args = parser.parse_args(argv)
    for name in ("max_new_tokens", "num_beams", "batch_size", "max_source_tokens"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    global _protocol
    _protocol = sys.stdout
    sys.stdout = sys.stderr  # a library's print must not corrupt the protocol
    if hasattr(sys.stdin, "reconfigure"):
        sys.stdin.reconfigure(encoding="utf-8", errors="replace")
    args = parse_args(argv)
    started = time.perf_counter()
    try:
        generator = Generator(args.model_dir, args)
    except Exception as exc:  # any load failure is the user's folder, said in one line
        emit("error", message=f"{args.model_dir}: cannot load the model: {type(exc).__name__}: {exc}", fatal=True)
        return 1
    emit("ready", model=args.model_dir, device=generator.device, dtype=generator.dtype, max_new_tokens=args.max_new_tokens,
         num_beams=args.num_beams, batch_size=args.batch_size, max_source_tokens=args.max_source_tokens,
         seconds=round(time.perf_counter() - started, 3))
    lines: queue.Queue[tuple[int, str] | None] = queue.Queue()
    threading.Thread(target=read_stdin, args=(lines,), name="stdin", daemon=True).start()
    batcher = Batcher(lines, args.batch_size)
    try:
        while batch := batcher.batch():
            try:
                generator.answer(batch)
            except Exception as exc:  # one failed batch (too long, out of memory) is reported, the rest goes on
                for request in batch:
                    emit("error", id=request.id, message=f"generation failed: {type(exc).__name__}: {exc}")
    except (KeyboardInterrupt, BrokenPipeError):
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
