"""The language key (`l`) on the presets and training screens: their own words switch to Chinese
and back, and the English after a round trip is the English before it.

The language is process-wide: each test puts English back when it ends (`english_after`).
"""

from __future__ import annotations

import html
import io
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console
from support.pilot import SIZE, ConsoleWith, wait_for
from support.project import BUILTIN
from support.recorded_runs import write_finished_run
from textual.app import App
from textual.screen import Screen
from textual.widgets import Static
from textual.widgets._footer import FooterKey

from emosum_tui import i18n
from emosum_tui.builtin import BUILTIN_DESCRIPTIONS
from emosum_tui.core.presets import load_preset
from emosum_tui.ui import figures
from emosum_tui.ui.app import EmosumApp
from emosum_tui.ui.messages import StartRun
from emosum_tui.ui.screens.training import TrainingScreen
from emosum_tui.ui.widgets.loss_plot import LossPlot

pytestmark = pytest.mark.anyio


@pytest.fixture
def english_after() -> Iterator[None]:
    """English at the start and, whatever the test did, at the end."""
    assert i18n.language() == "en"
    yield
    i18n.set_language("en")


@pytest.fixture
def preflight_held(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """`figures.preflight_findings` waits until the event is set (so a preset's preflight stays
    unknown for as long as the test needs); set at the end, so no worker thread is left waiting."""
    gate = threading.Event()
    real = figures.preflight_findings

    def held(*args: object, **kwargs: object) -> object:
        gate.wait(timeout=60)
        return real(*args, **kwargs)

    monkeypatch.setattr(figures, "preflight_findings", held)
    yield gate
    gate.set()


class RecordingApp(EmosumApp):
    """The console, with a `StartRun` recorded instead of a trainer launched."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.started: list[str] = []

    def on_start_run(self, message: StartRun) -> None:
        message.prevent_default()
        self.started.append(message.preset.name)


def plain(widget: Static) -> str:
    console = Console(width=200, file=io.StringIO(), record=True)
    console.print(widget.content)
    return console.export_text().rstrip()


def rendered(screen: Screen, selector: str) -> str:
    return str(screen.query_one(selector).render())


def footer(app: App) -> list[str]:
    return [str(key.description) for key in app.screen.query(FooterKey)]


def frame_text(app: App) -> str:
    """The words of the whole frame (notifications cleared: the switch's own toast is not the screen)."""
    app.clear_notifications()
    svg = app.export_screenshot()
    return html.unescape(" ".join(re.findall(r"<text[^>]*>(.*?)</text>", svg)))


async def press_l(pilot, app: App, language: str) -> None:
    await pilot.press("l")
    await wait_for(pilot, lambda: i18n.language() == language)
    await pilot.pause(0.5)  # the messages to every screen and widget, then a frame


async def test_l_switches_the_presets_screens_words_and_back(console_home: Path, preflight_held: threading.Event,
                                                            english_after: None) -> None:
    app = RecordingApp(s_per_step=1.0)
    async with app.run_test(size=SIZE) as pilot:
        try:
            await switch_presets_and_back(pilot, app, preflight_held)
        finally:
            preflight_held.set()  # before the app closes: it waits for its worker threads


async def switch_presets_and_back(pilot, app: RecordingApp, preflight_held: threading.Event) -> None:
    screen = app.presets_screen
    await pilot.press("3")
    await wait_for(pilot, lambda: screen.background)
    await pilot.press("s")  # fast's preflight is held: the status line says the start waits for it
    assert screen.start_waiting is not None

    def words() -> dict[str, object]:
        return {"sub_title": screen.sub_title, "description": plain(screen.query_one("#preset-description", Static)),
                "status": rendered(screen, "#status-line"), "footer": footer(app)}

    english = words()
    assert english["sub_title"] == "presets"
    assert english["description"].startswith("fast — Fast plan") and "baseline: original" in english["description"]
    assert "starting fast once its preflight is done" in english["status"]
    assert "start run" in english["footer"] and "quit" in english["footer"]

    await press_l(pilot, app, "zh_CN")
    chinese = words()
    assert chinese["sub_title"] == "预设"
    assert chinese["description"].startswith("fast — 快速方案") and "基准：original" in chinese["description"]
    assert "fast 的启动前检查完成后即开始" in chinese["status"]
    assert "开始训练" in chinese["footer"] and "退出" in chinese["footer"] and "start run" not in chinese["footer"]

    await press_l(pilot, app, "en")
    assert words() == english
    await pilot.press("left")  # the waiting start is dropped: nothing starts when the preflight comes
    preflight_held.set()
    await pilot.pause(0.3)
    assert app.started == []


async def test_l_switches_the_training_screens_words_and_back(console_home: Path, tmp_path: Path, english_after: None) -> None:
    run_dir = write_finished_run(tmp_path / "runs" / "20261122-101010-demo")
    screen = TrainingScreen(run_dir, sample_resources=False)
    app = ConsoleWith(screen)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: screen.clock.done is not None and screen.query_one(LossPlot).points("train") >= 40)
        await pilot.pause(1.2)

        def words() -> dict[str, object]:
            return {"phase": rendered(screen, "#phase-name"), "resources": rendered(screen, "#resource-text"),
                    "footer": footer(app)}

        english, english_frame = words(), frame_text(app)
        assert "final model: model/demo/final" in english["phase"]
        assert "not sampled in this view" in english["resources"]
        assert "resume" in english["footer"] and "back" in english["footer"]

        await press_l(pilot, app, "zh_CN")
        chinese = words()
        assert "最终模型：model/demo/final" in chinese["phase"]
        assert "此视图不采样" in chinese["resources"]
        assert "续训" in chinese["footer"] and "返回" in chinese["footer"] and "resume" not in chinese["footer"]
        frame = frame_text(app)
        for left in ("final model", "not sampled", "stop (checkpoint", "failure advice", "try the model"):
            assert left not in frame, left

        await press_l(pilot, app, "en")
        assert words() == english
        assert frame_text(app) == english_frame


def test_every_built_in_description_is_marked_for_the_catalog() -> None:
    """The presets screen translates a description through the catalog: a built-in's must be in it."""
    shipped = {load_preset(path).description for path in (BUILTIN / "presets").glob("*.toml")}
    assert shipped == set(BUILTIN_DESCRIPTIONS)
