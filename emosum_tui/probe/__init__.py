"""Measurement subprocesses (torch): the console starts them and reads their JSON-lines stdout.

Each probe prints `{"kind": "progress", ...}` lines, then one `{"kind": "result", ...}` or
`{"kind": "error", "message": ...}`. Nothing here is imported by the console process.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any


def emit(kind: str, **body: Any) -> None:
    """One protocol line on stdout, flushed at once so the reader sees progress live."""
    sys.stdout.write(json.dumps({"kind": kind, **body}) + "\n")
    sys.stdout.flush()


def report(measure: Callable[[], dict[str, Any]]) -> int:
    """Run a probe's measurement and emit its result, or its failure as an `error` line (a value
    for the launcher, never a traceback it must parse); the process exit code."""
    try:
        emit("result", **measure())
    except Exception as exc:
        emit("error", message=f"{type(exc).__name__}: {exc}")
        return 1
    return 0
