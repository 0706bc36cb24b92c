"""Why the selected preset is faster (or slower) than the baseline, factor by factor.

The user's hand-made plan multiplied guessed speed-ups (2 x 6 x 2.6 x 3 x 2 = 187x), and some
were wrong: a bigger batch does not make a sample cheaper. Here the factors come from the cost
model, each is a ratio of total time, and their running product ends at the ratio of the two
totals, so nothing can be counted twice.
"""

from __future__ import annotations

import math
from typing import Any

from rich.text import Text
from textual.widgets import DataTable

from emosum_tui.ui.format import speedup_text


class SpeedupTable(DataTable):
    """The cost model's decomposition of `other` vs `base`: one row per factor, then the product.

    The figures come first and the (long) description last, so a narrow panel cuts words, not numbers."""

    COMPONENT_CLASSES = {  # noqa: RUF012 - Textual's own declaration style
        "speedup-table--total",
        "speedup-table--faster",
        "speedup-table--slower",
    }

    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="none", show_cursor=False, **kwargs)  # type: ignore[arg-type]
        self._shown: tuple[str, str, list[Any] | None, str] | None = None

    def on_resize(self) -> None:
        if self._shown is not None:
            self.show(*self._shown)

    def show(self, base: str, other: str, factors: list[Any] | None, note: str = "") -> None:
        """`factors`: the cost model's Factor list (key, label, factor = time ratio), None while pending."""
        self.clear(columns=True)
        self._shown = (base, other, factors, note)
        self.add_column("time", key="ratio")
        self.add_column("so far", key="product")
        # The description wraps inside the panel (rows grow) rather than running off its edge.
        self.add_column(f"{other} vs {base}: change", key="factor", width=max(20, (self.size.width or 64) - 28))
        if factors is None:
            self.add_row("", "", Text(note or "estimating…"), height=None)
            return
        if not factors:
            self.add_row("", "", Text(note or "same plan: nothing to decompose"), height=None)
            return
        faster = self.get_component_rich_style("speedup-table--faster")
        slower = self.get_component_rich_style("speedup-table--slower")
        product = 1.0
        for factor in factors:
            value = float(factor.factor)
            product *= value
            style = None if math.isclose(value, 1.0, rel_tol=1e-3) else faster if value < 1 else slower
            self.add_row(
                Text(speedup_text(value), style=style or "", justify="right"),
                Text(f"x{product:.3g}", justify="right"),
                Text(str(factor.label)),
                key=str(factor.key),
                height=None,
            )
        total = self.get_component_rich_style("speedup-table--total")
        self.add_row(
            Text(speedup_text(product), style=total, justify="right"),
            Text(f"x{product:.3g}", style=total, justify="right"),
            Text("total time (the product of the factors)", style=total),
            key="__total__",
            height=None,
        )
