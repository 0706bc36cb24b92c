"""A line plot of named series, drawn straight into the terminal's cells; redrawn when its owner says so.

Points arrive one event at a time (hundreds per second when a console attaches to a long run);
drawing is the expensive part, so `add` only stores and `redraw` draws, if something changed.
The training screen calls `redraw` with its other slow figures, as nvitop redraws. A long series is drawn as its envelope: the lowest and the highest point of each
of a few hundred buckets (a braille cell is two dots wide), which keeps every spike and every
dip that the plot can show at all. The lowest and highest of each block of points are kept as
the points arrive (`Envelope`), so a redraw costs the same at any length of run.

The dots go straight into a grid of cells and each row becomes one Textual `Strip`: no text is
printed and parsed back, because the watching console's CPU is the trainer's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import groupby
from operator import itemgetter
from typing import TYPE_CHECKING

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

from emosum_tui.i18n import N_, _
from emosum_tui.ui.format import pad_cells

if TYPE_CHECKING:
    from emosum_tui.ui.messages import LanguageChanged

# Bit of each dot in a braille cell, by (row 0-3, column 0-1): U+2800 + the sum of the bits.
BRAILLE_BITS = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))
COLUMN_BITS = tuple(tuple(row[column] for row in BRAILLE_BITS) for column in (0, 1))  # by dot row, per column
MARKS = {"braille": "─", "dot": "•"}  # what the legend shows for each kind of series
AXIS = "grey50"


MAX_BLOCKS = 1024  # a series keeps the lowest and highest point of at most this many blocks


class Envelope:
    """A series' points, and the lowest and highest point of each block of `block` consecutive
    points. Drawing reads the blocks, not the points, so a redraw costs the same at any length of
    run. When there are more than MAX_BLOCKS, pairs merge and `block` doubles, so a point is
    looked at once when added and once per merge of its block."""

    def __init__(self) -> None:
        self.xs: list[float] = []
        self.ys: list[float] = []
        self.block = 1
        self.lows: list[int] = []  # per block, the index of its lowest point
        self.highs: list[int] = []  # ... and of its highest

    def __len__(self) -> int:
        return len(self.xs)

    def add(self, x: float, y: float) -> None:
        index = len(self.xs)
        self.xs.append(x)
        self.ys.append(y)
        if index % self.block == 0:  # the first point of a new block
            self.lows.append(index)
            self.highs.append(index)
            if len(self.lows) > MAX_BLOCKS:
                self._merge()
        else:
            if y < self.ys[self.lows[-1]]:
                self.lows[-1] = index
            if y > self.ys[self.highs[-1]]:
                self.highs[-1] = index

    def _merge(self) -> None:
        """Blocks k and k+1 (k even) become one: blocks stay aligned at multiples of `block`."""
        key = self.ys.__getitem__
        self.lows = [min(self.lows[k : k + 2], key=key) for k in range(0, len(self.lows), 2)]
        self.highs = [max(self.highs[k : k + 2], key=key) for k in range(0, len(self.highs), 2)]
        self.block *= 2

    def points(self, buckets: int) -> tuple[list[float], list[float]]:
        """At most 2 x `buckets` points, in x order: every point of a short series; of a long one,
        the lowest and the highest of each run of whole blocks, so no spike or dip is lost."""
        if len(self.xs) <= 2 * buckets:
            return list(self.xs), list(self.ys)
        key = self.ys.__getitem__
        blocks = len(self.lows)
        groups = min(buckets, blocks)
        out_x: list[float] = []
        out_y: list[float] = []
        for group in range(groups):
            start, stop = round(group * blocks / groups), round((group + 1) * blocks / groups)
            low = min(self.lows[start:stop], key=key)
            high = max(self.highs[start:stop], key=key)
            for index in sorted({low, high}):
                out_x.append(self.xs[index])
                out_y.append(self.ys[index])
        return out_x, out_y


def envelope(xs: Sequence[float], ys: Sequence[float], buckets: int) -> tuple[list[float], list[float]]:
    """`Envelope.points` of the series (xs, ys), for a series drawn once."""
    series = Envelope()
    for x, y in zip(xs, ys, strict=True):
        series.add(x, y)
    return series.points(buckets)


def tick_text(value: float, step: float) -> str:
    """A tick label with as many decimals as the spacing of the ticks needs (9.0, 0.250, 12000)."""
    decimals = 0 if step <= 0 else max(0, min(4, 1 - math.floor(math.log10(step))))
    return f"{value:.{decimals}f}"


def ticks(low: float, high: float, count: int) -> list[float]:
    return [low + (high - low) * k / (count - 1) for k in range(count)] if count > 1 else [low]


def padded(low: float, high: float) -> tuple[float, float]:
    """A range with room in it: one value alone gets ±half of itself (or ±0.5 around 0)."""
    if high > low:
        return low, high
    half = abs(low) / 2 or 0.5
    return low - half, high + half


@dataclass(frozen=True)
class Series:
    name: str
    xs: list[float]
    ys: list[float]
    color: str
    marker: str  # "braille": a line of 2x4 dots per cell; "dot": one "•" per point


Cell = tuple[str, str | None]  # a character and its colour (None: the widget's own); "": the right half of a wide one


def chart(series: Sequence[Series], width: int, height: int, title: str, xlabel: str) -> list[list[Cell]]:
    """The plot as `height` rows of `width` cells: title, plot area with y ticks, x axis, x ticks, x label.
    A wide (Chinese) character takes two cells: itself, then "" (so a row still joins to `width` cells)."""
    rows: list[list[Cell]] = [[(" ", None)] * width for _ in range(height)]

    def put(row: int, col: int, text: str, color: str | None = None) -> None:
        if not 0 <= row < height:
            return
        cells = rows[row]
        for char in text:
            size = 2 if cell_len(char) == 2 else 1
            if col >= 0 and col + size <= width:
                if cells[col][0] == "":  # the right half of a wide character: its left half goes too
                    cells[col - 1] = (" ", cells[col - 1][1])
                if col + size < width and cells[col + size][0] == "":  # a wide character overwritten: its right half goes
                    cells[col + size] = (" ", cells[col + size][1])
                cells[col] = (char, color)
                if size == 2:
                    cells[col + 1] = ("", color)
            col += size

    put(0, max(0, (width - cell_len(title)) // 2), title)
    drawn = [s for s in series if s.xs]
    plot_rows = height - 4
    if not drawn or plot_rows < 2 or width < 20:
        return rows
    x_low, x_high = padded(min(s.xs[0] for s in drawn), max(s.xs[-1] for s in drawn))
    y_low, y_high = padded(min(min(s.ys) for s in drawn), max(max(s.ys) for s in drawn))
    y_ticks = ticks(y_low, y_high, min(5, plot_rows))
    y_step = (y_high - y_low) / max(1, len(y_ticks) - 1)
    labels = [tick_text(value, y_step) for value in y_ticks]
    left = max(len(label) for label in labels) + 1  # the axis line's column
    plot_cols = width - left - 2
    if plot_cols < 8:
        return rows
    top = 1

    x_span, y_span = x_high - x_low, y_high - y_low

    def row_of(y: float, scale: int) -> int:
        return round((y_high - y) / y_span * (plot_rows * scale - 1))

    def col_of(x: float, scale: int) -> int:
        return round((x - x_low) / x_span * (plot_cols * scale - 1))

    for row in range(plot_rows):
        put(top + row, left, "│", AXIS)
    for value, label in zip(y_ticks, labels, strict=True):
        row = top + row_of(value, 1)
        put(row, left - 1 - len(label), label, AXIS)
        put(row, left, "┤", AXIS)
    axis_row = top + plot_rows
    put(axis_row, left, "└" + "─" * plot_cols, AXIS)
    x_ticks = ticks(x_low, x_high, max(2, min(5, plot_cols // 12 + 1)))
    x_step = (x_high - x_low) / max(1, len(x_ticks) - 1)
    whole = x_step >= 1 and all(float(x).is_integer() for s in drawn for x in (s.xs[0], s.xs[-1]))
    if whole:  # steps: ticks at 1, 11, 20 (not 10.8), each where it belongs
        x_ticks = sorted({float(round(value)) for value in x_ticks})
    free_from = 0  # x tick labels must not overlap
    for value in x_ticks:
        col = left + 1 + col_of(value, 1)
        label = f"{value:.0f}" if whole else tick_text(value, x_step)
        start = min(max(col - len(label) // 2, free_from), width - len(label))
        put(axis_row, col, "┬", AXIS)
        if start >= free_from:
            put(axis_row + 1, start, label, AXIS)
            free_from = start + len(label) + 1
    put(axis_row + 2, left + 1 + max(0, (plot_cols - cell_len(xlabel)) // 2), xlabel)

    for one in drawn:
        if one.marker == "braille":
            grid = [[0] * plot_cols for _ in range(plot_rows)]  # braille bits per cell
            x_dots, y_dots = plot_cols * 2 - 1, plot_rows * 4 - 1  # `col_of(x, 2)`, `row_of(y, 4)` inlined: 3,000 points a redraw
            points = [(round((x - x_low) / x_span * x_dots), round((y_high - y) / y_span * y_dots)) for x, y in zip(one.xs, one.ys, strict=True)]
            for (x0, y0), (x1, y1) in zip(points, points[1:] or points, strict=False):  # one point: a dot
                if x0 == x1:  # an envelope is mostly vertical strokes (lowest to highest of a bucket)
                    col, bits = x0 >> 1, COLUMN_BITS[x0 & 1]
                    for dy in range(min(y0, y1), max(y0, y1) + 1):
                        grid[dy >> 2][col] |= bits[dy & 3]
                else:
                    for dx, dy in line(x0, y0, x1, y1):
                        grid[dy >> 2][dx >> 1] |= BRAILLE_BITS[dy & 3][dx & 1]
            for row, cells in enumerate(grid):
                for col, bits in enumerate(cells):
                    if bits:
                        rows[top + row][left + 1 + col] = (chr(0x2800 + bits), one.color)
        else:
            for x, y in zip(one.xs, one.ys, strict=True):
                rows[top + row_of(y, 1)][left + 1 + col_of(x, 1)] = (MARKS["dot"], one.color)
    legend = max(cell_len(one.name) for one in drawn) + 2
    for index, one in enumerate(drawn[:plot_rows]):  # the legend, top right: a loss falls away from it
        put(top + index, width - 1 - legend, MARKS.get(one.marker, "•"), one.color)
        put(top + index, width - legend, " " + pad_cells(one.name, legend - 2))
    return rows


def line(x0: int, y0: int, x1: int, y1: int) -> list[tuple[int, int]]:
    """The dots of a straight line from (x0, y0) to (x1, y1), both ends included (Bresenham)."""
    dx, dy = abs(x1 - x0), -abs(y1 - y0)
    sx, sy = (1 if x0 < x1 else -1), (1 if y0 < y1 else -1)
    error = dx + dy
    out = []
    while True:
        out.append((x0, y0))
        if x0 == x1 and y0 == y1:
            return out
        double = 2 * error
        if double >= dy:
            error += dy
            x0 += sx
        if double <= dx:
            error += dx
            y0 += sy


class SeriesPlot(Widget):
    """Named series of (x, y) points; non-finite values are counted, not drawn."""

    DEFAULT_CSS = "SeriesPlot { height: 1fr; }"
    TITLE = ""  # the plot's title: a term or a unit ("loss", "s/step"), the same in every language
    XLABEL = N_("step")  # translated where drawn
    COLORS = ("cyan", "dark_orange", "green")
    MARKERS = ("braille", "dot", "braille")  # a later series (eval: a few points) stays visible

    def __init__(self, *names: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.series: dict[str, Envelope] = {name: Envelope() for name in names}
        self.skipped = 0
        self.dirty = True
        self._strips: list[Strip] = []
        self._drawn_size: tuple[int, int] = (0, 0)

    def add(self, name: str, x: float, y: float | None) -> None:
        if y is None or not math.isfinite(y):
            self.skipped += 1
            return
        self.series[name].add(x, y)
        self.dirty = True

    def points(self, name: str) -> int:
        return len(self.series[name])

    def redraw(self) -> None:
        """Draw the points added since the last redraw (nothing to do when none were)."""
        if self.dirty:
            self.dirty = False
            self._drawn_size = (0, 0)  # build again at the next render
            self.refresh()

    def on_language_changed(self, message: LanguageChanged) -> None:
        self._drawn_size = (0, 0)  # build again at the next render, in the new words
        self.refresh()

    def legend(self, name: str) -> str:
        """What the legend calls the series `name` (a subclass translates its names)."""
        return name

    def title(self) -> str:
        title = self.TITLE
        if self.skipped:
            title = _("{title} ({n} non-finite not drawn)").format(title=title, n=self.skipped)
        return title if any(self.series.values()) else _("{title}: no points yet").format(title=title)

    def _build(self) -> list[Strip]:
        width, height = self.size.width, self.size.height
        buckets = max(16, 2 * width)  # two braille dots per cell
        series = [
            Series(self.legend(name), *points.points(buckets), color, marker)
            for (name, points), color, marker in zip(self.series.items(), self.COLORS, self.MARKERS, strict=False)
        ]
        base = self.rich_style
        styles: dict[str | None, Style] = {None: base}

        def style(color: str | None) -> Style:
            if color not in styles:
                styles[color] = base + Style(color=color)
            return styles[color]

        return [
            Strip([Segment("".join(char for char, _ in cells), style(color)) for color, cells in groupby(row, key=itemgetter(1))], width)
            for row in chart(series, width, height, self.title(), _(self.XLABEL))
        ]

    def render_line(self, y: int) -> Strip:
        size = (self.size.width, self.size.height)
        if self._drawn_size != size:
            self._drawn_size = size
            self._strips = self._build()
        return self._strips[y] if y < len(self._strips) else Strip.blank(self.size.width, self.rich_style)
