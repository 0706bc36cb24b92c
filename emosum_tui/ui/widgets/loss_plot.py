"""Train loss (every optimizer step) and eval loss (every evaluation) against the step."""

from __future__ import annotations

from emosum_tui.ui.widgets.series_plot import SeriesPlot


class LossPlot(SeriesPlot):
    TITLE = "loss"

    def __init__(self, **kwargs) -> None:
        super().__init__("train", "eval", **kwargs)

    def add_train(self, step: int, loss: float | None) -> None:
        self.add("train", step, loss)

    def add_eval(self, step: int, loss: float | None) -> None:
        self.add("eval", step, loss)
