"""Where the user's folders are: the workspace (presets/, data/, runs/, model/) and the cache.

The workspace is `--workspace DIR` (which sets `EMOSUM_WORKSPACE` for every process it starts),
else `EMOSUM_WORKSPACE`, else `EMOSUM_HOME` (the older name, same meaning), else the current
folder. Relative paths in presets are relative to it, so the console, the trainer it launches and
a command run from a script all read the same files. Caches (token lengths, tokenizers,
calibration, trimmed models) are derived files: they live in the platform's user cache folder,
or `EMOSUM_CACHE`, never beside the code.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

WORKSPACE_VARIABLES = ("EMOSUM_WORKSPACE", "EMOSUM_HOME")
CACHE_VARIABLE = "EMOSUM_CACHE"
APP_NAME = "emosum-tui"


def workspace(environ: Mapping[str, str] | None = None) -> Path:
    """The workspace as `environ` (default: this process's environment) names it."""
    environ = os.environ if environ is None else environ
    for name in WORKSPACE_VARIABLES:
        value = environ.get(name)
        if value:
            return Path(value).expanduser().resolve()
    return Path.cwd()


def set_workspace(folder: str | Path) -> Path:
    """Make `folder` the workspace of this process and of every process it starts."""
    path = Path(folder).expanduser().resolve()
    os.environ["EMOSUM_WORKSPACE"] = str(path)
    return path


def presets_dir() -> Path:
    return workspace() / "presets"


def runs_dir() -> Path:
    return workspace() / "runs"


def cache_dir() -> Path:
    """Small derived files (token statistics, calibrations, the demo tokenizer, trimmed models)."""
    env = os.environ.get(CACHE_VARIABLE)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir(APP_NAME, appauthor=False))
