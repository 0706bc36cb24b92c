"""A long series is drawn as its envelope: bounded cost per redraw, no spike or dip lost."""

from __future__ import annotations

import math

import pytest

from emosum_tui.ui.widgets.series_plot import envelope
from emosum_tui.ui.widgets.step_time_plot import StepTimePlot

pytestmark = pytest.mark.anyio


def step_times(n: int) -> tuple[list[float], list[float]]:
    """0.1 s steps with jitter, one 9 s stall at step 12,345 and one 0.01 s step at 777."""
    xs = [float(step) for step in range(1, n + 1)]
    ys = [0.1 + 0.01 * math.sin(step) for step in range(1, n + 1)]
    ys[12_344], ys[776] = 9.0, 0.01
    return xs, ys


def test_the_envelope_keeps_every_spike_and_dip_in_at_most_two_points_per_bucket():
    xs, ys = step_times(20_000)
    shown_x, shown_y = envelope(xs, ys, 300)
    assert len(shown_x) <= 600 and shown_x == sorted(shown_x)
    points = set(zip(shown_x, shown_y, strict=True))
    assert (12_345.0, 9.0) in points and (777.0, 0.01) in points
    assert (max(shown_y), min(shown_y)) == (max(ys), min(ys))
    assert envelope(xs[:500], ys[:500], 300) == (xs[:500], ys[:500])  # short series: every point


async def test_a_plot_of_20000_steps_still_shows_the_one_stall():
    from textual.app import App

    class PlotApp(App):
        def compose(self):
            yield StepTimePlot()

    app = PlotApp()
    async with app.run_test(size=(120, 30)) as pilot:
        plot = app.query_one(StepTimePlot)
        for x, y in zip(*step_times(20_000), strict=True):
            plot.add_step(int(x), y)
        plot.redraw()
        await pilot.pause()
        rendered = "\n".join(line.text for line in plot.render_lines(plot.region.reset_offset))  # what the terminal gets
        assert "9.0" in rendered or "8.9" in rendered, rendered  # the y axis reaches the stall


def test_a_falling_loss_runs_from_the_top_left_to_the_bottom_right_with_its_ticks_and_legend():
    from emosum_tui.ui.widgets.series_plot import Series, chart

    rows = chart([Series("train", [1.0, 2.0, 3.0, 4.0], [4.0, 3.0, 2.0, 1.0], "cyan", "braille"),
                  Series("eval", [2.0], [2.5], "dark_orange", "dot")], width=40, height=12, title="loss", xlabel="step")
    text = ["".join(char for char, _ in row) for row in rows]
    assert len(text) == 12 and all(len(line) == 40 for line in text)
    assert text[0].strip() == "loss" and text[-1].strip() == "step"
    assert text[1].startswith("4.00 ┤") and text[8].startswith("1.00 ┤")  # y ticks from the data's range, 0.75 apart
    assert text[10].split() == ["1", "2", "4"]  # x ticks: whole steps (2.5 would be 2 where 2.5 is)
    plot = [line[6:-1] for line in text[1:9]]
    braille = [(row, col) for row, line in enumerate(plot) for col, char in enumerate(line) if "\u2800" < char <= "\u28ff"]
    assert min(braille)[0] == 0 and max(braille)[0] == 7  # from the top row to the bottom one
    assert min(braille, key=lambda rc: rc[1])[0] == 0 and max(braille, key=lambda rc: rc[1])[0] == 7  # falling
    assert "•" in "".join(plot[:-1]) and text[1].rstrip().endswith("─ train") and text[2].rstrip().endswith("• eval")
    coloured = {color for row in rows for char, color in row if "\u2800" < char <= "\u28ff"}
    assert coloured == {"cyan"}


def test_no_points_and_one_point_are_drawn_without_dividing_by_zero():
    from emosum_tui.ui.widgets.series_plot import Series, chart

    empty = chart([Series("s/step", [], [], "cyan", "braille")], 40, 10, "s/step: no points yet", "step")
    assert "".join(char for char, _ in empty[0]).strip() == "s/step: no points yet"
    one = chart([Series("s/step", [5.0], [0.3], "cyan", "braille")], 40, 10, "s/step", "step")
    assert sum("\u2800" < char <= "\u28ff" for row in one for char, _ in row) == 1


def test_a_long_series_keeps_few_blocks_and_each_drawn_point_is_the_true_extreme_of_its_stretch():
    import random

    from emosum_tui.ui.widgets.series_plot import MAX_BLOCKS, Envelope

    rng = random.Random(7)
    series = Envelope()
    ys = [rng.gauss(1.0, 0.1) for _ in range(150_001)]
    ys[123_457], ys[4_321] = 50.0, -3.0
    for x, y in enumerate(ys):
        series.add(float(x), y)
    assert len(series.lows) <= MAX_BLOCKS and series.block == 256  # 150,001 points in 587 blocks of 256
    shown_x, shown_y = series.points(300)
    assert len(shown_x) <= 600 and shown_x == sorted(shown_x)
    assert (123_457.0, 50.0) in zip(shown_x, shown_y, strict=True) and (4_321.0, -3.0) in zip(shown_x, shown_y, strict=True)
    blocks = len(series.lows)
    for group in range(300):  # each group of whole blocks shows its lowest and its highest point, and only those
        start, stop = round(group * blocks / 300) * series.block, min(len(ys), round((group + 1) * blocks / 300) * series.block)
        stretch = ys[start:stop]
        drawn = [y for x, y in zip(shown_x, shown_y, strict=True) if start <= x < stop]
        assert sorted(set(drawn)) == sorted({min(stretch), max(stretch)}), group
