"""Replace a file whole: a reader sees the old or the new content, never half of one.

Every writer gets its own temporary name (process and thread), so two writers of the same
cache file (the console and the trainer tokenising the same data) cannot trip over one
another's temporary file. On Windows `os.replace` fails while another process has the target
open, so a reader holding it for a moment makes us retry briefly rather than fail.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any


def write_bytes_atomic(path: Path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}.partial")
    partial.write_bytes(data)
    for attempt in range(10):
        try:
            os.replace(partial, path)
            return
        except PermissionError:
            if attempt == 9:
                partial.unlink(missing_ok=True)
                raise
            time.sleep(0.02 * (attempt + 1))


def write_json_atomic(path: Path, body: Any) -> None:
    write_bytes_atomic(path, json.dumps(body, ensure_ascii=False, indent=1, allow_nan=True).encode("utf-8"))
