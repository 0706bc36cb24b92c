"""The presets screen, driven like a user: keys pressed, tables read, files written.

Every test runs the real app (`App.run_test()` pilot) on a private copy of presets/ and data/;
estimates come from the real cost model with the time per step pinned, so figures are exact.
"""

from __future__ import annotations

import io
import re
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from rich.console import Console
from support.pilot import SIZE, wait_for
from support.project import BUILTIN
from textual.pilot import Pilot
from textual.widgets import Input, OptionList, Static

from emosum_tui.core.presets import iter_keys, load_preset
from emosum_tui.ui.app import EmosumApp
from emosum_tui.ui.screens.edit_value import EditValueScreen
from emosum_tui.ui.screens.presets import PresetsScreen
from emosum_tui.ui.screens.save_preset import SavePresetScreen
from emosum_tui.ui.widgets.estimate_table import EstimateTable
from emosum_tui.ui.widgets.preset_table import PresetTable

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

pytestmark = pytest.mark.anyio



@pytest.fixture
def console_home(home: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The shared `home`, with one token/tokenizer cache shared by this module's tests (keyed by
    content hashes, so sharing is safe) and an empty Hugging Face cache (no machine's models)."""
    shared = tmp_path_factory.getbasetemp() / "ui-presets-cache"
    monkeypatch.setenv("EMOSUM_CACHE", str(shared))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path_factory.getbasetemp() / "empty-hf-cache"))
    return home


def presets_screen(app: EmosumApp) -> PresetsScreen:
    return app.presets_screen


def estimated(app: EmosumApp, *names: str) -> Callable[[], bool]:
    def done() -> bool:
        screen = presets_screen(app)
        wanted = names or tuple(p.name for p in screen.presets)
        return all(screen.preset_figures[n].estimate is not None for n in wanted)

    return done


def plain(widget: Static) -> str:
    """What a Static shows, as text (Rich renders tables and Text alike)."""
    console = Console(width=200, file=io.StringIO(), record=True)
    console.print(widget.content)
    return console.export_text()


def cell(app: EmosumApp, table_type: type, row: str, column: str) -> str:
    table = app.screen.query_one(table_type)
    return str(table.get_cell(row, column))


async def test_first_frame_shows_every_parameter_of_every_preset(console_home: Path) -> None:
    app = EmosumApp(s_per_step=1.0)
    async with app.run_test(size=SIZE) as pilot:
        table = app.screen.query_one(PresetTable)
        names = [str(c.label).replace("▶ ", "").replace(" (base)", "") for c in table.columns.values()]
        assert names == ["parameter", "original", "full", "fast", "demo", "lean"]
        row_keys = set(table.rows)
        assert {key for key, _ in iter_keys()} <= row_keys
        assert cell(app, PresetTable, "train.batch_size", "full") == "2 x2"
        assert cell(app, PresetTable, "train.grad_accum", "full") == "4 -50%"
        assert cell(app, PresetTable, "model.name", "fast") == "google/mt5-small"
        assert cell(app, PresetTable, "train.epochs", "original") == "5"  # the baseline carries no ratio
        await wait_for(pilot, estimated(app))


async def test_number_keys_arrows_and_tab_switch_the_selected_preset(console_home: Path) -> None:
    app = EmosumApp(s_per_step=1.0)
    async with app.run_test(size=SIZE) as pilot:
        screen = presets_screen(app)
        steps = [("3", "fast"), ("right", "demo"), ("right", "lean"), ("right", "original"), ("left", "lean"), ("tab", "original"), ("2", "full"), ("9", "full")]
        for key, expected in steps:
            await pilot.press(key)
            assert screen.current is not None and screen.current.name == expected, key
        description = plain(screen.query_one("#preset-description", Static))
        assert description.startswith("full")
        await wait_for(pilot, estimated(app))


async def test_baseline_key_recomputes_every_ratio(console_home: Path) -> None:
    app = EmosumApp(s_per_step=1.0)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3", "b")
        assert presets_screen(app).baseline == 2
        assert cell(app, PresetTable, "train.batch_size", "original") == "1 -75%"
        assert cell(app, PresetTable, "train.max_source_tokens", "original") == "1024 x8"
        assert cell(app, PresetTable, "train.batch_size", "fast") == "4"
        await wait_for(pilot, estimated(app))


