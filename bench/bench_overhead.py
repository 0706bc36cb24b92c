"""Console overhead: the same run with a real console attached vs the bare trainer nobody reads.

Each run is the real trainer, `emosum-tui train PRESET --headless --run-dir DIR`, its output to
/dev/null. "Console" runs add a real `emosum-tui watch DIR` in a pseudo-terminal (160 x 50, its
output drained as a terminal would): it tails the event log, samples CPU/RAM/disk, ticks the
step clock five times a second and redraws the plots. Runs alternate bare, console, bare,
console (ABAB) to cancel drift in the machine's speed. Two presets:

- `demo` as shipped (tiny mT5, ~100 optimizer steps with evals and checkpoints);
- `overhead-large`, written here into a private EMOSUM_HOME: `extends = "demo"` with a bigger
  inline model (d_model 256, d_ff 1024, 4+4 layers, 256/256 tokens), 12 steps, no eval, so a
  step takes about a second or more on two CPU cores.

Figures: the median step time over the steady steps (the first skipped) and the trainer's
total wall time, as bare/console throughput ratios (1.00 = no overhead; target >= 0.98). The
console is a second process on the same cores as the trainer, so on a 2-core machine it
competes for CPU: its own CPU seconds are printed too.

    .venv/bin/python bench/bench_overhead.py [--repeats 2] [--skip-demo]
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[1]

LARGE = """
extends = "demo"
description = "bench_overhead: a bigger config-built mT5, about a second or more per step on 2 CPU cores"
[model]
config = { d_model = 256, d_ff = 1024, d_kv = 32, num_layers = 4, num_decoder_layers = 4, num_heads = 8 }
[data]
train_samples = 96
[train]
epochs = 1
batch_size = 8
grad_accum = 1
max_source_tokens = 256
max_target_tokens = 256
[eval]
strategy = "no"
[save]
logging_steps = 1
steps = 100000
"""


class Console:
    """`emosum-tui watch RUN_DIR` in a pseudo-terminal, its output drained like a terminal's."""

    def __init__(self, run_dir: Path, env: dict[str, str]) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 160, 0, 0))
        self.master = master
        self.drawn = 0
        self.process = subprocess.Popen(
            [sys.executable, "-m", "emosum_tui", "watch", str(run_dir)], cwd=CHECKOUT,
            env={**env, "TERM": "xterm-256color", "COLUMNS": "160", "LINES": "50"},
            stdin=slave, stdout=slave, stderr=slave, start_new_session=True,
        )
        os.close(slave)
        self.thread = threading.Thread(target=self._drain, daemon=True)
        self.thread.start()

    def _drain(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.drawn += len(chunk)

    def close(self) -> float:
        """Stop the console; its CPU seconds (user + system) over its whole life."""
        alive = self.process.poll() is None
        if alive:
            self.process.send_signal(signal.SIGTERM)
        _, status, usage = os.wait4(self.process.pid, 0)
        self.process.returncode = os.waitstatus_to_exitcode(status)
        os.close(self.master)
        if not alive:
            raise SystemExit(f"the console exited by itself ({self.process.returncode}) before the run ended")
        return usage.ru_utime + usage.ru_stime


def one_run(home: Path, env: dict[str, str], preset: str, name: str, console: bool) -> dict[str, float]:
    from emosum_tui.core.events import EVENTS_FILE, Done, StepEnd, read_events

    run_dir = home / "runs" / name
    started = time.perf_counter()
    trainer = subprocess.Popen([sys.executable, "-m", "emosum_tui", "train", preset, "--headless", "--run-dir", str(run_dir)],
                               cwd=CHECKOUT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    watcher = None
    if console:
        while not (run_dir / EVENTS_FILE).exists() and trainer.poll() is None:
            time.sleep(0.02)
        watcher = Console(run_dir, env)
    _, status, usage = os.wait4(trainer.pid, 0)
    trainer.returncode = os.waitstatus_to_exitcode(status)
    total = time.perf_counter() - started
    console_cpu = watcher.close() if watcher else 0.0
    drawn = watcher.drawn if watcher else 0
    if trainer.returncode != 0:
        raise SystemExit(f"{name}: the trainer failed ({trainer.returncode}); see {run_dir}")
    events = read_events(run_dir / EVENTS_FILE)
    assert isinstance(events[-1], Done), events[-1]
    steps = [e.step_seconds for e in events if isinstance(e, StepEnd)]
    return {"median": statistics.median(steps[1:]), "train": sum(steps), "total": total,
            "trainer_cpu": usage.ru_utime + usage.ru_stime, "console_cpu": console_cpu, "drawn": drawn, "steps": len(steps)}


def compare(home: Path, env: dict[str, str], preset: str, repeats: int) -> tuple[float, float]:
    bare: list[dict[str, float]] = []
    attached: list[dict[str, float]] = []
    for index in range(repeats):
        bare.append(one_run(home, env, preset, f"{preset}-bare-{index}", console=False))
        attached.append(one_run(home, env, preset, f"{preset}-console-{index}", console=True))
        print(f"  {preset} round {index + 1}: bare median {bare[-1]['median']:.3f} s/step, total {bare[-1]['total']:.1f} s | "
              f"console median {attached[-1]['median']:.3f} s/step, total {attached[-1]['total']:.1f} s, "
              f"console cpu {attached[-1]['console_cpu']:.1f} s, {attached[-1]['drawn'] / 1e6:.1f} MB drawn", flush=True)

    def med(runs: list[dict[str, float]], key: str) -> float:
        return statistics.median(r[key] for r in runs)

    step_ratio = med(bare, "median") / med(attached, "median")  # throughput with console / without
    total_ratio = med(bare, "total") / med(attached, "total")
    print(f"{preset}: {bare[0]['steps']} steps; median s/step bare {med(bare, 'median'):.3f} vs console {med(attached, 'median'):.3f}; "
          f"total bare {med(bare, 'total'):.1f} s vs console {med(attached, 'total'):.1f} s; "
          f"trainer cpu {med(bare, 'trainer_cpu'):.1f} vs {med(attached, 'trainer_cpu'):.1f} s; console cpu {med(attached, 'console_cpu'):.1f} s")
    return step_ratio, total_ratio


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=2, help="bare/console pairs per preset (ABAB...)")
    parser.add_argument("--skip-demo", action="store_true")
    args = parser.parse_args()
    figures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench-overhead-") as tmp:
        home = Path(tmp) / "home"
        shutil.copytree(CHECKOUT / "presets", home / "presets")
        shutil.copytree(CHECKOUT / "data", home / "data")
        (home / "presets" / "overhead-large.toml").write_text(LARGE, encoding="utf-8")
        env = {**os.environ, "EMOSUM_HOME": str(home), "EMOSUM_CACHE": str(home / ".cache"), "HF_HUB_OFFLINE": "1",
               "PYTHONPATH": os.pathsep.join(filter(None, [str(CHECKOUT), os.environ.get("PYTHONPATH")]))}
        env.pop("EMOSUM_FAULT", None)
        for preset in ([] if args.skip_demo else ["demo"]) + ["overhead-large"]:
            step_ratio, total_ratio = compare(home, env, preset, args.repeats)
            verdict = "meets" if min(step_ratio, total_ratio) >= 0.98 else "MISSES"
            figures.append(f"{preset} step x{step_ratio:.3f} total x{total_ratio:.3f} ({verdict})")
    load = os.getloadavg()[0]
    print(f"RESULT throughput with console / bare ({os.cpu_count()} cores, load {load:.1f}, target >= 0.98): " + "; ".join(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
