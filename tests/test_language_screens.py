"""Every screen in English and in Chinese, at the two sizes the console is laid out for.

Snapshots (pytest-textual-snapshot) at 120x40 and 160x50 catch a cut or misaligned label: a
Chinese character takes two cells. The Chinese frames are also read as text: an English word on
a Chinese screen that is neither a term kept on purpose (units, preset keys and names, file
names, the language key's own label) nor part of a value fails the test, naming the word, so a
string that never went through the catalog cannot hide. Update the snapshots after an intended
change with `pytest --snapshot-update`.
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.pilot import ConsoleWith, wait_for
from support.recorded_runs import write_finished_run
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import DataTable

from emosum_tui import i18n
from emosum_tui.core.preset_schema import SCHEMA, TOP_LEVEL
from emosum_tui.ui.app import EmosumApp
from emosum_tui.ui.screens.evaluate_screen import EvaluateScreen
from emosum_tui.ui.screens.runs import RunsScreen
from emosum_tui.ui.screens.training import TrainingScreen
from emosum_tui.ui.screens.try_screen import TryScreen
from emosum_tui.ui.widgets.diagnosis_panel import DiagnosisPanel
from emosum_tui.ui.widgets.loss_plot import LossPlot

SIZES = [pytest.param((120, 40), id="120x40"), pytest.param((160, 50), id="160x50")]
LANGUAGES = [pytest.param("en", id="en"), pytest.param("zh_CN", id="zh_CN")]

# English a Chinese screen keeps on purpose (docs/glossary.zh-CN.md): names, units, terms, and
# the preset keys and values the table shows as they are typed in a preset file.
KEPT_WORDS = {
    "emosum", "English", "google", "mT5", "small", "base", "Hugging", "Face", "Hub", "transformers",
    "CPU", "GPU", "RAM", "VRAM", "SSD", "CJK", "LM", "GiB", "MiB", "GB", "MB", "KB", "M", "ms", "min", "s", "h",
    "tok", "token", "tokens", "samples", "loss", "ROUGE", "bf16", "fp16", "fp32", "tf32", "torch", "cpu", "CUDA",
    "NVIDIA", "HF", "pid", "ETA", "AdamW", "Adafactor", "adamw", "adafactor", "true", "false", "auto", "esc",
    "enter", "ctrl", "id", "Trainer", "head",  # transformers' Trainer, the LM head
    "download",  # `huggingface-cli download`, a command
}
KEPT_WORDS |= set(SCHEMA) | {key for fields in SCHEMA.values() for key in fields} | TOP_LEVEL
KEPT_WORDS |= {choice for fields in SCHEMA.values() for field in fields.values() for choice in field.choices}
KEPT_WORDS |= {"original", "full", "fast", "lean", "demo"}  # the built-in presets' names
# The trainer's own log lines stay English (docs/translating.md): the recorded run has this warning.
TRAINER_TEXT = re.compile(r"targets\s+are\s+mostly\s+one\s+\w*")  # cut wherever the pane ends
WORD = re.compile(r"[A-Za-z][\w./\-]*")


@pytest.fixture
def language(request: pytest.FixtureRequest) -> Iterator[str]:
    chosen = i18n.set_language(request.param)
    yield chosen
    i18n.set_language("en")


@pytest.fixture
def utc_console(console_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The console's home, with the clock in UTC: the runs table's start times read the same everywhere."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield console_home
    monkeypatch.undo()
    time.tzset()


def english_words(svg: str) -> list[str]:
    """English words of a frame that a Chinese screen should not show."""
    text = html.unescape(" ".join(re.findall(r"<text[^>]*>(.*?)</text>", svg)))
    text = TRAINER_TEXT.sub("", text)
    identifiers = {word for word in WORD.findall(text) if "_" in word}
    words = []
    for match in WORD.finditer(text):
        if text[match.end():match.end() + 1] == "…" or any(i.startswith(match.group()) for i in identifiers):
            continue  # a value cut to its column, or clipped where the table scrolls
        bare = match.group().rstrip(".-/")
        if len(bare) == 1 or any(mark in bare for mark in "_./-") or bare in KEPT_WORDS:
            continue  # key names, keys, file names, paths, model and run names: values, not words
        if re.fullmatch(r"[A-Za-z]?\d\w*|x\d.*", bare):
            continue
        words.append(bare)
    return words


async def presets_settled(pilot: Pilot) -> None:
    screen = pilot.app.presets_screen

    def done() -> bool:
        figures = screen.preset_figures
        current = screen.presets[screen.selected]
        return figures[current.name].preflight is not None and all(figures[p.name].estimate is not None for p in screen.presets) \
            and figures[current.name].tokens is not None

    await wait_for(pilot, done)
    await pilot.pause(0.3)


def training_screen(tmp_path: Path) -> tuple[Screen, object]:
    screen = TrainingScreen(write_finished_run(tmp_path / "runs" / "20261122-101010-demo"), sample_resources=False)

    async def settled(pilot: Pilot) -> None:
        await wait_for(pilot, lambda: screen.clock.done is not None and screen.query_one(LossPlot).points("train") >= 40
                       and screen.query_one(DiagnosisPanel).findings)
        await pilot.pause(1.2)

    return screen, settled


def runs_screen(tmp_path: Path) -> tuple[Screen, object]:
    write_finished_run(tmp_path / "runs" / "20261122-101010-demo")
    write_finished_run(tmp_path / "runs" / "20261123-090000-fast", reason="stopped")
    screen = RunsScreen(root=Path("runs"))  # relative to tmp_path, the working folder: the same text on every machine

    async def settled(pilot: Pilot) -> None:
        table = screen.query_one(DataTable)
        # the columns measured to their rows (the table measures on idle, after the rows arrive)
        await wait_for(pilot, lambda: screen.loaded and table.ordered_columns[0].content_width >= len("20261122-101010-demo"))
        await pilot.pause(0.3)

    return screen, settled


def try_screen(tmp_path: Path) -> tuple[Screen, object]:
    screen = TryScreen(Path("no-model-here"))

    async def settled(pilot: Pilot) -> None:
        await wait_for(pilot, lambda: "no-model-here" in str(screen.query_one("#try-status").content))
        screen.set_focus(None)  # no text cursor: a blinking one is in one frame and not the next
        await pilot.pause(0.3)

    return screen, settled


def evaluate_screen(tmp_path: Path) -> tuple[Screen, object]:
    write_finished_run(tmp_path / "runs" / "20261122-101010-demo")
    screen = EvaluateScreen(Path("runs/20261122-101010-demo"))  # relative to tmp_path: the same text everywhere

    async def settled(pilot: Pilot) -> None:
        await wait_for(pilot, lambda: screen.ended is not None)
        await pilot.pause(0.3)

    return screen, settled


SCREENS = {"training": training_screen, "runs": runs_screen, "try": try_screen, "evaluate": evaluate_screen}


def check_no_english(frame: str, language: str, screen: str) -> None:
    if language == "en":
        return
    left = english_words(frame)
    assert not left, f"English on the Chinese {screen}: {sorted(set(left))}"


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("language", LANGUAGES, indirect=True)
def test_presets_screen(utc_console: Path, language: str, size: tuple[int, int], snap_compare) -> None:
    frames: list[str] = []

    async def settled(pilot: Pilot) -> None:
        await presets_settled(pilot)
        frames.append(pilot.app.export_screenshot())

    assert snap_compare(EmosumApp(s_per_step=1.0), terminal_size=size, run_before=settled)
    check_no_english(frames[0], language, "PresetsScreen")


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("language", LANGUAGES, indirect=True)
@pytest.mark.parametrize("name", list(SCREENS))
def test_screen(name: str, utc_console: Path, tmp_path: Path, language: str, size: tuple[int, int], snap_compare,
                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    screen, settled = SCREENS[name](tmp_path)

    frames: list[str] = []

    async def run_before(pilot: Pilot) -> None:
        await settled(pilot)
        frames.append(pilot.app.export_screenshot())

    assert snap_compare(ConsoleWith(screen), terminal_size=size, run_before=run_before)
    check_no_english(frames[0], language, type(screen).__name__)


@pytest.mark.anyio
async def test_the_language_key_switches_every_screen_on_the_stack_and_back(utc_console: Path, tmp_path: Path) -> None:
    """`l` on the training screen over the presets: both redraw in Chinese; `l` again: the English
    frames are what they were."""
    run_dir = write_finished_run(tmp_path / "runs" / "20261122-101010-demo")
    app = EmosumApp(s_per_step=1.0, watch=run_dir)
    try:
        async with app.run_test(size=(160, 50)) as pilot:
            await wait_for(pilot, lambda: isinstance(app.screen, TrainingScreen) and app.screen.clock.done is not None)
            await pilot.pause(1.5)
            english = app.export_screenshot()
            await pilot.press("l")
            await pilot.pause(1.5)
            assert i18n.language() == "zh_CN"
            chinese = app.export_screenshot()
            assert chinese != english and "退出" in html.unescape(chinese)
            await pilot.press("escape")  # back to the presets, which switched while covered
            await presets_settled(pilot)
            check_no_english(app.export_screenshot(), "zh_CN", "PresetsScreen")
            await pilot.press("l")
            await pilot.pause(0.5)
            assert i18n.language() == "en"
            assert "quit" in html.unescape(app.export_screenshot())
    finally:
        i18n.set_language("en")
