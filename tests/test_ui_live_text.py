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
