"""Where the project's folders are: presets/, data/, model/, runs/.

The project root is `EMOSUM_HOME` when set, else the current folder when it holds a
`presets/` folder, else the checkout this package was installed from (`pip install -e .`).
Relative paths in presets are relative to that root, so a run started from anywhere finds
the same files.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parents[2]


def project_root() -> Path:
    env = os.environ.get("EMOSUM_HOME")
    if env:
        return Path(env).expanduser().resolve()
    cwd = Path.cwd()
    if (cwd / "presets").is_dir():
        return cwd
    return PACKAGE_ROOT


def presets_dir() -> Path:
    return project_root() / "presets"


def runs_dir() -> Path:
    return project_root() / "runs"


def cache_dir() -> Path:
    """Small derived files (token statistics, calibrations, the demo tokenizer)."""
    env = os.environ.get("EMOSUM_CACHE")
    return Path(env).expanduser() if env else project_root() / ".cache"
