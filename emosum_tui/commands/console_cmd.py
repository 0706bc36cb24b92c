"""The bare `emosum-tui`: open the console (`--preset NAME` selects one, `--start` starts it)."""

from __future__ import annotations

import argparse
import sys


def run(args: argparse.Namespace) -> int:
    """Check `--preset` before the screen opens (a typo is an error line, not a blank console)."""
    preset = getattr(args, "preset", None)
    start = bool(getattr(args, "start", False))
    if start and not preset:
        print("error: --start needs --preset NAME (which preset to train)", file=sys.stderr)
        return 2
    if preset:
        from emosum_tui.core.presets import PresetError, load_preset

        try:
            load_preset(preset)
        except PresetError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    from emosum_tui.core.priority import yield_to_trainers
    from emosum_tui.ui.app import EmosumApp

    yield_to_trainers()  # before the app's threads start: they inherit it
    app = EmosumApp(preset=preset, start=start)
    return int(app.run() or 0)
