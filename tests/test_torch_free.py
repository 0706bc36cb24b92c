"""The console side never imports torch, transformers or datasets (harlequin's contract, as a test).

Each console-side module is imported in its own fresh interpreter and `sys.modules` is checked
there, so an indirect import through another module is caught and blamed on the module that
pulls it in (a shared interpreter would blame whichever module happened to come first).

Console-side means every module of `emosum_tui` outside the trainer-side packages, found by
walking the source tree: a new module or package is covered without touching this file.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import emosum_tui

HEAVY = ("torch", "transformers", "datasets")
PACKAGE = Path(emosum_tui.__file__).parent
TRAINER_SIDE = ("trainer", "probe")  # run in their own processes, where torch is the point
NOT_IMPORTABLE = ("emosum_tui.__main__",)  # runs the CLI when imported


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def console_side_modules() -> list[str]:
    """Every module under emosum_tui/ except the trainer-side packages, read from the files (nothing imported)."""
    return sorted(module_name(path) for path in PACKAGE.rglob("*.py")
                  if path.relative_to(PACKAGE).parts[0] not in TRAINER_SIDE and module_name(path) not in NOT_IMPORTABLE)


CONSOLE_SIDE = console_side_modules()


def heavy_imports_of(module: str) -> list[str]:
    """The heavy libraries in `sys.modules` after importing `module` in a fresh interpreter."""
    script = f"import importlib, json, sys\nimportlib.import_module({module!r})\nprint(json.dumps([h for h in {HEAVY!r} if h in sys.modules]))"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"importing {module} failed:\n{done.stderr[-2000:]}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_walk_finds_the_console_side_and_only_it() -> None:
    for expected in ("emosum_tui", "emosum_tui.cli", "emosum_tui.core.presets", "emosum_tui.ui.app",
                     "emosum_tui.monitor.step_clock", "emosum_tui.doctor.preflight", "emosum_tui.commands.train_cmd"):
        assert expected in CONSOLE_SIDE
    assert not any(name.startswith(("emosum_tui.trainer", "emosum_tui.probe")) for name in CONSOLE_SIDE)


@pytest.mark.parametrize("module", CONSOLE_SIDE)
def test_console_side_module_imports_no_torch(module: str) -> None:
    assert heavy_imports_of(module) == [], f"{module} imports a trainer-side library"


@pytest.mark.parametrize("argv", [["--help"], ["presets"], ["data", "check"]])
def test_cli_commands_run_without_torch(home: Path, argv: list[str]) -> None:
    script = (
        "import sys\nfrom emosum_tui.cli import main\n"
        f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
        f"print('HEAVY', [h for h in {HEAVY!r} if h in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert "HEAVY []" in out
