"""Console overhead: the same run with a real console attached vs the bare trainer nobody reads.

Each run is the real trainer, `emosum-tui train PRESET --headless --run-dir DIR`, its output to
/dev/null. "Console" runs add a real `emosum-tui watch DIR` in a pseudo-terminal (160 x 50, its
output drained as a terminal would): it tails the event log, samples CPU/RAM/disk, ticks the
step clock five times a second and draws a frame every second or two. Runs alternate bare, console, bare,
console (ABAB) to cancel drift in the machine's speed. Two presets:

- `demo` as shipped (tiny mT5, ~100 optimizer steps with evals and checkpoints);
- `overhead-large`, written here into a private EMOSUM_HOME: `extends = "demo"` with a bigger
  inline model (d_model 256, d_ff 1024, 4+4 layers, 256/256 tokens), 12 steps, no eval, so a
  step takes about a second or more on two CPU cores.

Two designs, both printed:

- **windows** (the verdict): one long run per preset, watched from its first event by two
  consoles: one as shipped (below normal priority, `core.priority`) and one at normal priority
  (`EMOSUM_CONSOLE_PRIORITY=normal`). They are frozen and thawed in turn (psutil's
  suspend/resume; a frozen console takes no CPU, exactly a trainer nobody reads): the first live,
  none, the second live, none, and so on; each window begins a second after the switch (a thawed
  console first catches up with what it missed, which no real console does). Each optimizer
  step's whole cycle (step end to step end, evals and checkpoints left out) is filed under the
  window it lies in. Both sides come from the same trainer process seconds apart, so the
  run-to-run drift that swamps whole-run comparisons on a shared 2-core VM cancels. Per
  console: each live window's mean cycle against the frozen windows either side (frozen / live:
  1.00 = no overhead), their mean and its 95% interval. Target met when the interval's lower
  end is >= 0.98; missed when its upper end is below.
- **kernel's accounting** (Linux), in the same windows: the CPU time the trainer's threads got,
  and the time they waited for a CPU (`/proc/PID/task/*/schedstat`). It does not see the VM's
  neighbours, so it is precise where wall time is not. Live/frozen CPU is the throughput ratio if
  throughput follows CPU; 1 - the extra wait is a floor even if every wait held up a whole step.
- **calibration** (`--calibrate`): the normal-priority console's place in the rotation goes to
  a burner, a process at the console's priority that burns 25 ms of CPU (a frame's, in a pty)
  eight times a second: 12.5% of a core, several times the console. Its wall loss is large enough
  to stand out of the VM's noise; divided by the trainer's extra wait it says how much wall time
  each second of waiting costs (1 = each wait held up a whole step, as the floor assumes; about
  0.5 = throughput followed CPU on 2 cores). Applied to the console's precise extra wait, that is
  the console's throughput ratio, with an interval from the burner's.
- **runs** (`--repeats N`, context): whole runs alternating bare, console (ABAB): median step
  and total wall time, start-up included. Its spread between rounds is printed too.

Each console's own CPU while live is printed as a share of one core and of the machine.

    .venv/bin/python bench/bench_overhead.py [--windows 24] [--window-seconds 6] [--repeats 2] [--skip-demo] [--skip-large] [--calibrate]
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from support.pty_console import WatchConsole

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


def stop_console(console: WatchConsole) -> float:
    """Stop a console that watched a whole run; its CPU seconds (user + system) over its whole life."""
    alive, cpu = console.stop()
    if not alive:
        raise SystemExit(f"the console exited by itself ({console.process.returncode}) before the run ended")
    return cpu


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
        watcher = WatchConsole(run_dir, env, cwd=CHECKOUT)
    _, status, usage = os.wait4(trainer.pid, 0)
    trainer.returncode = os.waitstatus_to_exitcode(status)
    total = time.perf_counter() - started
    console_cpu = stop_console(watcher) if watcher else 0.0
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


LONG_RUN = """
extends = "{base}"
description = "bench_overhead: {base}, run long enough for the live/frozen windows (stopped by the bench)"
[train]
epochs = 200
"""


def steady_cycles(events: list) -> list[tuple[float, float]]:
    """(start, end) wall times of each optimizer step's whole cycle, step end to step end (data
    loading and callbacks included), leaving out cycles with an eval, a checkpoint or a phase change."""
    from emosum_tui.core.events import CheckpointSaved, EvalResult, Phase, RunStart, StepEnd, TrainPlan

    cycles: list[tuple[float, float]] = []
    last_end: float | None = None
    for event in events:
        if isinstance(event, StepEnd):
            if last_end is not None:
                cycles.append((last_end, event.t))
            last_end = event.t
        elif isinstance(event, (EvalResult, CheckpointSaved, Phase, RunStart, TrainPlan)):
            last_end = None  # an eval, a save or a restart in between: not a steady cycle
    return cycles


def cpu_seconds(process) -> float:
    times = process.cpu_times()
    return times.user + times.system


def scheduler_seconds(pid: int) -> tuple[float, float] | None:
    """(ran, waited): CPU seconds all of a process's threads ran, and seconds they were ready but
    waited for a CPU, from the kernel's per-thread accounting (`/proc/PID/task/*/schedstat`,
    Linux). Unlike wall time it is blind to the VM's neighbours, so it measures what the console
    takes from the trainer to a few tenths of a per cent. None where there is no such file."""
    ran = waited = 0
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return None
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/schedstat", encoding="ascii") as handle:
                run_ns, wait_ns, _ = handle.read().split()
        except (OSError, ValueError):
            continue  # a thread that ended meanwhile
        ran, waited = ran + int(run_ns), waited + int(wait_ns)
    return ran / 1e9, waited / 1e9


CONSOLES = {"yielding": {}, "normal priority": {"EMOSUM_CONSOLE_PRIORITY": "normal"}}  # as shipped; and without core.priority
SETTLE_SECONDS = 1.0  # before each window, not measured: a thawed console first catches up with what it missed
BURNER = "burner"  # --calibrate: a process that burns CPU as a console's frames do, at the console's priority, about six times as much
BURNER_CODE = """
import sys, time
from emosum_tui.core.priority import yield_to_trainers
yield_to_trainers()
burst, period = float(sys.argv[1]), float(sys.argv[2])
while True:
    began = time.thread_time()
    while time.thread_time() - began < burst:
        pass
    time.sleep(period - burst)
