"""Presets load strictly, extend one another visibly, and encode DESIGN.md's facts."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.project import BUILTIN

from emosum_tui.cli import main
from emosum_tui.core.presets import PresetError, derived_preset_text, load_all, load_preset


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_bundled_presets_hold_the_design_facts(home: Path) -> None:
    presets, errors = load_all()
    assert errors == []
    by_name = {p.name: p for p in presets}
    assert list(by_name) == ["original", "full", "fast", "demo", "lean"]
    original, full, fast = by_name["original"], by_name["full"], by_name["fast"]
    assert original["model.name"] == "google/mt5-base"
    assert (original["train.epochs"], original["train.batch_size"], original["train.grad_accum"]) == (5, 1, 8)
    assert (original["train.max_source_tokens"], original["train.max_target_tokens"]) == (1024, 512)
    assert original["eval.predict_with_generate"] and original["eval.steps"] == 1000
    assert (original["save.logging_steps"], original["save.steps"], original["save.checkpoints_kept"]) == (10, 500, 2)
    assert full["data.train_fraction"] == 0.8 and full.effective_batch == 8
    assert (full["train.epochs"], full["train.warmup_steps"], full["save.checkpoints_kept"]) == (3, 200, 1)
    assert fast["model.name"] == "google/mt5-small" and fast["data.train_samples"] == 5000
    assert (fast["train.batch_size"], fast["train.grad_accum"], fast["train.max_target_tokens"]) == (4, 2, 128)
    assert fast["train.learning_rate"] == pytest.approx(1e-4) and not fast["eval.predict_with_generate"]
    assert by_name["demo"].builds_model_from_config
    lean = by_name["lean"]
    assert lean["model.trim_vocabulary"] and not fast["model.trim_vocabulary"]
    assert (lean["train.max_source_tokens"], lean["train.max_target_tokens"], lean["data.train_samples"]) == (256, 512, 0)


def test_derived_preset_marks_what_it_changes(home: Path) -> None:
    full = load_preset("full")
    assert full.parent is not None and full.parent.name == "original"
    changed = full.changed_from_parent()
    assert changed["train.batch_size"] == (1, 2)
    assert "model.name" not in changed
    assert full.origin["model.name"].name == "original.toml"
    assert full.origin["train.batch_size"].name == "full.toml"


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ("[train]\nbatchsize = 2\n", "unknown key 'train.batchsize'"),
        ("[trian]\nbatch_size = 2\n", "unknown key 'trian'"),
        ('[train]\nbatch_size = "2"\n', "key 'train.batch_size' = '2': must be an integer"),
        ("[train]\nbatch_size = 0\n", "key 'train.batch_size' = 0: must be greater than 0"),
        ("[data]\ntrain_fraction = 1.5\n", "key 'data.train_fraction' = 1.5: must be a fraction"),
        ('[train]\noptimizer = "sgd"\n', "key 'train.optimizer' = 'sgd': must be one of adamw, adafactor"),
        ("[eval]\npredict_with_generate = 1\n", "key 'eval.predict_with_generate' = 1: must be true or false"),
        ('[train]\noptimizer = "adafactor"\n', "key 'train.grad_clip' = 1.0"),
        ("[model]\nconfig = { d_model = 8 }\n", "key 'model.config'"),
        ("[train\n", "not valid TOML"),
        ('extends = "nope"\n', "no preset named 'nope'"),
    ],
)
def test_bad_preset_names_file_key_and_value(home: Path, body: str, needle: str) -> None:
    path = write(home / "presets" / "bad.toml", body)
    with pytest.raises(PresetError) as caught:
        load_preset(path)
    message = str(caught.value)
    assert str(path) in message
    assert needle in message
    assert "\n" not in message.strip()


def test_extends_cycle_is_an_error(home: Path) -> None:
    write(home / "presets" / "a.toml", 'extends = "b"\n')
    write(home / "presets" / "b.toml", 'extends = "a"\n')
    with pytest.raises(PresetError, match="cycle"):
        load_preset("a")


def test_preset_by_path_outside_presets_dir(home: Path, tmp_path: Path) -> None:
    path = write(tmp_path / "mine.toml", f'extends = "{(BUILTIN / "presets" / "fast.toml").as_posix()}"\n[train]\nbatch_size = 16\n')
    preset = load_preset(str(path))
    assert preset.name == "mine" and preset["train.batch_size"] == 16
    assert preset["model.name"] == "google/mt5-small"


def test_a_broken_user_preset_does_not_hide_the_others(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(home / "presets" / "zz-broken.toml", "[train]\nepochs = -1\n")
    presets, errors = load_all()
    assert len(presets) == 5 and len(errors) == 1
    assert main(["presets"]) == 1
    captured = capsys.readouterr()
    assert "fast" in captured.out and "zz-broken.toml: key 'train.epochs' = -1" in captured.err


def test_presets_show_marks_inherited_and_changed(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["presets", "show", "full"]) == 0
    out = capsys.readouterr().out
    assert "chain: original -> full" in out
    line = next(line for line in out.splitlines() if line.startswith("batch_size"))
    assert "changed (was 1 in original)" in line
    line = next(line for line in out.splitlines() if line.startswith("name ="))
    assert "inherited from original" in line


def test_save_as_new_preset_round_trips(home: Path) -> None:
    fast = load_preset("fast")
    text = derived_preset_text(fast, {"train.batch_size": 8, "train.grad_accum": 1}, "fast, bigger batch")
    path = write(home / "presets" / "fast-b8.toml", text)
    derived = load_preset(path)
    assert derived.changed_from_parent() == {"train.batch_size": (4, 8), "train.grad_accum": (2, 1)}
    assert derived.description == "fast, bigger batch"
