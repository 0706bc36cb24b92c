"""The training screen's promises, measured headless (Textual's `run_test`, no terminal needed).

1. Stall alarm latency: a live run (a thread writing events as a trainer would) hangs one step;
   how long after the "stalled" threshold is crossed does the banner say so? Target: < 1 s.
2. Attach to a long run: a finished log the size of the user's real plan (4,945 optimizer steps,
   an eval every 1,000); seconds from opening the screen until every loss point is in the plot
   and the state reads "finished". Target: < 3 s.
3. The clock's tick while a step runs (reading + banner, 5 times a second; the step panel redrawn
   once a second): milliseconds per tick, per panel redraw with its repaint, and the share of
   one core they take together.
4. One plot redraw: 4,945 points of s/step in a 90 x 20 cell plot, redrawn and repainted, as
   thread CPU ms (median of 30); side by side with textual-plotext on the same
   points when that package is installed (`pip install textual-plotext`).
5. Cost against the run's length: one plot redraw at 50,000 points vs 500, and one pass of the
   doctor's live rules over 10,000 steps vs 500 (the most it keeps), thread CPU ms; and the
   doctor's share of a core with its pace (a dearer pass waits longer for the next). A watched
   run's console must not grow dearer as the run goes on.

Prints a final `RESULT` line of figures with their ratio to the target.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from support.pilot import SIZE, ScreenApp
from textual.app import App

from emosum_tui.core.events import (
    EVENTS_FILE,
    CheckpointSaved,
    Done,
    Environment,
    EvalResult,
    EventWriter,
    Heartbeat,
    Phase,
    RunStart,
    StepBegin,
    StepEnd,
    TrainPlan,
)
from emosum_tui.monitor.step_clock import StallPolicy
from emosum_tui.ui.screens.training import FRAME_SECONDS, SLOW_FRAMES, TrainingScreen
from emosum_tui.ui.widgets.loss_plot import LossPlot
from emosum_tui.ui.widgets.stall_banner import StallBanner

SLOW_FRAME_SECONDS = FRAME_SECONDS * SLOW_FRAMES  # the plots and the doctor: at most this often (idle machine)


def start(writer: EventWriter, run_dir: Path, t: float, total: int) -> None:
    writer.write(RunStart(t=t, preset="bench", run_dir=str(run_dir), pid=os.getpid()))
    writer.write(TrainPlan(t=t, total_steps=total))
    writer.write(Phase(t=t, name="training"))


def hang_run(run_dir: Path, hang_at: int, began: list[float], release: threading.Event) -> None:
    writer = EventWriter(run_dir / EVENTS_FILE)
    start(writer, run_dir, time.time(), 100)
    for n in range(1, 101):
        begin = writer.write(StepBegin(step=n))
        if n == hang_at:
            began.append(begin.t)
            while not release.wait(0.5):
                writer.write(Heartbeat(step=n))
        else:
            time.sleep(0.05)
        writer.write(StepEnd(step=n, total_steps=100, loss=1.0, step_seconds=time.time() - begin.t))
        if release.is_set():
            break
    writer.close()


async def stall_latency(folder: Path, trial: int) -> float:
    run_dir = folder / f"hang{trial}"
    began: list[float] = []
    release = threading.Event()
    thread = threading.Thread(target=hang_run, args=(run_dir, 5, began, release), daemon=True)
    screen = TrainingScreen(run_dir, sample_resources=False, policy=StallPolicy(min_slow_seconds=0.5, min_stalled_seconds=1.5))
    thread.start()
    try:
        async with ScreenApp(screen).run_test(size=SIZE) as pilot:
            banner = screen.query_one(StallBanner)
            while banner.state != "stalled":
                await pilot.pause(0.01)
            seen = time.time()
            return seen - (began[0] + screen.reading.stalled_after)
    finally:
        release.set()
        thread.join(10)


def long_run(run_dir: Path, steps: int) -> None:
    writer = EventWriter(run_dir / EVENTS_FILE)
    t = 1_700_000_000.0
    start(writer, run_dir, t, steps)
    for n in range(1, steps + 1):
        writer.write(StepBegin(t=t, step=n))
        t += 105.95
        writer.write(StepEnd(t=t, step=n, total_steps=steps, loss=3.0 / (1 + n / 500), step_seconds=105.95))
        writer.write(Heartbeat(t=t, step=n))
        if n % 1000 == 0:
            writer.write(EvalResult(t=t, step=n, metrics={"eval_loss": 3.1 / (1 + n / 500)}, seconds=3600))
            writer.write(CheckpointSaved(t=t, step=n, path=f"checkpoint-{n}", bytes=7_000_000_000, seconds=60))
    writer.write(Done(t=t, reason="completed", steps=steps, final_path="model/original/final"))
    writer.close()


async def attach(folder: Path, steps: int) -> tuple[float, float]:
    run_dir = folder / "long"
    long_run(run_dir, steps)
    screen = TrainingScreen(run_dir, sample_resources=False)
    began = time.perf_counter()
    async with ScreenApp(screen).run_test(size=SIZE) as pilot:
        plot = screen.query_one(LossPlot)
        while screen.query_one(StallBanner).state != "finished" or plot.points("train") < steps:
            await pilot.pause(0.01)
        attached = time.perf_counter() - began
        ticks = 200
        t0 = time.perf_counter()
        for _ in range(ticks):
            screen.clock.step_begin_t = None  # a finished run's tick; the panel redraws only on change
            screen.tick()
        per_tick = (time.perf_counter() - t0) / ticks
    return attached, per_tick


async def tick_cost_live(folder: Path) -> tuple[float, float]:
    """A tick while a step runs, and a tick that redraws the step panel (as one a second does)
    with the repaint it causes."""
    run_dir = folder / "live"
    writer = EventWriter(run_dir / EVENTS_FILE)
    start(writer, run_dir, time.time(), 100)
    writer.write(StepBegin(step=1))
    writer.close()
    screen = TrainingScreen(run_dir, sample_resources=False)
    async with ScreenApp(screen).run_test(size=SIZE) as pilot:
        while screen.clock.step_begin_t is None:
            await pilot.pause(0.01)
        ticks = 100
        t0 = time.perf_counter()
        for _ in range(ticks):
            screen.tick()
        alone = (time.perf_counter() - t0) / ticks
        t0 = time.perf_counter()
        for _ in range(ticks):
            await pilot.pause(0)  # the pilot's own round trip, with nothing to repaint
        idle = (time.perf_counter() - t0) / ticks
        t0 = time.perf_counter()
        for _ in range(ticks):
            screen.frame_drawn = float("-inf")  # the once-a-second frame, every time
            screen.tick()
            await pilot.pause(0)  # let the screen repaint what the tick changed
        return alone, max(0.0, (time.perf_counter() - t0) / ticks - idle)


async def plot_cost(steps: int, plotext: bool, redraws: int = 30) -> float:
    """Thread CPU seconds per redraw and repaint of one plot, median of `redraws`."""
    from textual.widget import Widget

    from emosum_tui.ui.widgets.step_time_plot import StepTimePlot

    xs = list(range(1, steps + 1))
    ys = [2.0 + 0.1 * ((n * 7919) % 13) / 13 + (40.0 if n == steps // 3 else 0.0) for n in xs]
    if plotext:
        from textual_plotext import PlotextPlot

        class Plotext(PlotextPlot):  # what SeriesPlot did before: envelope, then plotext's braille line
            def redraw(self) -> None:
                from emosum_tui.ui.widgets.series_plot import envelope

                self.plt.clear_data()
                self.plt.clear_figure()
                self.plt.title("s/step")
                self.plt.xlabel("step")
                self.plt.plot(*envelope(xs, ys, 2 * self.size.width), label="s/step", color="cyan", marker="braille")
                self.refresh()

        plot: Widget = Plotext()
    else:
        plot = StepTimePlot()

    class PlotApp(App):
        def compose(self):
            yield plot

    times = []
    async with PlotApp().run_test(size=(90, 20)) as pilot:
        if not plotext:
            for x, y in zip(xs, ys, strict=True):
                plot.add_step(x, y)
        await pilot.pause()
        for _ in range(redraws):
            if not plotext:
                plot.dirty = True
            began = time.thread_time()
            plot.redraw()
            await pilot.pause(0)  # the frame: render the plot and write it out
            times.append(time.thread_time() - began)
    return statistics.median(times)


def diagnosis_cost(steps: int, passes: int = 10) -> tuple[float, float]:
    """Thread CPU seconds per pass of the live rules over a CPU run of `steps` steps (a begin, an
    end and a heartbeat each, an eval and a checkpoint every 20), median of `passes`; and the
    seconds the diagnoser's pace then waits before the next pass."""
    from emosum_tui.doctor.live import LiveDiagnoser
    from emosum_tui.monitor.resources import ResourceSample

    diagnoser = LiveDiagnoser(None)
    t = 1000.0
    events: list = [RunStart(t=t, preset="bench", pid=1, environment=Environment(cuda_available=False)),
                    TrainPlan(t=t, total_steps=steps, device="cpu", batch_size=4, grad_accum=2), Phase(t=t, name="training")]
    for step in range(1, steps + 1):
        t += 0.1
        events += [StepBegin(t=t, step=step), Heartbeat(t=t + 0.05, step=step),
                   StepEnd(t=t + 0.09, step=step, total_steps=steps, loss=3.0 - step / steps + 0.05 * (step % 7), step_seconds=0.09)]
        if step % 20 == 0:
            events += [EvalResult(t=t, step=step, metrics={"eval_loss": 2.0}), CheckpointSaved(t=t, step=step, bytes=10**7, seconds=0.05)]
    diagnoser.add_events(events)
    for k in range(120):
        diagnoser.add_sample(ResourceSample(t=t - 120 + k, cpu_percent=99.0, cpu_count=2, trainer_cpu_percent=190.0, trainer_rss=10**9,
                                            ram_used=10**9, ram_total=2 * 10**10, disk_free=10**10, gpus=(), gpu_note="no NVIDIA GPU"))
    times, waits = [], []
    for _ in range(passes):
        began = time.thread_time()
        findings = diagnoser.update(now=0.0)
        times.append(time.thread_time() - began)
        waits.append(diagnoser.next_pass)
    assert any(f.code == "cpu-training" for f in findings), [f.code for f in findings]  # the device is still known
    return statistics.median(times), statistics.median(waits)


