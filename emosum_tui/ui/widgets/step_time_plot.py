"""Seconds per optimizer step against the step: a stall or a slow-down shows as a cliff."""

from __future__ import annotations

from emosum_tui.ui.widgets.series_plot import SeriesPlot


class StepTimePlot(SeriesPlot):
    TITLE = "s/step"

    def __init__(self, **kwargs) -> None:
        super().__init__("s/step", **kwargs)

    def add_step(self, step: int, seconds: float) -> None:
        self.add("s/step", step, seconds)
