"""The bare `emosum-tui`: open the console (`--preset NAME` selects one, `--start` starts it)."""

from __future__ import annotations

import argparse

from emosum_tui.commands.terminal_text import error
from emosum_tui.i18n import _


def run(args: argparse.Namespace) -> int:
    """Check `--preset` before the screen opens (a typo is an error line, not a blank console)."""
    preset = getattr(args, "preset", None)
    start = bool(getattr(args, "start", False))
    if start and not preset:
        error(_("--start needs --preset NAME (which preset to train)"))
        return 2
    if preset:
        from emosum_tui.core.presets import PresetError, load_preset

        try:
            load_preset(preset)
        except PresetError as exc:
            error(exc)
            return 2
    from emosum_tui.core.priority import yield_to_trainers
    from emosum_tui.ui.app import EmosumApp

    yield_to_trainers()  # before the app's threads start: they inherit it
    app = EmosumApp(preset=preset, start=start)
    return int(app.run() or 0)