async def test_estimates_fill_in_from_the_cost_model(console_home: Path) -> None:
    from emosum_tui.core import cost_model

    app = EmosumApp(s_per_step=2.0)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, estimated(app))
        expected = cost_model.estimate(load_preset("demo"), s_per_step=2.0)
        assert cell(app, EstimateTable, "optimizer_steps", "demo") == f"{expected.optimizer_steps:,}"
        assert cell(app, EstimateTable, "seconds_per_step", "original") == "2.0 s"
        basis = plain(app.screen.query_one("#estimate-basis", Static))
        assert "s/step" in basis and "given: 2 s/step" in basis


async def test_data_summary_shows_truncation_at_the_selected_preset_lengths(console_home: Path) -> None:
    app = EmosumApp(s_per_step=1.0)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        screen = presets_screen(app)
        await wait_for(pilot, lambda: screen.preset_figures["fast"].tokens is not None)
        text = plain(screen.query_one("#data-summary", Static))
        assert "cut at 128 (target)" in text
        assert "400 of 400" in text  # fast asks for 5,000 rows of a 400-row sample: all are used
        await wait_for(pilot, estimated(app))


async def open_editor_on(pilot: Pilot, app: EmosumApp, key: str) -> EditValueScreen:
    await pilot.press("e")
    await wait_for(pilot, lambda: isinstance(app.screen, EditValueScreen))
    editor = app.screen
    assert isinstance(editor, EditValueScreen)
    keys = editor.query_one(OptionList)
    keys.highlighted = [k for k, _ in iter_keys()].index(key)
    await pilot.press("enter")
    await pilot.pause()
    return editor


async def type_value(pilot: Pilot, editor: EditValueScreen, text: str) -> None:
    field = editor.query_one(Input)
    assert field.has_focus
    field.value = ""
    await pilot.press(*text, "enter")
    await pilot.pause()


async def test_edit_a_value_re_estimates_at_once(console_home: Path) -> None:
    app = EmosumApp(s_per_step=1.0)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, estimated(app))
        before = presets_screen(app).preset_figures["demo"].estimate.estimate.optimizer_steps
        await pilot.press("4")
        editor = await open_editor_on(pilot, app, "train.batch_size")
        assert editor.query_one(Input).value == "8"  # the current value, ready to change
        await type_value(pilot, editor, "16")
        assert isinstance(app.screen, PresetsScreen)
        screen = presets_screen(app)
        assert screen.current is not None and screen.current.name == "demo*"
        assert cell(app, PresetTable, "train.batch_size", "demo*") == "16 x16"
        await wait_for(pilot, estimated(app, "demo*"))
        after = screen.preset_figures["demo*"].estimate.estimate.optimizer_steps
        assert after == pytest.approx(before / 2, abs=1)
        # the file on disk is untouched until "save as new preset"
        assert load_preset("demo")["train.batch_size"] == 8


async def test_edit_rejects_a_bad_value_with_the_loaders_message(console_home: Path) -> None:
    app = EmosumApp(s_per_step=1.0)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        editor = await open_editor_on(pilot, app, "train.batch_size")
        await type_value(pilot, editor, "0")
        assert app.screen is editor  # still open, with the reason
        error = plain(editor.query_one("#edit-error", Static))
        assert "demo (edited)" in error and "train.batch_size" in error and "must be greater than 0" in error
        await type_value(pilot, editor, "lots")
        assert "not a value" in plain(editor.query_one("#edit-error", Static))
        await pilot.press("escape")
        assert isinstance(app.screen, PresetsScreen)
        assert presets_screen(app).changes == {}
        await wait_for(pilot, estimated(app))


