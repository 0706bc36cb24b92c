"""The translation machinery: the .po reader, language names, and a complete zh_CN catalog.

`test_every_marked_message_has_a_chinese_translation` is the gate for new text: a string marked
with `_`/`N_`/`ngettext` anywhere in the package that the zh_CN catalog lacks (or whose
translation drops or renames a `{placeholder}`) fails it, naming the file and line.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from support.catalog import CATALOG, PACKAGE, marked_messages, problems

from emosum_tui import i18n
from emosum_tui.i18n.po_file import PoSyntaxError, read_po


def test_every_marked_message_has_a_chinese_translation() -> None:
    found = problems([PACKAGE], [CATALOG])
    assert not found, "\n".join(found)


def test_the_package_marks_hundreds_of_messages_and_the_catalog_holds_them() -> None:
    marked = {(m.context, m.msgid) for m in marked_messages([PACKAGE])}
    catalog = read_po(CATALOG)
    assert len(marked) > 300
    assert marked <= set(catalog.singular) | set(catalog.plural)


def test_the_catalog_has_no_stale_entries() -> None:
    """An entry no source marks any more is dead weight a translator would keep updating."""
    marked = {(m.context, m.msgid) for m in marked_messages([PACKAGE])}
    catalog = read_po(CATALOG)
    stale = (set(catalog.singular) | set(catalog.plural)) - marked
    assert not stale, sorted(stale)[:20]


def test_the_reader_reads_the_shipped_catalog_as_babel_does() -> None:
    """The start-up reader and the reference implementation agree on every entry."""
    from babel.messages.pofile import read_po as babel_read_po

    with CATALOG.open("rb") as file:
        reference = babel_read_po(file)
    ours = read_po(CATALOG)
    expected_singular = {(m.context, m.id): m.string for m in reference if m.id and isinstance(m.id, str) and m.string}
    expected_plural = {(m.context, m.id[0]): list(m.string) for m in reference if isinstance(m.id, tuple)}
    assert ours.singular == expected_singular
    assert ours.plural == expected_plural


def test_the_reader_takes_contexts_plurals_continuations_and_skips_fuzzy(tmp_path: Path) -> None:
    po = tmp_path / "t.po"
    po.write_text(
        'msgid ""\nmsgstr "Language: zh_CN\\n"\n\n'
        '#: a.py:1\nmsgid "stop (checkpoint, exit)"\nmsgstr "停止（保存检查点后退出）"\n\n'
        '#, fuzzy\nmsgid "kill"\nmsgstr "强制结束"\n\n'
        'msgctxt "rows"\nmsgid "all"\nmsgstr "全部"\n\n'
        'msgid "{n} row"\nmsgid_plural "{n} rows"\nmsgstr[0] "{n} 条"\n\n'
        'msgid ""\n"two "\n"lines"\nmsgstr ""\n"两"\n"行\\n"\n\n'
        'msgid "untranslated"\nmsgstr ""\n',
        encoding="utf-8",
    )
    catalog = read_po(po)
    assert catalog.singular == {
        (None, "stop (checkpoint, exit)"): "停止（保存检查点后退出）",
        ("rows", "all"): "全部",
        (None, "two lines"): "两行\n",
    }
    assert catalog.plural == {(None, "{n} row"): ["{n} 条"]}


def test_a_broken_line_is_named_with_its_file_and_line(tmp_path: Path) -> None:
    po = tmp_path / "broken.po"
    po.write_text('msgid "a"\nmsgstr "甲"\n\nmsgid "b\nmsgstr "乙"\n', encoding="utf-8")
    with pytest.raises(PoSyntaxError, match=r"broken\.po:4"):
        read_po(po)


@pytest.mark.parametrize(
    ("name", "expected"),
    [("zh_CN", "zh_CN"), ("zh-CN", "zh_CN"), ("zh_CN.UTF-8", "zh_CN"), ("zh", "zh_CN"), ("zh_TW", "zh_CN"),
     ("en", "en"), ("en_US.UTF-8", "en"), ("C", "en"), ("POSIX", "en"), ("C.UTF-8", "en")],
)
def test_language_names_are_read_as_people_and_systems_write_them(name: str, expected: str) -> None:
    assert i18n.normalise(name) == expected


def test_an_unknown_language_is_refused_naming_it_and_the_choices() -> None:
    with pytest.raises(i18n.LanguageError, match=r"'fr'.*en, zh_CN"):
        i18n.normalise("fr")


def test_chinese_is_translated_plurals_collapse_and_english_is_the_source(chinese: None) -> None:
    assert i18n._("quit") == "退出"
    assert i18n.ngettext("{n} error", "{n} errors", 1) == i18n.ngettext("{n} error", "{n} errors", 5) == "{n} 个错误"
    assert i18n._("a sentence nobody marked") == "a sentence nobody marked"  # untranslated: English, not a crash
    i18n.set_language("en")
    assert i18n._("quit") == "quit"


def test_the_system_language_is_dropped_when_the_console_cannot_print_chinese(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EMOSUM_LANG", raising=False)
    for variable in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    assert i18n.choose_language(stream_encoding="utf-8") == "zh_CN"
    assert i18n.choose_language(stream_encoding="gbk") == "zh_CN"  # a Chinese Windows console
    assert i18n.choose_language(stream_encoding="ascii") == "en"
    assert i18n.choose_language("zh_CN", stream_encoding="ascii") == "zh_CN"  # asked for: the user's call
