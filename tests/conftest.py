"""Shared fixtures: a private project home so tests never touch the checkout's runs/, model/, .cache/."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.project import CHECKOUT, copy_project

# The suite reads English unless a test asks for Chinese: the machine's own locale must not decide.
os.environ["EMOSUM_LANG"] = "en"

SHARED_DATA = CHECKOUT.parent / "shared" / "data" / "longemotion_es_eval150.jsonl"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of presets/ and data/ in tmp_path, used as the project root (EMOSUM_HOME)."""
    root = copy_project(tmp_path / "home")
    monkeypatch.setenv("EMOSUM_HOME", str(root))
    monkeypatch.setenv("EMOSUM_CACHE", str(root / ".cache"))
    monkeypatch.delenv("EMOSUM_FAULT", raising=False)  # faults are injected by the tests that want one
    return root


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One private, offline project home per test module (the demo tokenizer is trained once);
    the mT5 tokenizers are "not on this machine" (an empty Hugging Face cache)."""
    root = copy_project(tmp_path_factory.mktemp("project") / "home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EMOSUM_HOME", str(root))
        patch.setenv("EMOSUM_CACHE", str(root / ".cache"))
        patch.setenv("HF_HUB_OFFLINE", "1")
        patch.setenv("HF_HUB_CACHE", str(root / "no-hf-cache"))
        yield root


@pytest.fixture
def real_items(tmp_path: Path) -> Path:
    """A private copy of the 150 real LongEmotion items (the shared file is read-only)."""
    if not SHARED_DATA.exists():
        pytest.skip(f"{SHARED_DATA} is not beside this checkout")
    copy = tmp_path / "longemotion_es_eval150.jsonl"
    shutil.copyfile(SHARED_DATA, copy)
    return copy


@pytest.fixture
def chinese() -> Iterator[None]:
    """The interface in Chinese for one test (the language is process-wide: English again after)."""
    from emosum_tui import i18n

    i18n.set_language("zh_CN")
    yield
    i18n.set_language("en")


@pytest.fixture
def console_home(home: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`home` for the console: one token cache shared by the session's tests (keyed by content
    hashes, so sharing is safe), an empty Hugging Face cache and the hub switched off, so the
    hub models are "not here" on every machine, the same finding everywhere."""
    monkeypatch.setenv("EMOSUM_CACHE", str(tmp_path_factory.getbasetemp() / "console-cache"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path_factory.getbasetemp() / "empty-hf-cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return home
