"""The workspace: built-in presets from the package, shadowed or extended by the user's own,
data read from the workspace else the bundled sample, `init`, `--workspace`, `--version` and
what every command's `--help` says."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from support.project import BUILTIN, SAMPLE_DATA

from emosum_tui.cli import build_parser, main
from emosum_tui.core.paths import cache_dir, workspace
from emosum_tui.core.presets import load_all, load_preset
from emosum_tui.core.rundir import preset_as_run
from emosum_tui.core.sample_notice import sample_notice

BUILTIN_NAMES = {"original", "full", "fast", "lean", "demo"}


@pytest.fixture
def empty(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty folder as the workspace (the current folder, no variables), a private cache."""
    folder = tmp_path / "empty"
    folder.mkdir()
    for name in ("EMOSUM_HOME", "EMOSUM_WORKSPACE"):
        monkeypatch.setenv(name, "")  # empty = unset; restored after, also when --workspace sets it
    monkeypatch.setenv("EMOSUM_CACHE", str(tmp_path / "cache"))
    monkeypatch.chdir(folder)
    return folder


def test_an_empty_folder_has_every_builtin_reading_the_sample(empty: Path, capsys: pytest.CaptureFixture[str]) -> None:
    presets, errors = load_all()
    assert errors == [] and {p.name for p in presets} == BUILTIN_NAMES
    demo = load_preset("demo")
    assert demo.train_file == SAMPLE_DATA / "train" / "Emotion_Summary.jsonl"
    assert demo.output_dir == empty / "model" / "demo"
    assert "reading the bundled sample" in (sample_notice([demo]) or "")
    assert str(empty / "data" / "train" / "Emotion_Summary.jsonl") in (sample_notice([demo]) or "")
    # the run's own preset.toml names the sample's file, so the trainer finds it from any folder
    assert f'train_file = "{(SAMPLE_DATA / "train" / "Emotion_Summary.jsonl").as_posix()}"' in preset_as_run(demo)
    assert main(["presets"]) == 0
    out, err = capsys.readouterr()
    assert all(re.search(rf"^{name} .*\[built-in\]$", out, re.M) for name in BUILTIN_NAMES)
    assert "note: " in err and "reading the bundled sample" in err


def test_the_workspace_data_wins_over_the_sample(home: Path) -> None:
    demo = load_preset("demo")
    assert demo.train_file == home / "data" / "train" / "Emotion_Summary.jsonl"
    assert sample_notice([demo]) is None
    (home / "data" / "validation" / "Emotion_Summary.jsonl").unlink()  # the user's data and the sample never mix:
    demo = load_preset("demo")  # a missing file of the user's stays where it is expected
    assert demo.validation_file == home / "data" / "validation" / "Emotion_Summary.jsonl"
    assert sample_notice([demo]) is None


def test_a_workspace_preset_shadows_the_builtin_and_extends_it_by_name(empty: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (empty / "presets").mkdir()
    (empty / "presets" / "full.toml").write_text('extends = "full"\ndescription = "my full"\n[train]\nepochs = 1\n', encoding="utf-8")
    full = load_preset("full")
    assert full.path == empty / "presets" / "full.toml" and full["train.epochs"] == 1
    assert full.parent is not None and full.parent.path == BUILTIN / "presets" / "full.toml"
    assert full["train.grad_accum"] == 4  # the rest comes from the built-in it extends
    # a built-in that extends `full` now extends the user's file: one place to change every plan
    assert load_preset("fast").parent.path == empty / "presets" / "full.toml"
    presets, _ = load_all()
    assert [p.name for p in presets].count("full") == 1
    assert main(["presets"]) == 0
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("full "))
    assert "shadows the built-in" in line and "my full" not in line


def test_a_preset_in_a_new_workspace_extends_a_builtin(empty: Path) -> None:
    (empty / "presets").mkdir()
    (empty / "presets" / "mine.toml").write_text('extends = "demo"\n[train]\nbatch_size = 4\n', encoding="utf-8")
    mine = load_preset("mine")
    assert [p.name for p in mine.chain] == ["original.toml", "full.toml", "fast.toml", "demo.toml", "mine.toml"]
    assert mine["train.batch_size"] == 4 and mine.train_file.is_relative_to(SAMPLE_DATA)


