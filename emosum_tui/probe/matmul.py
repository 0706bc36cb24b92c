"""The throughput prior: how fast this machine multiplies matrices, moves memory, writes files.

Run as `python -m emosum_tui.probe.matmul CACHE_DIR`. A few seconds on a CPU. The numbers price
a preset before it is calibrated: FLOPs / matmul rate, bytes moved / memory rate.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from emosum_tui.probe import emit


def _best_of(fn: Callable[[], object], repeats: int) -> float:
    """The fastest of `repeats` runs: other processes only ever slow a run down."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def disk_write_bps(folder: Path, megabytes: int = 64) -> float:
    """Bytes per second of writing a file and syncing it (what saving a checkpoint does)."""
    folder.mkdir(parents=True, exist_ok=True)
    block = os.urandom(1 << 20)
    handle, path = tempfile.mkstemp(prefix="disk-probe-", dir=folder)
    try:
        start = time.perf_counter()
        with os.fdopen(handle, "wb") as file:
            for _ in range(megabytes):
                file.write(block)
            file.flush()
            os.fsync(file.fileno())
        return megabytes * len(block) / (time.perf_counter() - start)
    finally:
        Path(path).unlink(missing_ok=True)


def measure(disk_dir: Path) -> dict[str, float | str | int]:
    import torch

    cuda = torch.cuda.is_available()
    device = torch.device("cuda" if cuda else "cpu")
    name = torch.cuda.get_device_name(0) if cuda else f"cpu ({torch.get_num_threads()} threads)"
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    emit("progress", what="matmul", done=0, total=3)
    n = 4096 if cuda else 1024
    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)

    def matmul() -> None:
        for _ in range(4):
            torch.mm(a, b)
        sync()

    matmul()  # warm-up
    seconds = _best_of(matmul, 3)
    flops = 4 * 2 * n**3 / seconds
    emit("progress", what="memory", done=1, total=3)
    big = torch.empty(32 * 1024 * 1024, device=device)
    out = torch.empty_like(big)

    def copy() -> None:
        out.copy_(big)
        sync()

    copy()
    memory_bps = 2 * big.numel() * 4 / _best_of(copy, 3)  # read + write
    emit("progress", what="disk", done=2, total=3)
    disk_bps = disk_write_bps(disk_dir)
    emit("progress", what="done", done=3, total=3)
    return {"device": name, "matmul_flops": flops, "memory_bps": memory_bps, "disk_bps": disk_bps,
            "threads": torch.get_num_threads()}


def main(argv: list[str]) -> int:
    try:
        emit("result", **measure(Path(argv[0]) if argv else Path(tempfile.gettempdir())))
    except Exception as exc:  # reported to the launcher as a value, never a hang
        emit("error", message=f"{type(exc).__name__}: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
