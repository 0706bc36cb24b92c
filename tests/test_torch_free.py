"""The console side never imports torch, transformers or datasets (harlequin's contract, as a test).

Each module is imported in a fresh interpreter and `sys.modules` is checked, so an indirect
import through another module is caught too.
"""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import emosum_tui

HEAVY = ("torch", "transformers", "datasets")
PACKAGE = Path(emosum_tui.__file__).parent
TORCH_FREE_PACKAGES = ("core", "ui", "monitor", "commands", "doctor")


def torch_free_modules() -> list[str]:
    names = ["emosum_tui.cli"]
    for package in TORCH_FREE_PACKAGES:
        folder = PACKAGE / package
        if folder.is_dir():
            names.append(f"emosum_tui.{package}")
            names += [m.name for m in pkgutil.walk_packages([str(folder)], prefix=f"emosum_tui.{package}.")]
    return sorted(set(names))


def test_console_side_modules_import_no_torch() -> None:
    modules = torch_free_modules()
    assert "emosum_tui.core.presets" in modules
    script = (
        "import importlib, json, sys\n"
        f"mods = {modules!r}\n"
        "bad = {}\n"
        "for m in mods:\n"
        "    importlib.import_module(m)\n"
        f"    heavy = [h for h in {HEAVY!r} if h in sys.modules]\n"
        "    if heavy: bad[m] = heavy; break\n"
        "print(json.dumps(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == {}, "a console-side module imported a trainer-side library"


@pytest.mark.parametrize("argv", [["--help"], ["presets"], ["data", "check"]])
def test_cli_commands_run_without_torch(home: Path, argv: list[str]) -> None:
    script = (
        "import sys\nfrom emosum_tui.cli import main\n"
        f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
        f"print('HEAVY', [h for h in {HEAVY!r} if h in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert "HEAVY []" in out