def test_init_writes_a_starter_workspace_and_never_overwrites(empty: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", "ws"]) == 0
    ws = empty / "ws"
    for folder in ("presets", "data/train", "data/validation", "runs", "model"):
        assert (ws / folder).is_dir()
    assert "wrote" in capsys.readouterr().out
    starter = ws / "presets" / "my-plan.toml"
    starter.write_text(starter.read_text(encoding="utf-8") + "# mine\n", encoding="utf-8")
    readme = (ws / "README.md").read_bytes()
    assert main(["init", "ws"]) == 0
    assert starter.read_text(encoding="utf-8").endswith("# mine\n") and (ws / "README.md").read_bytes() == readme
    assert capsys.readouterr().out.count("already there, not changed") == 3
    assert main(["init", str(ws / "README.md")]) == 2


def test_the_starter_preset_loads_and_its_commented_keys_are_real(empty: Path) -> None:
    assert main(["--workspace", "ws", "init", "ws"]) == 0  # --workspace names the folder the rest reads
    assert workspace() == empty / "ws"
    plan = load_preset("my-plan")
    assert plan.parent is not None and plan.parent.name == "full"
    text = (empty / "ws" / "presets" / "my-plan.toml").read_text(encoding="utf-8")
    uncommented = re.sub(r"^# (\[\w+\]|\w+ = .*)$", r"\1", text, flags=re.M)
    assert uncommented.count("\n[") == 5
    (empty / "ws" / "presets" / "all-keys.toml").write_text(uncommented, encoding="utf-8")
    changed = load_preset("all-keys")
    assert changed["model.name"] == "google/mt5-small" and changed["eval.strategy"] == "epoch"


def test_cache_goes_to_the_user_cache_folder_unless_emosum_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("EMOSUM_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    if sys.platform.startswith("linux"):
        assert cache_dir() == tmp_path / "xdg" / "emosum-tui"
    monkeypatch.setenv("EMOSUM_CACHE", str(tmp_path / "mine"))
    assert cache_dir() == tmp_path / "mine"


def test_version_exits_zero() -> None:
    result = subprocess.run([sys.executable, "-m", "emosum_tui", "--version"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and re.fullmatch(r"emosum-tui \d+\.\d+\.\d+\S*\n", result.stdout)


def _commands(parser: argparse.ArgumentParser, prefix: str = "") -> list[tuple[str, argparse.ArgumentParser]]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += [(f"{prefix}{name}", sub), *_commands(sub, f"{prefix}{name} ")]
    return found


def test_every_command_help_has_a_description_options_explained_and_an_example() -> None:
    parser = build_parser()
    commands = _commands(parser)
    assert {"init", "presets", "data", "data check", "train", "estimate", "doctor", "runs", "watch"} <= {n for n, _ in commands}
    for name, sub in [("", parser), *commands]:
        text = sub.format_help()
        assert sub.description, f"{name or 'emosum-tui'}: no description"
        assert re.search(r"^examples:\n  emosum-tui ", text, re.M), f"{name}: no example"
        assert "exit status" in text, f"{name}: exit status not said"
        for action in sub._actions:
            if not isinstance(action, argparse._SubParsersAction):
                assert action.help, f"{name}: {action.dest} is not explained"
    assert "EMOSUM_WORKSPACE" in parser.format_help() and "EMOSUM_CACHE" in parser.format_help()


@pytest.mark.slow
def test_an_empty_folder_trains_demo_writing_only_the_workspace_and_the_cache(tmp_path: Path) -> None:
    """The wheel's promise, from the source tree: a user's empty folder, a fresh home, offline."""
    folder, user_home, temp = tmp_path / "empty", tmp_path / "user-home", tmp_path / "tmp"
    for path in (folder / "presets", user_home, temp):
        path.mkdir(parents=True)
    (folder / "presets" / "short.toml").write_text(
        'extends = "demo"\n[data]\ntrain_samples = 40\n[train]\nepochs = 1\n[eval]\nstrategy = "no"\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EMOSUM_", "XDG_", "HF_"))}
    env.update(HOME=str(user_home), TMPDIR=str(temp), HF_HUB_OFFLINE="1",
               PYTHONPATH=os.pathsep.join(filter(None, [str(BUILTIN.parents[1]), env.get("PYTHONPATH")])))
    result = subprocess.run([sys.executable, "-m", "emosum_tui", "train", "short", "--headless", "--run-dir", "X"],
                            cwd=folder, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "done (completed)" in result.stdout + result.stderr
    assert (folder / "model" / "short" / "final").is_dir() and (folder / "X" / "events.jsonl").is_file()
    cache = user_home / ".cache" / "emosum-tui" if sys.platform.startswith("linux") else None
    outside = [p for p in user_home.rglob("*") if p.is_file() and (cache is None or not p.is_relative_to(cache))]
    assert outside == [] and [p for p in temp.rglob("*") if p.is_file()] == []
