"""Start-up of the console to its first frame, against a minimal Textual app on the same machine.

Target: `emosum-tui` shows its first frame in under one second on a 2-core machine. Each
sample is a fresh interpreter (what a user pays when typing `emosum-tui`): from just before
the process is spawned to the app's `Ready` event (DOM ready, first frame drawn), then the
app exits. Both apps run headless, alternately, after one warm-up each (the OS file cache
warm, as on a second start). The console's estimates and token counts run in worker threads
after the first frame; a private cache folder keeps the checkout's `.cache/` untouched.

    .venv/bin/python bench/bench_startup.py [--runs 7]

The last line gives the figures side by side and their ratio.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[1]


def timed(app_source: str, app_class: str) -> str:
    """A script: `app_source` (imports and the App subclass `app_class`), then a subclass of it that
    prints `READY <time> RSS <KiB> HEAVY <trainer-side modules>` at its first frame and exits, run
    headless at the console's size."""
    return app_source + f"""
import resource, sys, time

class Timed({app_class}):
    def on_ready(self):
        heavy = [m for m in sys.modules if m.split(".")[0] in ("torch", "transformers", "datasets")]
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(f"READY {{time.time():.6f}} RSS {{rss}} HEAVY {{len(heavy)}}", flush=True)
        self.exit()

Timed().run(headless=True, size=(160, 50))
"""


MINIMAL = timed("""
from textual.app import App
from textual.widgets import Footer, Header, Static

class Minimal(App):
    def compose(self):
        yield Header()
        yield Static("hello")
        yield Footer()
""", "Minimal")

# The minimal app plus what the console's first frame mostly is: a DataTable of 54 rows x 5
# columns (the presets side by side). Not a target: it shows what Textual's DataTable costs for
# that table, which the console draws as strips instead (`widgets/preset_table.py`).
TABLE = timed("""
from rich.text import Text
from textual.app import App
from textual.widgets import DataTable, Footer, Header, Static

class Table(App):
    def compose(self):
        yield Header()
        yield Static("hello")
        table = DataTable(zebra_stripes=True, fixed_columns=1)
        table.add_columns("parameter", "original", "full", "fast", "demo")
        for row in range(54):
            table.add_row(Text(f"  key.{row}"), *(Text(f"value {row * col}", no_wrap=True) for col in range(4)))
        yield table
        yield Footer()
""", "Table")

CONSOLE = timed("from emosum_tui.ui.app import EmosumApp\n", "EmosumApp")


def first_frame_seconds(script: str, env: dict[str, str]) -> tuple[float, float]:
    """Seconds from spawning a fresh interpreter running `script` to its first frame, and its peak RSS in MiB then."""
    start = time.time()
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=CHECKOUT, timeout=120)
    line = next((x for x in result.stdout.splitlines() if x.startswith("READY")), None)
    if result.returncode != 0 or line is None:
        raise SystemExit(f"app did not reach its first frame (exit {result.returncode}):\n{result.stderr[-3000:]}")
    if "HEAVY" in line and not line.endswith("HEAVY 0"):
        raise SystemExit(f"the console imported torch/transformers/datasets: {line}")
    fields = line.split()
    return float(fields[1]) - start, int(fields[3]) / 1024  # ru_maxrss is in KiB on Linux


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="samples per app (after one warm-up each)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="emosum-bench-startup-") as cache:
        env = {**os.environ, "EMOSUM_CACHE": cache, "EMOSUM_HOME": str(CHECKOUT)}
        # A user's first start writes byte-code for emosum_tui (pip did it for Textual at install);
        # with PYTHONDONTWRITEBYTECODE set (as on CI machines) every start would compile our
        # modules again and measure the compiler, not the start-up.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        first_frame_seconds(MINIMAL, env)
        first_frame_seconds(TABLE, env)
        first_frame_seconds(CONSOLE, env)
        minimal: list[float] = []
        table: list[float] = []
        console: list[float] = []
        minimal_rss: list[float] = []
        console_rss: list[float] = []
        for _ in range(args.runs):
            seconds, rss = first_frame_seconds(MINIMAL, env)
            minimal.append(seconds)
            minimal_rss.append(rss)
            table.append(first_frame_seconds(TABLE, env)[0])
            seconds, rss = first_frame_seconds(CONSOLE, env)
            console.append(seconds)
            console_rss.append(rss)
    m, c, t = statistics.median(minimal), statistics.median(console), statistics.median(table)
    mr, cr = statistics.median(minimal_rss), statistics.median(console_rss)
    print(f"cpu cores: {os.cpu_count()}, python {sys.version.split()[0]}, runs: {args.runs} each (median; min-max)")
    print(f"minimal textual app: {m:.3f} s ({min(minimal):.3f}-{max(minimal):.3f})")
    print(f"minimal + a 54x5 DataTable: {t:.3f} s ({min(table):.3f}-{max(table):.3f})")
    print(f"emosum-tui console:  {c:.3f} s ({min(console):.3f}-{max(console):.3f})")
    print(f"resident memory at first frame: minimal {mr:.0f} MiB, emosum-tui {cr:.0f} MiB (peak RSS, median)")
    verdict = "meets" if c < 1.0 and c / m <= 1.5 and cr / mr <= 1.5 else "MISSES"
    print(
        f"RESULT first_frame emosum-tui {c:.2f} s vs minimal Textual {m:.2f} s = x{c / m:.2f}; "
        f"rss {cr:.0f} MiB vs {mr:.0f} MiB = x{cr / mr:.2f}; torch/transformers/datasets imported: none; "
        f"(minimal + the same-size DataTable {t:.2f} s = x{t / m:.2f}; the console vs that x{c / t:.2f}); "
        f"targets < 1 s and <= x1.5: {verdict}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
