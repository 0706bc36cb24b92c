"""LiveText: live figures redraw only when their words change, and the box follows their shape."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult

from emosum_tui.ui.widgets.live_text import LiveText

pytestmark = pytest.mark.anyio


class OneText(App):
    CSS = "LiveText { height: auto; width: auto; }"

    def compose(self) -> ComposeResult:
        yield LiveText("cpu 5%", id="text")


async def test_the_box_follows_new_lines_and_a_repeat_is_not_redrawn():
    app = OneText()
    async with app.run_test(size=(60, 20)) as pilot:
        text = app.query_one(LiveText)
        await pilot.pause()
        assert text.size == (6, 1)
        assert text.show("cpu 7%")  # same shape: redrawn in place
        assert not text.show("cpu 7%")  # nothing new: nothing drawn
        assert text.show("cpu 12%\nram 3.1 GB\ndisk 40 GB free")  # new shape: the screen re-flows
        await pilot.pause()
        assert text.size == (15, 3)
        assert "ram 3.1 GB" in str(text.render())


class WidthSet(OneText):
    CSS = "LiveText { height: auto; width: 20; }"


async def test_in_a_box_of_set_width_only_a_new_row_count_re_flows_the_screen():
    app = WidthSet()
    async with app.run_test(size=(60, 20)) as pilot:
        text = app.query_one(LiveText)
        text.show("CPU 5% of 2 cores")
        await pilot.pause()
        layouts: list[bool] = []
        real = text.update
        text.update = lambda content, *, layout=True: (layouts.append(layout), real(content, layout=layout))[1]
        assert text.show("CPU 100% of 2 cores")  # wider words, still one row of 20 cells: no re-flow
        assert text.show("CPU 100% of 2 cores, trainer 190%")  # wraps to two rows: the box grows
        await pilot.pause()
        assert layouts == [False, True] and text.size == (20, 2)
