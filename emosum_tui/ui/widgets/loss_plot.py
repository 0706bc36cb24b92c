"""Train loss (every optimizer step) and eval loss (every evaluation) against the step."""

from __future__ import annotations

from emosum_tui.i18n import pgettext
from emosum_tui.ui.widgets.series_plot import SeriesPlot


class LossPlot(SeriesPlot):
    TITLE = "loss"  # the glossary keeps "loss" on plots

    def legend(self, name: str) -> str:
        if name == "train":
            return pgettext("plot legend", "train")
        if name == "eval":
            return pgettext("plot legend", "eval")
        return name

    def __init__(self, **kwargs) -> None:
        super().__init__("train", "eval", **kwargs)

    def add_train(self, step: int, loss: float | None) -> None:
        self.add("train", step, loss)

    def add_eval(self, step: int, loss: float | None) -> None:
        self.add("eval", step, loss)
