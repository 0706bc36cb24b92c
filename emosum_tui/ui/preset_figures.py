"""What the presets screen has worked out for each preset, kept in one place by preset name.

`PresetFigures` holds one preset's figures (the cost model's estimate, the token statistics of
its data, the doctor's preflight findings); a field that is None is not known yet. `FigureStore`
keeps them by name: an edit or a calibration changes what a name means, so `forget(name)` drops
all of that preset's figures at once and the screen works them out again. Plain data: no widget
and no worker in here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from emosum_tui.core.presets import Preset

if TYPE_CHECKING:
    from emosum_tui.core.token_stats import TokenReport
    from emosum_tui.doctor.findings import Finding
    from emosum_tui.ui.widgets.estimate_table import EstimateCell

EDITED_MARK = "*"  # an edited variant's name ends with this ("demo*")


@dataclass(frozen=True)
class TokenFigures:
    """The token statistics of one preset's data, or (`report` None) why they could not be read."""

    report: TokenReport | None
    error: str = ""


@dataclass
class PresetFigures:
    """One preset's figures; None: not worked out yet.

    `preflight_asked` is the very preset object whose preflight is being worked out: a check
    that comes back for another object (the preset was edited meanwhile) is stale."""

    estimate: EstimateCell | None = None
    tokens: TokenFigures | None = None
    preflight: list[Finding] | None = None
    preflight_asked: Preset | None = None

    def fix(self) -> Finding | None:
        """The preflight's worst finding whose fix is a preset change (`a` applies it)."""
        return next((finding for finding in self.preflight or [] if finding.changes), None)

    def forget_preflight(self) -> None:
        self.preflight = None
        self.preflight_asked = None


class FigureStore:
    """`PresetFigures` by preset name; `store[name]` makes an empty entry on first use."""

    def __init__(self) -> None:
        self._by_name: dict[str, PresetFigures] = {}

    def __getitem__(self, name: str) -> PresetFigures:
        return self._by_name.setdefault(name, PresetFigures())

    def forget(self, name: str) -> None:
        """The preset called `name` changed (an edit, a calibration): every figure of it is stale."""
        self._by_name.pop(name, None)

    def forget_edited(self) -> None:
        """Edited variants were saved or dropped: their figures go with them."""
        for name in [n for n in self._by_name if n.endswith(EDITED_MARK)]:
            del self._by_name[name]

    def forget_preflights(self) -> None:
        """This machine's facts changed: every preflight is worked out again."""
        for known in self._by_name.values():
            known.forget_preflight()
