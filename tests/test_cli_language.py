"""The command line in the user's language: `--lang`, then EMOSUM_LANG, then the system's; every
command's help, report and error in Chinese when asked, and English exactly as before otherwise.

The commands run as a user runs them, `python -m emosum_tui ...` in a subprocess, on a private
workspace (the `home` fixture).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.cells import cell_len
from support.project import CHECKOUT

from emosum_tui import i18n
from emosum_tui.cli import main, take_language_option
from emosum_tui.commands.translated_argparse import translate_error
from emosum_tui.i18n import LanguageError, choose_language

CJK = re.compile(r"[\u4e00-\u9fff]")
LOCALE_VARIABLES = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")


def run_cli(*args: str, lang: str | None = "en", timeout: float = 300, **env: str) -> subprocess.CompletedProcess[str]:
    """`emosum-tui ARGS` with EMOSUM_LANG = `lang` (None: unset) and the system locale variables
    cleared unless given in `env`; UTF-8 pipes unless PYTHONIOENCODING is given."""
    environment = {k: v for k, v in os.environ.items() if k not in (*LOCALE_VARIABLES, "EMOSUM_LANG")}
    environment.update(PYTHONIOENCODING="utf-8", COLUMNS="100")
    if lang is not None:
        environment["EMOSUM_LANG"] = lang
    environment.update(env)
    return subprocess.run([sys.executable, "-m", "emosum_tui", *args], cwd=CHECKOUT, env=environment,
                          capture_output=True, text=True, encoding="utf-8", timeout=timeout)


@pytest.fixture
def english_after() -> Iterator[None]:
    yield
    i18n.set_language("en")


def test_presets_list_in_chinese(home: Path) -> None:
    result = run_cli("presets", lang="zh_CN")
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if line.startswith("fast "))
    assert "google/mt5-small" in line and "1 轮" in line and "批大小 4x2" in line and "[内置]" in line
    assert "（继承 full）" in line  # preset names stay English inside the Chinese sentence


def test_presets_show_marks_each_origin_in_chinese(home: Path) -> None:
    result = run_cli("presets", "show", "lean", lang="zh_CN")
    assert result.returncode == 0, result.stderr
    assert "# 继承链：original -> full -> fast -> lean" in result.stdout
    assert re.search(r'^trim_vocabulary = true +# 已修改（fast 中为 false）$', result.stdout, re.M)


def test_data_check_report_in_chinese(home: Path) -> None:
    result = run_cli("data", "check", lang="zh_CN")
    assert result.returncode == 0, result.stderr
    assert re.search(r"Emotion_Summary\.jsonl：[\d,]+ 条正常，0 条有问题", result.stdout)
    assert re.search(r"^  源文本字符数   p50 +[\d,]+  p90", result.stdout, re.M)  # the label's column kept, in cells
    assert "（加 --preset NAME 可查看子采样视图" in result.stdout


def test_data_check_json_stays_english_in_chinese(home: Path) -> None:
    result = run_cli("data", "check", "--json", lang="zh_CN")
    assert result.returncode == 0, result.stderr
    assert '"good_rows"' in result.stdout and '"files"' in result.stdout


def test_doctor_report_in_chinese(home: Path) -> None:
    result = run_cli("doctor", "--preset", "demo", lang="zh_CN")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("本机\n")
    assert "\n预设 demo\n" in result.stdout
    assert re.search(r"^      依据：", result.stdout, re.M)
    assert re.search(r"^  . (正常|信息|警告|错误) {3}", result.stdout, re.M)  # 4 cells padded to 7


def test_help_in_chinese_including_argparse_own_words() -> None:
    result = run_cli("--help", lang="zh_CN")
    assert result.returncode == 0, result.stderr
    text = result.stdout
    for heading in ("用法：emosum-tui ", "\n位置参数：\n", "\n选项：\n", "\n示例：\n", "\n退出状态：\n", "\n环境变量：\n"):
        assert heading in text, heading
    assert "显示此帮助信息并退出" in text and "显示程序版本号并退出" in text
    assert "  emosum-tui --preset demo --start     # 打开控制台，立即训练离线演示" in text  # the command kept
    assert "  EMOSUM_LANG       界面语言" in text
    for english in ("usage:", "positional arguments", "options:", "show this help", "examples:", "exit status:"):
        assert english not in text, english


def test_a_wrapped_chinese_usage_lines_up_in_cells() -> None:
    lines = run_cli("train", "--help", lang="zh_CN").stdout.splitlines()
    assert lines[0].startswith("用法：emosum-tui train [-h]")
    indent = cell_len("用法：emosum-tui train ")
    assert lines[1].startswith(" " * indent + "[") and not lines[1].startswith(" " * (indent + 1))
    assert "多节点（传给 torchrun；在每个节点上运行相同的命令）：" in lines  # a group's title, "：" for ":"


def test_argparse_errors_in_chinese() -> None:
    missing = run_cli("train", lang="zh_CN")
    assert missing.returncode == 2
    assert missing.stderr.startswith("用法：emosum-tui train")
    assert "emosum-tui train：错误：缺少必需的参数：preset" in missing.stderr
    choice = run_cli("bogus", lang="zh_CN")
    assert choice.returncode == 2
    assert "错误：参数 COMMAND：无效的选择：'bogus'（可选：" in choice.stderr


def test_lang_option_wins_over_emosum_lang(home: Path) -> None:
    before = run_cli("--lang", "zh_CN", "presets", lang="en")
    after = run_cli("presets", "--lang=zh_CN", lang="en")  # after the command too
    for result in (before, after):
        assert result.returncode == 0, result.stderr
        assert "[内置]" in result.stdout and "[built-in]" not in result.stdout
    assert "[built-in]" in run_cli("--lang", "en", "presets", lang="zh_CN").stdout


def test_an_unknown_lang_exits_2_naming_the_value_and_the_choices() -> None:
    result = run_cli("--lang", "fr", "presets", lang="en")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == "emosum-tui: error: --lang fr: no interface in this language; choose one of en, zh_CN\n"
    chinese = run_cli("--lang=fr", lang="zh_CN")  # said in the language chosen without it
    assert chinese.returncode == 2 and "--lang fr：没有该语言的界面" in chinese.stderr
    empty = run_cli("presets", "--lang", lang="en")
    assert empty.returncode == 2 and "--lang needs a value: one of en, zh_CN" in empty.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="Windows asks its display language, not LANG")
def test_the_system_language_decides_without_emosum_lang(home: Path) -> None:
    chinese = run_cli("presets", lang=None, LANG="zh_CN.UTF-8")
    assert chinese.returncode == 0, chinese.stderr
    assert "[内置]" in chinese.stdout
    ascii_pipe = run_cli("presets", lang=None, LANG="zh_CN.UTF-8", PYTHONIOENCODING="ascii")
    assert "[built-in]" in ascii_pipe.stdout and not CJK.search(ascii_pipe.stdout)  # no "????" for Chinese
    assert "[built-in]" in run_cli("presets", lang=None, LANG="en_US.UTF-8").stdout


def test_english_is_unchanged(home: Path) -> None:
    helped = run_cli("--help", lang="en")
    assert helped.stdout.startswith("usage: emosum-tui [-h]") and "\noptions:\n" in helped.stdout
    assert "\nexamples:\n  emosum-tui --preset demo --start     # the console, training the offline demo at once\n" in helped.stdout
    assert "  -h, --help       show this help message and exit\n" in helped.stdout
    listed = run_cli("presets", lang="en")
    fast = next(line for line in listed.stdout.splitlines() if line.startswith("fast "))
    assert fast == "fast      google/mt5-small, rows 5000, 1 ep, batch 4x2, 128/128 tok (extends full) [built-in]"
    checked = run_cli("data", "check", lang="en")
    assert re.search(r"^  source chars   p50 +[\d,]+  p90 +[\d,]+  p99 +[\d,]+  max +[\d,]+$", checked.stdout, re.M)
    missing = run_cli("train", lang="en")
    assert missing.stderr.endswith("emosum-tui train: error: the following arguments are required: preset\n")
    for result in (helped, listed, checked, missing):
        assert not CJK.search(result.stdout + result.stderr)


def test_choose_language_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    from emosum_tui.i18n import system_language

    monkeypatch.setattr(system_language, "_windows_ui_language", lambda: None)  # the variables decide, on any OS
    for name in (*LOCALE_VARIABLES, "EMOSUM_LANG"):
        monkeypatch.delenv(name, raising=False)
    assert choose_language() == "en"  # nothing says anything: English
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    assert choose_language() == "zh_CN"  # the system's language
    assert choose_language(None, "ascii") == "en"  # ... unless the stream cannot print it
    monkeypatch.setenv("LANGUAGE", "en_GB:zh_CN")
    assert choose_language() == "en"  # LANGUAGE comes before LANG
    monkeypatch.setenv("EMOSUM_LANG", "zh-CN")
    assert choose_language(None, "ascii") == "zh_CN"  # asked for by name: kept even on an ASCII stream
    assert choose_language("en") == "en"  # --lang wins over everything
    monkeypatch.setenv("EMOSUM_LANG", "klingon")
    monkeypatch.setenv("LANGUAGE", "zh_TW")
    assert choose_language() == "zh_CN"  # a bad EMOSUM_LANG falls through to the system's
    with pytest.raises(LanguageError):
        choose_language("fr")  # a bad --lang does not


def test_take_language_option_anywhere_before_double_dash() -> None:
    assert take_language_option(["--lang", "zh_CN", "presets"]) == ("zh_CN", ["presets"])
    assert take_language_option(["presets", "show", "fast", "--lang=en"]) == ("en", ["presets", "show", "fast"])
    assert take_language_option(["presets", "--lang"]) == ("", ["presets"])
    assert take_language_option(["generate", "m", "--", "--lang", "x"]) == (None, ["generate", "m", "--", "--lang", "x"])


def test_argparse_messages_are_reworded_only_when_known(english_after: None) -> None:
    i18n.set_language("zh_CN")
    assert translate_error("argument --limit: invalid int value: 'x'") == "参数 --limit：无效的 int 值：'x'"
    assert translate_error("the following arguments are required: preset") == "缺少必需的参数：preset"
    assert translate_error("something argparse never said") == "something argparse never said"
    i18n.set_language("en")
    assert translate_error("argument --limit: invalid int value: 'x'") == "argument --limit: invalid int value: 'x'"


def test_the_console_starts_in_the_chosen_language(monkeypatch: pytest.MonkeyPatch, english_after: None) -> None:
    from emosum_tui.commands import console_cmd

    seen: list[str] = []
    monkeypatch.setenv("EMOSUM_LANG", "en")
    monkeypatch.setattr(console_cmd, "run", lambda args: seen.append(i18n.language()) or 0)
    assert main(["--lang", "zh_CN"]) == 0
    assert seen == ["zh_CN"] and os.environ["EMOSUM_LANG"] == "zh_CN"  # the trainer it starts inherits it
