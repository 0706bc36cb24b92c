"""A line or block of live figures that redraws only when its words change, and re-flows the
screen only when its shape does.

On a machine where the trainer uses every core, each cycle the console spends is taken from a
training step (with OpenMP's barrier waits, from both of its threads at once). `Static.update`
repaints the widget and, by default, lays out the whole screen again. Most live figures (a
percentage, a sparkline, "step 41 / 100") change their words but not their size, so that layout
is wasted work; and many updates repeat what is already shown. In a box whose width the CSS sets,
only a change in the number of wrapped rows can change its size.
"""

from __future__ import annotations

from rich.cells import cell_len
from textual.widgets import Static


def text_shape(text: str, width: int | None = None) -> tuple[int, ...]:
    """What decides the widget's box: each line's width in cells for an auto-width widget, or,
    in a box of `width` cells, how many rows the text wraps to. Markup is counted too, which
    errs on the side of one more layout."""
    if width is None:
        return tuple(cell_len(line) for line in text.split("\n"))
    return (sum(max(1, -(-cell_len(line) // width)) for line in text.split("\n")),)


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
        layout = not self.fixed_size and self._shape(text) != self._shape(self.text)
        self.text = text
        self.update(text, layout=layout)
        return True

    def _shape(self, text: str) -> tuple[int, ...]:
        width = self.styles.width
        if width is None or width.is_auto or self.content_size.width <= 0:
            return text_shape(text)
        return text_shape(text, self.content_size.width)  # the CSS sets the width: only the height can change