async def test_save_as_new_preset_writes_only_the_changes(console_home: Path) -> None:
    app = EmosumApp(s_per_step=1.0)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        editor = await open_editor_on(pilot, app, "train.epochs")
        await type_value(pilot, editor, "3")
        await pilot.press("w")
        await wait_for(pilot, lambda: isinstance(app.screen, SavePresetScreen))
        name_field = app.screen.query_one(Input)
        assert name_field.value == "demo-2"
        # a taken name is refused and the existing file is left alone
        (console_home / "presets" / "mine.toml").write_text('extends = "fast"\n', encoding="utf-8")
        name_field.value = "mine"
        await pilot.press("enter")
        assert "already exists" in plain(app.screen.query_one("#save-error", Static))
        assert (console_home / "presets" / "mine.toml").read_text(encoding="utf-8") == 'extends = "fast"\n'
        name_field.value = "fast"  # a built-in's name would shadow it: refused too
        await pilot.press("enter")
        assert "built-in preset 'fast' already exists" in plain(app.screen.query_one("#save-error", Static))
        assert not (console_home / "presets" / "fast.toml").exists()
        name_field.value = "demo-3ep"
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, PresetsScreen))
        written = console_home / "presets" / "demo-3ep.toml"
        body = tomllib.loads(written.read_text(encoding="utf-8"))
        assert body["extends"] == "demo"
        assert body["train"] == {"epochs": 3}
        assert set(body) == {"extends", "description", "train"}
        screen = presets_screen(app)
        assert screen.current is not None and screen.current.name == "demo-3ep"
        assert screen.changes == {}
        await wait_for(pilot, estimated(app))


async def test_discard_drops_the_edits(console_home: Path) -> None:
    app = EmosumApp(s_per_step=1.0)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        editor = await open_editor_on(pilot, app, "train.learning_rate")
        await type_value(pilot, editor, "3e-4")
        screen = presets_screen(app)
        assert screen.current is not None and screen.current.name == "fast*"
        await pilot.press("s")  # an edited preset is not started: it has no file yet
        assert isinstance(app.screen, PresetsScreen) and app.launched == []
        await pilot.press("d")
        assert screen.current is not None and screen.current.name == "fast"
        assert cell(app, PresetTable, "train.learning_rate", "fast") == "0.0001 x2"
        await wait_for(pilot, estimated(app))


async def test_preset_option_preselects_and_bad_preset_files_are_reported(console_home: Path) -> None:
    (console_home / "presets" / "broken.toml").write_text('extends = "fast"\n[train]\nbatch_size = "four"\n', encoding="utf-8")
    app = EmosumApp(preset="demo", s_per_step=1.0)
    async with app.run_test(size=SIZE) as pilot:
        screen = presets_screen(app)
        assert screen.current is not None and screen.current.name == "demo"
        assert [p.name for p in screen.saved] == ["original", "full", "fast", "demo", "lean"]
        assert any("broken.toml" in n.message and "train.batch_size" in n.message for n in app._notifications)
        await wait_for(pilot, estimated(app))


async def test_command_palette_selects_a_preset(console_home: Path) -> None:
    app = EmosumApp(s_per_step=1.0)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"select preset fast")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, PresetsScreen))
        await pilot.pause()
        screen = presets_screen(app)
        assert screen.current is not None and screen.current.name == "fast"
        await wait_for(pilot, estimated(app))


async def test_the_palette_screenshot_saves_into_the_workspace(console_home: Path, monkeypatch: pytest.MonkeyPatch,
                                                              tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "no-downloads"))  # a user with no Downloads folder
    monkeypatch.delenv("XDG_DOWNLOAD_DIR", raising=False)
    app = EmosumApp(s_per_step=1.0)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"screenshot")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_for(pilot, lambda: any(n.title == "screenshot" for n in app._notifications))
        saved = list((console_home / "screenshots").glob("*.svg"))
        assert len(saved) == 1 and saved[0].read_text(encoding="utf-8").startswith("<svg")
        assert any(str(saved[0]) in n.message for n in app._notifications)


async def test_calibrate_shows_progress_and_c_cancels(console_home: Path) -> None:
    app = EmosumApp(s_per_step=1.0)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4", "c")
        screen = presets_screen(app)
        assert screen.calibrating == "demo"
        assert "calibrating demo" in plain(screen.query_one("#status-line", Static))
        await pilot.pause(0.5)
        await pilot.press("c")
        await wait_for(pilot, lambda: screen.calibrating is None, timeout=30)
        assert "cancelled" in plain(screen.query_one("#status-line", Static))
        await wait_for(pilot, estimated(app))


