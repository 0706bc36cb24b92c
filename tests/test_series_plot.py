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
