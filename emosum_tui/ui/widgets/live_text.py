"""A line or block of live figures that redraws only when its words change, and re-flows the
screen only when its shape does.

On a machine where the trainer uses every core, each cycle the console spends is taken from a
training step (with OpenMP's barrier waits, from both of its threads at once). `Static.update`
repaints the widget and, by default, lays out the whole screen again. Most live figures (a
percentage, a sparkline, "step 41 / 100") change their words but not their size, so that layout
is wasted work; and many updates repeat what is already shown.
"""

from __future__ import annotations

from rich.cells import cell_len
from textual.widgets import Static


def text_shape(text: str) -> tuple[int, ...]:
    """Each line's width in cells: what decides an auto-sized (or wrapped) widget's box. Markup is
    counted too, which errs on the side of one more layout."""
    return tuple(cell_len(line) for line in text.split("\n"))


class LiveText(Static):
    """`show(text)` draws `text` if it is new; `fixed_size=True` when the CSS fixes the box."""

    def __init__(self, text: str = "", *, fixed_size: bool = False, **kwargs: object) -> None:
        super().__init__(text, **kwargs)  # type: ignore[arg-type]
        self.text = text
        self.fixed_size = fixed_size

    def show(self, text: str) -> bool:
        """True when it was redrawn; the screen is laid out again only if the box may change."""
        if text == self.text:
            return False
        layout = not self.fixed_size and text_shape(text) != text_shape(self.text)
        self.text = text
        self.update(text, layout=layout)
        return True
