"""Shared fixtures: a private project home so tests never touch the checkout's runs/, model/, .cache/."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

CHECKOUT = Path(__file__).resolve().parents[1]
SHARED_DATA = CHECKOUT.parent / "shared" / "data" / "longemotion_es_eval150.jsonl"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of presets/ and data/ in tmp_path, used as the project root (EMOSUM_HOME)."""
    root = tmp_path / "home"
    shutil.copytree(CHECKOUT / "presets", root / "presets")
    shutil.copytree(CHECKOUT / "data", root / "data")
    monkeypatch.setenv("EMOSUM_HOME", str(root))
    monkeypatch.setenv("EMOSUM_CACHE", str(root / ".cache"))
    return root


@pytest.fixture
def real_items(tmp_path: Path) -> Path:
    """A private copy of the 150 real LongEmotion items (the shared file is read-only)."""
    if not SHARED_DATA.exists():
        pytest.skip(f"{SHARED_DATA} is not beside this checkout")
    copy = tmp_path / "longemotion_es_eval150.jsonl"
    shutil.copyfile(SHARED_DATA, copy)
    return copy
