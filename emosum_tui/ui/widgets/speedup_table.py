"""Why the selected preset is faster (or slower) than the baseline, factor by factor.

The user's hand-made plan multiplied guessed speed-ups (2 x 6 x 2.6 x 3 x 2 = 187x), and some
were wrong: a bigger batch does not make a sample cheaper. Here the factors come from the cost
model, each is a ratio of total time, and their running product ends at the ratio of the two
totals, so nothing can be counted twice.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import DataTable

from emosum_tui.i18n import _
from emosum_tui.ui.format import speedup_text
from emosum_tui.ui.widgets.estimate_table import ESTIMATING

if TYPE_CHECKING:
    from emosum_tui.core.decompose import Factor
    from emosum_tui.ui.messages import LanguageChanged


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
        self._shown: tuple[str, str, list[Factor] | None, str] | None = None

    def on_resize(self) -> None:
        if self._shown is not None:
            self.show(*self._shown)

    def on_language_changed(self, message: LanguageChanged) -> None:
        self.on_resize()

    def show(self, base: str, other: str, factors: list[Factor] | None, note: str = "") -> None:
        """`factors`: the cost model's Factor list (key, label, factor = time ratio), None while pending."""
        self.clear(columns=True)
        self._shown = (base, other, factors, note)
        rows: list[tuple[str, list[Text]]] = []
        if factors is None or not factors:
            placeholder = _(ESTIMATING) if factors is None else _("same plan: nothing to decompose")
            rows.append(("__note__", [Text(""), Text(""), Text(note or placeholder)]))
        else:
            faster = self.get_component_rich_style("speedup-table--faster")
            slower = self.get_component_rich_style("speedup-table--slower")
            product = 1.0
            for factor in factors:
                value = float(factor.factor)
                product *= value
                style = None if math.isclose(value, 1.0, rel_tol=1e-3) else faster if value < 1 else slower
                cells = [Text(speedup_text(value), style=style or "", justify="right"), Text(f"x{product:.3g}", justify="right")]
                rows.append((str(factor.key), [*cells, Text(str(factor.label))]))
            total = self.get_component_rich_style("speedup-table--total")
            rows.append((
                "__total__",
                [
                    Text(speedup_text(product), style=total, justify="right"),
                    Text(f"x{product:.3g}", style=total, justify="right"),
                    Text(_("total time (the product of the factors)"), style=total),
                ],
            ))
        # Figures get the width they need (measured here, not by the table's lazy auto-width);
        # the description takes the rest of the panel and wraps (its rows grow).
        time_width = max(4, *(cells[0].cell_len for _, cells in rows))
        so_far_width = max(6, *(cells[1].cell_len for _, cells in rows))
        label_width = max(20, (self.size.width or 64) - time_width - so_far_width - 2 * 3 * self.cell_padding - 1)
        self.add_column(_("time"), key="ratio", width=time_width)
        self.add_column(_("so far"), key="product", width=so_far_width)
        self.add_column(_("{other} vs {base}: change").format(other=other, base=base), key="factor", width=label_width)
        for key, cells in rows:
            self.add_row(*cells, key=key, height=None)