@pytest.mark.slow
async def test_a_finished_calibration_updates_the_estimate_and_its_basis(console_home: Path) -> None:
    """`c` on demo runs the real probe subprocess (a few micro-batches of the tiny model); when it
    finishes, demo is re-estimated from the measurement and the basis says so."""
    app = EmosumApp()  # nothing pinned: this test is about the measured figure
    async with app.run_test(size=SIZE) as pilot:
        screen = presets_screen(app)
        await pilot.press("4")
        await wait_for(pilot, estimated(app, "demo"))
        assert "calibrated" not in screen.preset_figures["demo"].estimate.estimate.basis["seconds_per_step"]
        await pilot.press("c")
        await wait_for(pilot, lambda: screen.calibrating is None, timeout=240)
        status = plain(screen.query_one("#status-line", Static))
        assert "calibrated demo" in status, status
        await wait_for(pilot, estimated(app, "demo"))
        basis = screen.preset_figures["demo"].estimate.estimate.basis["seconds_per_step"]
        assert basis.startswith("calibrated on"), basis
        assert "calibrated on" in plain(screen.query_one("#estimate-basis", Static))


async def test_chinese_values_keep_the_columns_aligned(console_home: Path) -> None:
    """Widths are measured in terminal cells (Rich), not characters: a CJK value two cells per
    character does not push the next column out of line."""
    from rich.cells import cell_len

    fast = console_home / "presets" / "fast.toml"  # a workspace copy shadows the built-in
    text = (BUILTIN / "presets" / "fast.toml").read_text(encoding="utf-8").replace(
        'description = "Fast plan', 'description = "快速方案 Fast plan'
    ).replace("[data]\n", '[data]\nsource_prefix = "请总结以下对话："\n', 1)
    fast.write_text(text, encoding="utf-8")
    app = EmosumApp(preset="fast", s_per_step=1.0)
    async with app.run_test(size=SIZE) as pilot:
        table = app.screen.query_one(PresetTable)
        assert cell(app, PresetTable, "data.source_prefix", "fast") == "请总结以下对话："
        header = table.render_line(0).text
        row = table.render_line(table.get_row_index("data.source_prefix") + 1).text
        fast_at = cell_len(header[: header.index("▶ fast")])
        demo_at = cell_len(header[: header.index("demo")])
        # fast's value and demo's (inherited) value are whole and start under their headers
        assert cell_len(row[: row.index("请总结以下对话：")]) == fast_at
        assert cell_len(row[: row.rindex("请总结以下对话：")]) == demo_at
        assert "快速方案" in plain(app.screen.query_one("#preset-description", Static))
        await wait_for(pilot, estimated(app))


async def test_no_loadable_preset_says_what_to_do(console_home: Path) -> None:
    for path in (BUILTIN / "presets").glob("*.toml"):  # every built-in shadowed by a broken file
        (console_home / "presets" / path.name).write_text("[train]\nepochs = -1\n", encoding="utf-8")
    app = EmosumApp(s_per_step=1.0)
    async with app.run_test(size=SIZE) as pilot:
        assert "No preset loads" in plain(app.screen.query_one("#preset-description", Static))
        await pilot.press("3", "right", "b", "e", "s", "c", "w", "d")  # nothing to act on: nothing breaks
        assert isinstance(app.screen, PresetsScreen)


async def test_data_summary_of_the_real_evaluation_items(console_home: Path, real_items: Path) -> None:
    """The 150 official items (~9k characters of source each): the fast preset's 128 tokens cut
    every source, and the summary says so."""
    (console_home / "presets" / "real.toml").write_text(
        f'extends = "fast"\ndescription = "fast on the official items"\n[data]\ntrain_file = "{real_items.as_posix()}"\n'
        f'validation_file = "{real_items.as_posix()}"\n',
        encoding="utf-8",
    )
    app = EmosumApp(preset="real", s_per_step=1.0)
    async with app.run_test(size=SIZE) as pilot:
        screen = presets_screen(app)
        await wait_for(pilot, lambda: screen.preset_figures["real"].tokens is not None, timeout=60)
        tokens = screen.preset_figures["real"].tokens
        report, error = tokens.report, tokens.error
        assert error == "" and len(report.train.source) == 150
        text = plain(screen.query_one("#data-summary", Static))
        assert "150 of 150" in text
        assert report.source_truncation.rows_cut > 0.95  # ~9k-character sources do not fit 128 tokens
        shown = f"{report.source_truncation.rows_cut * 100:.0f}% of rows"
        assert re.search(r"cut at 128 \(source\)\s+" + shown, text), text
        await wait_for(pilot, estimated(app), timeout=60)
        assert cell(app, EstimateTable, "optimizer_steps", "real") == "19"  # ceil(ceil(150/4)/2) x 1 epoch