"""
BURST_SECONDS, BURST_PERIOD = 0.025, 0.2  # a frame's CPU in a pty (20-25 ms), eight times a second: 12.5% of a core


def start_burner(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", BURNER_CODE, str(BURST_SECONDS), str(BURST_PERIOD)], cwd=CHECKOUT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def windows_run(home: Path, env: dict[str, str], preset: str, windows: int, window_seconds: float, calibrate: bool = False) -> dict:
    """One long run watched by two consoles (as shipped, and at normal priority); in turn one of
    them live, then both frozen: the cycles and the live console's CPU of each window. With
    `calibrate`, the second is a burner instead: what a known, larger load costs the trainer's
    wall time, to read the console's from its (precise) kernel figures."""
    import psutil

    from emosum_tui.core.events import EVENTS_FILE, StepEnd, read_events

    name = f"{preset}-long"
    (home / "presets" / f"{name}.toml").write_text(LONG_RUN.format(base=preset), encoding="utf-8")
    run_dir = home / "runs" / f"{name}-windows"
    trainer = subprocess.Popen([sys.executable, "-m", "emosum_tui", "train", name, "--headless", "--run-dir", str(run_dir)],
                               cwd=CHECKOUT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while not (run_dir / EVENTS_FILE).exists() and trainer.poll() is None:
        time.sleep(0.02)
    labels = ["yielding", BURNER] if calibrate else list(CONSOLES)
    consoles = {label: WatchConsole(run_dir, {**env, **CONSOLES[label]}, cwd=CHECKOUT) for label in labels if label in CONSOLES}
    processes = {label: psutil.Process(console.process.pid) for label, console in consoles.items()}
    burner = start_burner(env) if calibrate else None
    if burner is not None:
        processes[BURNER] = psutil.Process(burner.pid)
    spans: list[tuple[float, float, str, float]] = []  # (start, end, the live console or "", its cpu seconds)
    scheduler: list[tuple[float, float] | None] = []  # per window: the trainer's (ran, waited) CPU seconds per second
    try:
        while trainer.poll() is None and not any(isinstance(e, StepEnd) for e in read_events(run_dir / EVENTS_FILE)):
            time.sleep(0.2)
        time.sleep(3.0)  # the consoles' start-up (about a second of CPU each) stays out of the windows
        for process in processes.values():
            process.suspend()
        order = [label for label in labels for label in (label, "")]  # A live, none, B live, none, ...
        for index in range(windows):
            if trainer.poll() is not None:
                raise SystemExit(f"{name}: the trainer ended ({trainer.returncode}) before the windows did; see {run_dir}")
            live = order[index % len(order)]
            if live:
                processes[live].resume()
            time.sleep(SETTLE_SECONDS)  # its catch-up (events and frames missed while frozen) has no part in a real run
            start, cpu, before = time.time(), cpu_seconds(processes[live]) if live else 0.0, scheduler_seconds(trainer.pid)
            time.sleep(window_seconds)
            end, after = time.time(), scheduler_seconds(trainer.pid)
            spans.append((start, end, live, cpu_seconds(processes[live]) - cpu if live else 0.0))
            scheduler.append(None if before is None or after is None else
                             ((after[0] - before[0]) / (end - start), (after[1] - before[1]) / (end - start)))
            if live:
                processes[live].suspend()
    finally:
        for process in processes.values():
            with contextlib.suppress(psutil.NoSuchProcess):
                process.resume()
        trainer.kill()
        trainer.wait()
        if burner is not None:
            burner.kill()
            burner.wait()
    for console in consoles.values():
        stop_console(console)
    cycles = steady_cycles(read_events(run_dir / EVENTS_FILE))
    per_window = [[end - begin for begin, end in cycles if begin >= start and end <= stop] for start, stop, _, _ in spans]
    return {"spans": spans, "per_window": per_window, "scheduler": scheduler, "labels": labels}


def window_figures(preset: str, result: dict) -> list[str]:
    """Per console: each live window's mean cycle against the frozen windows either side of it
    (frozen / live: 1.00 = no overhead), their mean and its 95% interval."""
    spans, per_window = result["spans"], result["per_window"]
    cores = os.cpu_count() or 1
    frozen = [c for (_, _, live, _), w in zip(spans, per_window, strict=True) if not live for c in w]
    summaries = []
    print(f"  {preset} windows: {len(spans)} of {spans[0][1] - spans[0][0]:.0f} s; none live: {len(frozen)} cycles, "
          f"mean {statistics.fmean(frozen):.3f} s (median {statistics.median(frozen):.3f})", flush=True)
    measured: dict[str, tuple[float, float, float]] = {}  # label: (wall ratio, its half interval, extra wait s/s)
    for label in result["labels"]:
        mine = [i for i, span in enumerate(spans) if span[2] == label and per_window[i]]
        live = [c for i in mine for c in per_window[i]]
        triplets = []
        for i in mine:
            around = [c for j in frozen_either_side(spans, i) for c in per_window[j]]
            if around:
                triplets.append(statistics.fmean(around) / statistics.fmean(per_window[i]))
        ratio, low, high = interval(triplets)  # the point is the interval's centre (not the pooled means' ratio)
        seconds = sum(end - start for start, end, live_label, _ in spans if live_label == label)
        share = sum(cpu for _, _, live_label, cpu in spans if live_label == label) / seconds
        verdict = "meets" if low >= 0.98 else "MISSES" if high < 0.98 else "not proven either way"
        print(f"  {preset}, console {label}: {len(live)} cycles, mean {statistics.fmean(live):.3f} s "
              f"(median {statistics.median(live):.3f}); per window x{', x'.join(f'{t:.3f}' for t in triplets)}; "
              f"console CPU {100 * share:.1f}% of one core ({100 * share / cores:.1f}% of the machine)", flush=True)
        summaries.append(f"{preset} console {label} x{ratio:.3f} (95% {low:.3f}–{high:.3f}; {verdict}; {100 * share:.1f}% of a core)")
        kernel, wait = scheduler_figures(preset, label, spans, result["scheduler"])
        summaries += kernel
        measured[label] = (ratio, (high - low) / 2, wait)
    if BURNER in measured and measured[BURNER][2] > 0:
        summaries += calibrated(preset, measured)
    return summaries


def calibrated(preset: str, measured: dict[str, tuple[float, float, float]]) -> list[str]:
    """The console's wall-time cost, read through the burner: its load is about six times the console's,
    so its wall loss stands out of the VM's noise, and wall loss per second of the trainer's extra
    wait (`cost`: 1 = each wait held up a whole step, 0.5 = throughput followed CPU on 2 cores)
    turns the console's precise extra wait into a throughput figure."""
    ratio, half, wait = measured[BURNER]
    cost, cost_low, cost_high = (1 - ratio) / wait, (1 - ratio - half) / wait, (1 - ratio + half) / wait
    figures = []
    for label, (_, _, console_wait) in measured.items():
        if label == BURNER:
            continue
        estimate, best, worst = 1 - cost * console_wait, 1 - cost_low * console_wait, 1 - cost_high * console_wait
        print(f"  {preset}, calibration: the burner's load cost the trainer x{ratio:.3f} wall time (±{half:.3f}) for "
              f"{1000 * wait:.0f} ms/s more waiting: {cost:.2f} s of wall time per second waited (95% {cost_low:.2f}–{cost_high:.2f}); "
              f"the {label} console's {1000 * console_wait:+.1f} ms/s -> throughput x{estimate:.3f} (95% {worst:.3f}–{best:.3f})", flush=True)
        figures.append(f"{preset} console {label} calibrated: x{estimate:.3f} (95% {worst:.3f}–{best:.3f}; {cost:.2f} s per s waited)")
    return figures


def frozen_either_side(spans: list, i: int) -> list[int]:
    """The windows just before and after window `i` in which no console was live."""
    return [j for j in (i - 1, i + 1) if 0 <= j < len(spans) and not spans[j][2]]


def interval(values: list[float]) -> tuple[float, float, float]:
    """Mean and its 95% interval (normal approximation)."""
    mean = statistics.fmean(values)
    half = 1.96 * statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else float("inf")
    return mean, mean - half, mean + half


def scheduler_figures(preset: str, label: str, spans: list, scheduler: list) -> tuple[list[str], float]:
    """What the kernel says the console took from the trainer, each live window against the frozen
    windows either side:

    - the CPU time the trainer's threads got, live / frozen: its throughput, were it in
      proportion (a trainer busy on every core loses what the console runs);
    - how much longer they waited for a CPU, in seconds per second: even if every such wait held
      up a whole step (one late thread keeps the others at torch's barrier), the throughput is at
      least 1 minus that: a floor. The first is an estimate (time a thread spent spinning at the
      barrier, not working, may be what it lost), the second a bound; both far tighter than wall
      time on a shared machine gives.

    Also returns the mean extra wait (seconds per second), for `calibrated`."""
    if any(row is None for row in scheduler):
        return [], 0.0
    ran, waited = [], []
    for i, (_, _, live, _) in enumerate(spans):
        around = [scheduler[j] for j in frozen_either_side(spans, i)]
        if live == label and around:
            ran.append(scheduler[i][0] / statistics.fmean(r for r, _ in around))
            waited.append(scheduler[i][1] - statistics.fmean(w for _, w in around))
    if len(ran) < 2:
        return [], 0.0
    share, share_low, share_high = interval(ran)
    wait, wait_low, wait_high = interval(waited)
    frozen = statistics.fmean(row[0] for row, span in zip(scheduler, spans, strict=True) if not span[2])
    print(f"  {preset}, console {label}, kernel's accounting: the trainer ran on {frozen:.2f} cores with no console live; "
          f"CPU it got live/frozen x{share:.3f} (95% {share_low:.3f}–{share_high:.3f}); it waited for a CPU "
          f"{1000 * wait:+.1f} ms/s more (95% {1000 * wait_low:+.1f}–{1000 * wait_high:+.1f}), "
          f"so throughput >= x{1 - wait_high:.3f} even if every wait held up a step", flush=True)
    return [f"{preset} console {label} kernel: CPU x{share:.3f} ({share_low:.3f}–{share_high:.3f}), "
            f"throughput bound >= x{1 - wait_high:.3f} (wait {1000 * wait:+.1f} ms/s)"], wait


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--windows", type=int, default=24, help="windows per preset: each console live in a quarter of them")
    parser.add_argument("--window-seconds", type=float, default=6.0, help="the demo's window; the large config's is 3x")
    parser.add_argument("--repeats", type=int, default=2, help="whole bare/console run pairs per preset (ABAB...); 0: none")
    parser.add_argument("--skip-demo", action="store_true")
    parser.add_argument("--skip-large", action="store_true", help="only `demo` (its windows take 12 minutes at 64)")
    parser.add_argument("--calibrate", action="store_true",
                        help="a burner (a console's frames, 8 a second) instead of the normal-priority console: wall loss per second waited")
    args = parser.parse_args()
    figures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench-overhead-") as tmp:
        home = Path(tmp) / "home"
        (home / "presets").mkdir(parents=True)  # the built-ins come from the package
        shutil.copytree(CHECKOUT / "emosum_tui" / "builtin" / "data", home / "data")
        (home / "presets" / "overhead-large.toml").write_text(LARGE, encoding="utf-8")
        env = {**os.environ, "EMOSUM_HOME": str(home), "EMOSUM_CACHE": str(home / ".cache"), "HF_HUB_OFFLINE": "1",
               "PYTHONPATH": os.pathsep.join(filter(None, [str(CHECKOUT), os.environ.get("PYTHONPATH")]))}
        env.pop("EMOSUM_FAULT", None)
        for preset in ([] if args.skip_demo else ["demo"]) + ([] if args.skip_large else ["overhead-large"]):
            seconds = args.window_seconds * (3 if preset == "overhead-large" else 1)
            figures += window_figures(preset, windows_run(home, env, preset, args.windows, seconds, args.calibrate))
            if args.repeats:
                step_ratio, total_ratio = compare(home, env, preset, args.repeats)
                figures.append(f"runs {preset} step x{step_ratio:.3f} total x{total_ratio:.3f}")
    load = os.getloadavg()[0]
    print(f"RESULT throughput with console / bare ({os.cpu_count()} cores, load {load:.1f}, target >= 0.98): " + "; ".join(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
