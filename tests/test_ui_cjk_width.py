"""Chinese labels line up: the console pads and cuts text by terminal cells, not characters.

A Chinese character takes two cells, so `str.ljust` and `len` would leave a Chinese label half
a column too wide. These tests use the real helpers with the real Chinese strings of the
catalog, and read the width the terminal will give them.
"""

from __future__ import annotations

from rich.cells import cell_len

from emosum_tui import i18n
from emosum_tui.monitor.step_clock import ClockReading
from emosum_tui.ui.format import fit_cells, pad_cells
from emosum_tui.ui.widgets.series_plot import Series, chart
from emosum_tui.ui.widgets.step_panel import LABEL_WIDTH, step_text


def test_a_chinese_label_is_padded_to_its_width_in_cells() -> None:
    label = "上一步/中位数"  # 7 characters, 13 cells
    assert len(label.ljust(LABEL_WIDTH)) == LABEL_WIDTH and cell_len(label.ljust(LABEL_WIDTH)) == 21  # what ljust got wrong
    padded = pad_cells(label, LABEL_WIDTH)
    assert padded == label + "  " and cell_len(padded) == LABEL_WIDTH
    assert pad_cells("a much longer label than fits", 10) == "a much longer label than fits"  # padded, never cut


def test_a_chinese_cell_is_cut_by_cells_with_an_ellipsis_and_never_halves_a_character() -> None:
    assert fit_cells("分词器自带", 10) == "分词器自带" and fit_cells("全部", 8) == "全部    "
    cut = fit_cells("分词器自带", 6)  # the 5-cell room before the ellipsis would split 器
    assert cell_len(cut) == 6 and cut.endswith("…") and cut.startswith("分词")
    assert fit_cells("demo", 6) == "demo  " and fit_cells("original", 6) == "origi…"  # English as before


def test_the_step_panel_labels_form_a_column_in_chinese(chinese: None) -> None:
    reading = ClockReading(state="running", phase="training", step=41, total_steps=100, step_running=True,
                           running_seconds=2.5, expected_seconds=1.0, expected_basis="median", slow_after=3.0, stalled_after=5.0,
                           last_seconds=1.2, median_seconds=1.1, measured_steps=40, samples_per_second=3.3, tokens_per_second=800.0,
                           elapsed_seconds=50.0, eta_seconds=65.0, estimate_seconds=1.0, silent_seconds=0.1,
                           message="running: step 41", estimate_kind="calibrated")
    lines = step_text(reading).split("\n")
    labels = [line.removeprefix("[dim]").split("[/dim]", 1)[0] for line in lines]
    assert "上一步/中位数" in [label.strip() for label in labels] and "本步" in [label.strip() for label in labels]
    assert all(cell_len(label) == LABEL_WIDTH for label in labels), labels  # every value starts in the same cell


def test_a_chinese_plot_title_and_legend_keep_every_row_at_the_plot_width(chinese: None) -> None:
    rows = chart([Series("训练", [1.0, 2.0, 3.0], [3.0, 2.0, 1.0], "cyan", "braille"),
                  Series("评估", [2.0], [2.5], "dark_orange", "dot")], width=40, height=12,
                 title=i18n.gettext("{title}: no points yet").format(title="loss"), xlabel=i18n.gettext("step"))
    text = ["".join(char for char, _colour in row) for row in rows]
    assert all(cell_len(line) == 40 for line in text), [cell_len(line) for line in text]
    assert text[0].strip() == "loss：暂无数据点" and text[-1].strip() == "步"
    assert text[1].rstrip().endswith("─ 训练") and text[2].rstrip().endswith("• 评估")
