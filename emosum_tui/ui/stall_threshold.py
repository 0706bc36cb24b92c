"""The stall alarm's explicit threshold for a watched run: `watch --stall-after`, else the preset's.

`EMOSUM_STALL_AFTER` (set by `watch --stall-after`) wins; otherwise `alarm.stall_after_seconds`
of the preset as run (`<run_dir>/preset.toml`); with neither the step clock picks its own.
"""

from __future__ import annotations

import os
from pathlib import Path

from emosum_tui.core.rundir import PRESET_FILE
from emosum_tui.monitor.step_clock import StallPolicy


def policy_from_env() -> StallPolicy:
    """The default alarm, with `EMOSUM_STALL_AFTER` (set by `watch --stall-after`) as its explicit threshold."""
    value = os.environ.get("EMOSUM_STALL_AFTER", "")
    try:
        seconds = float(value) if value else None
    except ValueError:
        seconds = None
    return StallPolicy(stall_after=seconds if seconds and seconds > 0 else None)


def preset_stall_after(run_dir: Path) -> float | None:
    """`alarm.stall_after_seconds` of the preset as run (`preset.toml`, written before the trainer starts),
    when it is set (> 0); None for 0 (automatic), a missing file or key, or a file that does not parse."""
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib
    try:
        with (run_dir / PRESET_FILE).open("rb") as handle:
            value = tomllib.load(handle).get("alarm", {}).get("stall_after_seconds", 0)
    except (OSError, ValueError, AttributeError):
        return None
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0 else None