async def test_f_moves_scrolling_between_the_table_and_the_side_panel(console_home: Path) -> None:
    app = EmosumApp(s_per_step=1.0)
    async with app.run_test(size=(160, 30)) as pilot:  # short: both parts need scrolling
        await wait_for(pilot, estimated(app))
        table = app.screen.query_one(PresetTable)
        side = app.screen.query_one("#presets-side")
        assert table.has_focus
        await pilot.press("pagedown")
        assert table.scroll_offset.y > 0 and side.scroll_offset.y == 0
        await pilot.press("f", "pagedown")
        assert side.has_focus and side.scroll_offset.y > 0
        await pilot.press("right")  # the preset keys still work from the side panel
        assert presets_screen(app).selected == 1
        await pilot.press("f")
        assert table.has_focus


async def test_a_preset_file_outside_presets_folder_gets_its_own_column(console_home: Path, tmp_path: Path) -> None:
    mine = tmp_path / "elsewhere" / "my-fast.toml"
    mine.parent.mkdir()
    mine.write_text('extends = "fast"\ndescription = "my fast"\n[train]\nepochs = 2\n', encoding="utf-8")
    app = EmosumApp(preset=str(mine), s_per_step=1.0)
    async with app.run_test(size=SIZE) as pilot:
        screen = presets_screen(app)
        assert [p.name for p in screen.saved] == ["original", "full", "fast", "demo", "lean", "my-fast"]
        assert screen.current is not None and screen.current.name == "my-fast"
        assert cell(app, PresetTable, "train.epochs", "my-fast") == "2 -60%"
        await wait_for(pilot, estimated(app))
        assert screen.preset_figures["my-fast"].estimate.estimate.optimizer_steps == 2 * screen.preset_figures["fast"].estimate.estimate.optimizer_steps


async def test_the_selected_column_scrolls_into_view_when_presets_do_not_fit(console_home: Path) -> None:
    for number in range(3):
        (console_home / "presets" / f"wide-{number}.toml").write_text(
            f'extends = "demo"\ndescription = "wide {number}"\n[data]\nsource_prefix = "a long prefix number {number}"\n', encoding="utf-8"
        )
    app = EmosumApp(s_per_step=1.0)
    async with app.run_test(size=SIZE) as pilot:
        table = app.screen.query_one(PresetTable)
        assert table.virtual_size.width > table.size.width  # eight presets do not fit
        assert table.scroll_x == 0
        await pilot.press("8")
        await pilot.pause(0.2)
        assert table.scroll_x > 0
        header = table.render_line(0).text
        assert header.lstrip().startswith("parameter")  # the label column stays
        assert "▶ wide-2" in header
        await pilot.press("1")
        await pilot.pause(0.2)
        assert table.scroll_x == 0
        await wait_for(pilot, estimated(app), timeout=60)


async def test_a_missing_data_file_is_named_where_its_figures_would_be(console_home: Path) -> None:
    (console_home / "presets" / "nofile.toml").write_text(
        'extends = "fast"\ndescription = "points at a file that is not there"\n[data]\ntrain_file = "data/train/missing.jsonl"\n',
        encoding="utf-8",
    )
    app = EmosumApp(preset="nofile", s_per_step=1.0)
    async with app.run_test(size=SIZE) as pilot:
        screen = presets_screen(app)
        await wait_for(pilot, lambda: screen.preset_figures["nofile"].tokens is not None and screen.preset_figures["nofile"].estimate is not None)
        summary = screen.query_one("#data-summary", Static)
        assert "missing.jsonl" in plain(summary) and summary.has_class("error")
        assert "missing.jsonl" in screen.preset_figures["nofile"].estimate.error
        assert cell(app, EstimateTable, "params", "nofile") == "error"
        assert "missing.jsonl" in plain(screen.query_one("#estimate-basis", Static))
        assert cell(app, EstimateTable, "params", "fast") == "300.2 M"  # the other presets are still priced
        await wait_for(pilot, estimated(app))
