"""Measurement subprocesses (torch): the console starts them and reads their JSON-lines stdout.

Each probe prints `{"kind": "progress", ...}` lines, then one `{"kind": "result", ...}` or
`{"kind": "error", "message": ...}`. Nothing here is imported by the console process.
"""

from __future__ import annotations

import json
import sys
from typing import Any


def emit(kind: str, **body: Any) -> None:
    """One protocol line on stdout, flushed at once so the reader sees progress live."""
    sys.stdout.write(json.dumps({"kind": kind, **body}) + "\n")
    sys.stdout.flush()
