"""A plotext line plot that collects points cheaply and redraws when its owner says so.

Points arrive one event at a time (hundreds per second when a console attaches to a long run);
drawing is the expensive part, so `add` only stores and `redraw` draws, if something changed.
The training screen calls `redraw` every two seconds, as nvitop redraws, in the same frame as
its other figures: the two plots were a quarter of the console's CPU at one redraw a second,
and on a machine whose cores the trainer keeps busy that CPU is the trainer's.
A redraw costs in proportion to the points drawn, so a long series is drawn as its envelope:
the lowest and the highest point of each of a few hundred buckets (a braille cell is two dots
wide), which keeps every spike and every dip that the plot can show at all.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from textual_plotext import PlotextPlot


def envelope(xs: Sequence[float], ys: Sequence[float], buckets: int) -> tuple[list[float], list[float]]:
    """At most 2 x `buckets` points: per run of consecutive points, its lowest and highest, in x order."""
    if len(xs) <= 2 * buckets:
        return list(xs), list(ys)
    out_x: list[float] = []
    out_y: list[float] = []
    size = len(xs) / buckets
    for bucket in range(buckets):
        start, stop = round(bucket * size), round((bucket + 1) * size)
        low = min(range(start, stop), key=ys.__getitem__)
        high = max(range(start, stop), key=ys.__getitem__)
        for index in sorted({low, high}):
            out_x.append(xs[index])
            out_y.append(ys[index])
    return out_x, out_y


class SeriesPlot(PlotextPlot):
    """Named series of (x, y) points; non-finite values are counted, not drawn."""

    TITLE = ""
    XLABEL = "step"
    COLORS = ("cyan", "orange", "green")
    MARKERS = ("braille", "dot", "braille")  # a later series (eval: a few points) stays visible

    def __init__(self, *names: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.series: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in names}
        self.skipped = 0
        self.dirty = True

    def on_mount(self) -> None:
        super().on_mount()
        self.redraw()

    def add(self, name: str, x: float, y: float | None) -> None:
        if y is None or not math.isfinite(y):
            self.skipped += 1
            return
        xs, ys = self.series[name]
        xs.append(x)
        ys.append(y)
        self.dirty = True

    def points(self, name: str) -> int:
        return len(self.series[name][0])

    def redraw(self) -> None:
        if not self.dirty:
            return
        self.dirty = False
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        title = self.TITLE + (f" ({self.skipped} non-finite not drawn)" if self.skipped else "")
        plt.title(title)
        plt.xlabel(self.XLABEL)
        drawn = False
        for (name, (xs, ys)), color, marker in zip(self.series.items(), self.COLORS, self.MARKERS, strict=False):
            if xs:
                shown_x, shown_y = envelope(xs, ys, max(16, 2 * self.size.width))  # two braille dots per cell
                plt.plot(shown_x, shown_y, label=name, color=color, marker=marker)
                drawn = True
        if not drawn:
            plt.title(f"{title}: no points yet")
        self.refresh()