async def main_async(trials: int, steps: int) -> None:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        latencies = [await stall_latency(folder, trial) for trial in range(trials)]
        attached, _ = await attach(folder, steps)
        per_tick, with_paint = await tick_cost_live(folder)
    plot_ms = await plot_cost(steps, plotext=False) * 1000
    try:
        plotext_ms = await plot_cost(steps, plotext=True) * 1000
    except ImportError:
        plotext_ms = float("nan")
    short_plot, long_plot = await plot_cost(500, plotext=False) * 1000, await plot_cost(50_000, plotext=False) * 1000
    (short_rules, short_wait), (long_rules, long_wait) = diagnosis_cost(500), diagnosis_cost(10_000)
    short_share, long_share = (rules / max(wait, SLOW_FRAME_SECONDS) for rules, wait in ((short_rules, short_wait), (long_rules, long_wait)))
    short_rules, long_rules = short_rules * 1000, long_rules * 1000
    median, worst = statistics.median(latencies), max(latencies)
    print(f"stall alarm latency over {trials} hung steps: " + ", ".join(f"{x:.2f}" for x in latencies) + " s")
    print(f"attach to a finished {steps:,}-step run: {attached:.2f} s until all points plotted and 'finished' shown")
    share = per_tick * 5 + with_paint * 1  # 5 ticks and 1 panel redraw a second
    print(f"clock tick with a step running: {per_tick * 1000:.2f} ms (5/s); a tick that redraws the step panel, "
          f"with its repaint: {with_paint * 1000:.2f} ms (1/s)")
    print(f"plot redraw ({steps:,} points, 90 x 20 cells): {plot_ms:.2f} ms; textual-plotext on the same points: "
          + (f"{plotext_ms:.2f} ms" if plotext_ms == plotext_ms else "not installed"))
    print(f"plot redraw at 50,000 points: {long_plot:.2f} ms vs {short_plot:.2f} ms at 500; the doctor's rules over "
          f"10,000 steps: {long_rules:.2f} ms vs {short_rules:.2f} ms over 500")
    print(f"the doctor's pace: after a pass over 10,000 steps the next waits {long_wait:.1f} s, over 500 steps {short_wait:.2f} s "
          f"(it runs at most every {SLOW_FRAME_SECONDS:.0f} s, with the plots): {long_share:.3%} vs {short_share:.3%} of a core")
    print(
        f"RESULT stall_latency_median={median:.2f}s max={worst:.2f}s target=1.0s ratio={worst / 1.0:.2f} "
        f"attach_{steps}_steps={attached:.2f}s target=3s ratio={attached / 3:.2f} "
        f"tick_ms={per_tick * 1000:.2f} panel_redraw_ms={with_paint * 1000:.2f} cpu_share={share:.1%} "
        f"plot_redraw_ms={plot_ms:.2f} plotext_ms={plotext_ms:.2f} ratio={plot_ms / plotext_ms:.3f} "
        f"plot_50000_vs_500={long_plot:.2f}/{short_plot:.2f}ms ratio={long_plot / short_plot:.2f} "
        f"doctor_10000_vs_500_steps={long_rules:.2f}/{short_rules:.2f}ms ratio={long_rules / short_rules:.2f} "
        f"doctor_share_10000_vs_500={long_share:.3%}/{short_share:.3%} ratio={long_share / short_share:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--steps", type=int, default=4945)
    args = parser.parse_args()
    asyncio.run(main_async(args.trials, args.steps))


if __name__ == "__main__":
    main()
