"""Event log: events/s the writer sustains, and its cost per event, with and without a reader.

The trainer writes one StepEnd (plus a StepBegin and the odd heartbeat) per optimizer step, so
the writer's cost per event is what the console's contract adds to each step. We measure it
side by side in one run: the writer alone, then the writer while a console-style reader
tails the same file in another thread every 50 ms (what the training screen does).

    python bench/bench_events.py [--events 20000]
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

from emosum_tui.core.events import EventReader, EventWriter, StepEnd


def write_events(path: Path, count: int) -> float:
    """Seconds to write `count` StepEnd events (a realistic size: every field filled)."""
    writer = EventWriter(path)
    start = time.perf_counter()
    for step in range(1, count + 1):
        writer.write(
            StepEnd(
                step=step, total_steps=count, epoch=step / count, loss=2.5 - step * 1e-5,
                learning_rate=5e-5, grad_norm=1.3, step_seconds=0.41, samples_per_second=19.5, tokens_per_second=5400.0,
            )
        )
    elapsed = time.perf_counter() - start
    writer.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=20000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        alone = write_events(Path(folder) / "alone.jsonl", args.events)

        tailed = Path(folder) / "tailed.jsonl"
        reader = EventReader(tailed)
        seen = 0
        stop = threading.Event()

        def tail() -> None:
            nonlocal seen
            while not stop.is_set():
                seen += len(reader.poll())
                time.sleep(0.05)

        thread = threading.Thread(target=tail, daemon=True)
        thread.start()
        with_reader = write_events(tailed, args.events)
        stop.set()
        thread.join()
        seen += len(reader.poll())
        size = tailed.stat().st_size

    per_alone = alone / args.events * 1e6
    per_tailed = with_reader / args.events * 1e6
    print(f"writer alone:       {args.events / alone:,.0f} events/s, {per_alone:.1f} µs/event")
    print(f"writer with reader: {args.events / with_reader:,.0f} events/s, {per_tailed:.1f} µs/event, reader saw {seen:,} events")
    print(f"bytes per event: {size / args.events:.0f}")
    print(
        f"RESULT events/s={args.events / alone:,.0f} us_per_event={per_alone:.1f} "
        f"with_reader_ratio={alone / with_reader:.2f} reader_complete={seen == args.events} "
        f"share_of_0.1s_step={per_tailed / 1e5:.4%}"
    )


if __name__ == "__main__":
    main()
