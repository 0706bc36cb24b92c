"""Command palette (ctrl+p): every console action by name, plus "select <preset>" for each preset.

The palette is where a user who forgot a key finds it; the commands call the same actions the
keys do, so the two never disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from emosum_tui.ui.screens.presets import PresetsScreen


class ConsoleCommands(Provider):
    """Console actions and one "select" / "baseline" command per preset."""

    def _commands(self) -> list[tuple[str, Callable[[], object], str]]:
        from emosum_tui.ui.screens.presets import PresetsScreen

        app = self.app
        commands: list[tuple[str, Callable[[], object], str]] = [
            ("back to presets", partial(app.run_action, "presets"), "show the presets screen"),
            ("runs", partial(app.run_action, "runs"), "list runs: live, finished, failed"),
            ("quit", partial(app.run_action, "quit"), "quit (asks about a training run still going)"),
        ]
        presets = next((s for s in app.screen_stack if isinstance(s, PresetsScreen)), None)
        if presets is not None:
            commands += [
                ("start run of the selected preset", partial(presets.run_action, "start"), "launch the trainer in its own process"),
                ("calibrate the selected preset", partial(presets.run_action, "calibrate"), "measure a few real steps on this machine"),
                ("edit a value of the selected preset", partial(presets.run_action, "edit"), "change one key; re-estimated at once"),
                ("make the selected preset the baseline", partial(presets.run_action, "baseline"), "compare every other preset with it"),
            ]
            for index, preset in enumerate(presets.saved):
                commands.append(
                    (f"select preset {preset.name}", partial(self._select, presets, index), preset.description or str(preset.path))
                )
        return commands

    def _select(self, screen: PresetsScreen, index: int) -> None:
        self.app.run_action("presets")  # leave a training or runs screen first
        screen.action_select(index)

    async def discover(self) -> Hits:
        for name, command, help_text in self._commands():
            yield DiscoveryHit(name, command, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, command, help_text in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), command, help=help_text)
