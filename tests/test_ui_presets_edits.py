"""Editing presets from the console and the figures it prints: parse, validate like a file, save safely."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from emosum_tui.core.presets import PresetError, load_preset
from emosum_tui.ui.format import (
    change_text,
    human_bytes,
    human_count,
    human_duration,
    percent,
    ratio_text,
    speedup_text,
    value_text,
)
from emosum_tui.ui.preset_edits import apply_changes, check_new_name, parse_value, save_new_preset

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


@pytest.mark.parametrize(
    ("base", "other", "text"),
    [(1, 2, "x2"), (8, 4, "-50%"), (1024, 128, "-87.5%"), (5e-5, 1e-4, "x2"), (4, 5, "x1.25"), (3, 3, "="), (0, 40, ""), (40, 0, ""),
     (True, False, ""), ("adamw", "adafactor", "")],
)
def test_change_reads_as_people_say_it(base: object, other: object, text: str) -> None:
    assert change_text(base, other) == text


def test_human_figures() -> None:
    assert human_bytes(3_620_000_000) == "3.62 GB"
    assert human_bytes(582) == "582 B"
    assert human_bytes(None) == "?"
    assert human_duration(145 * 3600) == "145 h"
    assert human_duration(2 * 3600 + 5 * 60) == "2 h 05"
    assert human_duration(45 * 60) == "45 min"
    assert human_duration(0.107) == "0.11 s"
    assert human_duration(6e-9) == "<0.01 s"
    assert human_duration(30 * 24 * 3600) == "30.0 days"
    assert human_count(4945) == "4,945"
    assert human_count(300_176_768) == "300.2 M"
    assert speedup_text(0.25) == "4x faster" and speedup_text(3.0) == "3x slower" and speedup_text(1.0) == "same"
    assert ratio_text(0.6) == "-40%"
    assert percent(0.004) == "0.4%" and percent(0.42) == "42%"
    assert value_text({"d_model": 64}) == "d_model=64"
    assert value_text(["a", "b"]) == "a, b"
    assert value_text(16485) == "16,485"


def test_parse_value_reads_toml_and_bare_text() -> None:
    assert parse_value("train.batch_size", "16") == 16
    assert parse_value("train.learning_rate", "1e-4") == pytest.approx(1e-4)
    assert parse_value("eval.predict_with_generate", "true") is True
    assert parse_value("data.source_fields", '["a", "b"]') == ["a", "b"]
    assert parse_value("model.name", "google/mt5-small") == "google/mt5-small"
    assert parse_value("model.name", "123") == "123"  # a text field keeps digits as text
    assert parse_value("data.source_prefix", '"summarize: "') == "summarize: "
    with pytest.raises(PresetError, match=r"key 'train.batch_size' = 'four': not a value"):
        parse_value("train.batch_size", "four")


def test_apply_changes_checks_like_a_file_and_names_the_edit(home: Path) -> None:
    fast = load_preset("fast")
    edited = apply_changes(fast, {"train.batch_size": 8})
    assert edited.name == "fast*" and edited.parent is fast
    assert edited["train.batch_size"] == 8 and edited["train.grad_accum"] == 2
    assert edited.changed_from_parent() == {"train.batch_size": (4, 8)}
    with pytest.raises(PresetError) as error:
        apply_changes(fast, {"train.optimizer": "adafactor"})
    message = str(error.value)
    assert message.startswith("fast (edited): key 'train.grad_clip'") and "adafactor" in message
    with pytest.raises(PresetError, match="must be one of adamw, adafactor"):
        apply_changes(fast, {"train.optimizer": "sgd"})
    assert apply_changes(fast, {}) is fast


def test_save_new_preset_writes_only_the_changes_and_never_overwrites(home: Path) -> None:
    demo = load_preset("demo")
    path = save_new_preset(demo, {"train.epochs": 3, "eval.predict_with_generate": True}, "demo-gen")
    assert path == home / "presets" / "demo-gen.toml"
    body = tomllib.loads(path.read_text(encoding="utf-8"))
    assert body["extends"] == "demo"
    assert body["train"] == {"epochs": 3} and body["eval"] == {"predict_with_generate": True}
    saved = load_preset("demo-gen")
    assert saved.parent is not None and saved.parent.name == "demo"
    assert saved.changed_from_parent() == {"train.epochs": (2, 3), "eval.predict_with_generate": (False, True)}

    before = path.read_bytes()
    with pytest.raises(PresetError, match="already exists"):
        save_new_preset(demo, {"train.epochs": 4}, "demo-gen")
    assert path.read_bytes() == before
    with pytest.raises(PresetError, match="built-in preset 'fast' already exists"):  # it would shadow the built-in
        save_new_preset(demo, {"train.epochs": 4}, "fast")
    assert not (home / "presets" / "fast.toml").exists()
    assert "use letters" in (check_new_name("my preset") or "")
    assert "use letters" in (check_new_name("../escape") or "")


def test_save_new_preset_removes_a_file_that_would_not_load(home: Path) -> None:
    demo = load_preset("demo")
    with pytest.raises(PresetError):
        save_new_preset(demo, {"train.batch_size": 0}, "broken-batch")
    assert not (home / "presets" / "broken-batch.toml").exists()


def test_edit_a_preset_that_lives_outside_presets_folder(home: Path, tmp_path: Path) -> None:
    mine = tmp_path / "mine" / "my-demo.toml"
    mine.parent.mkdir()
    mine.write_text('extends = "demo"\n[train]\nepochs = 3\n', encoding="utf-8")
    base = load_preset(mine)
    edited = apply_changes(base, {"train.batch_size": 4})
    assert edited.name == "my-demo*" and edited["train.epochs"] == 3 and edited["train.batch_size"] == 4
    saved = save_new_preset(base, {"train.batch_size": 4}, "my-demo-b4")
    reloaded = load_preset("my-demo-b4")
    assert saved.parent == home / "presets"
    assert reloaded.parent is not None and reloaded.parent.path == mine.resolve()
    assert reloaded["train.epochs"] == 3 and reloaded["train.batch_size"] == 4
