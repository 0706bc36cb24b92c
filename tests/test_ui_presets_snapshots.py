"""Snapshots of the presets screen (pytest-textual-snapshot): the frame a user sees, pixel for pixel.

Deterministic by construction: a fixed terminal size, the time per step pinned (no calibration
or machine prior in any figure, and no machine facts: preflight checks only the preset's own
files), an empty Hugging Face cache with the hub switched off (token lengths from the documented
chars/token ratio, and the same "model is not here" finding on every machine), no clock in the
header, and the input cursor not blinking. Update after an intended change with `pytest --snapshot-update`.
"""

from __future__ import annotations

import time
from pathlib import Path

from support.pilot import SIZE
from textual.pilot import Pilot
from textual.widgets import Input, OptionList

from emosum_tui.core.presets import iter_keys
from emosum_tui.ui.app import EmosumApp
from emosum_tui.ui.screens.edit_value import EditValueScreen
from emosum_tui.ui.screens.presets import PresetsScreen


async def settled(pilot: Pilot) -> None:
    """Wait until every figure on the presets screen has arrived."""
    app = pilot.app
    assert isinstance(app, EmosumApp)
    screen = app.presets_screen
    deadline = time.monotonic() + 60

    def done() -> bool:
        current, base = screen.presets[screen.selected], screen.presets[screen.baseline]
        known = screen.side.decomposition
        decomposed = current is base or (known is not None and (known.base, known.other) == (base.name, current.name))
        figures = screen.preset_figures
        checked = figures[current.name].preflight is not None
        estimated = all(figures[p.name].estimate is not None for p in screen.presets)
        return estimated and figures[current.name].tokens is not None and decomposed and checked

    while not done():
        assert time.monotonic() < deadline, "figures did not arrive"
        await pilot.pause(0.05)
    await pilot.pause(0.3)  # let tables finish their (lazy) column layout


def test_presets_screen_first_view(console_home: Path, snap_compare) -> None:
    assert snap_compare(EmosumApp(s_per_step=1.0), terminal_size=SIZE, run_before=settled)


def test_presets_screen_fast_against_original(console_home: Path, snap_compare) -> None:
    async def select_fast(pilot: Pilot) -> None:
        await pilot.press("3")
        await settled(pilot)

    assert snap_compare(EmosumApp(s_per_step=1.0), terminal_size=SIZE, run_before=select_fast)


def test_presets_screen_full_as_baseline(console_home: Path, snap_compare) -> None:
    async def baseline_full(pilot: Pilot) -> None:
        await pilot.press("2", "b", "3")
        await settled(pilot)

    assert snap_compare(EmosumApp(s_per_step=1.0), terminal_size=SIZE, run_before=baseline_full)


def test_edit_value_dialog(console_home: Path, snap_compare) -> None:
    async def edit_learning_rate(pilot: Pilot) -> None:
        await pilot.press("3")
        await settled(pilot)
        await pilot.press("e")
        app = pilot.app
        while not isinstance(app.screen, EditValueScreen):
            await pilot.pause(0.05)
        app.screen.query_one(OptionList).highlighted = [k for k, _ in iter_keys()].index("train.learning_rate")
        await pilot.press("enter")
        field = app.screen.query_one(Input)
        field.cursor_blink = False
        field.value = ""
        await pilot.press(*"-1", "enter")
        await pilot.pause(0.3)
        assert not isinstance(app.screen, PresetsScreen)  # the error keeps the dialog open

    assert snap_compare(EmosumApp(s_per_step=1.0), terminal_size=SIZE, run_before=edit_learning_rate)
