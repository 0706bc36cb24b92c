"""Command palette (ctrl+p): every console action by name, plus "select <preset>" for each preset.

The palette is where a user who forgot a key finds it; the commands call the same actions the
keys do, so the two never disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

from emosum_tui.i18n import N_, _

if TYPE_CHECKING:
    from emosum_tui.ui.screens.presets import PresetsScreen


class ConsoleCommands(Provider):
    """Console actions and one "select" / "baseline" command per preset, named in the interface's
    language (the list is made each time the palette asks, so a language switch shows at once).
    A command is also found by its English name: Latin letters are what a search box gets typed."""

    def _commands(self) -> list[tuple[str, str, Callable[[], object], str]]:
        """(name shown, English name, what it does, help) of each command."""
        from emosum_tui.ui.screens.presets import PresetsScreen

        app = self.app
        commands: list[tuple[str, str, Callable[[], object], str]] = [
            (*_named(N_("back to presets")), partial(app.run_action, "presets"), _("show the presets screen")),
            (*_named(N_("runs")), partial(app.run_action, "runs"), _("list runs: live, finished, failed")),
            (*_named(N_("quit")), partial(app.run_action, "quit"), _("quit (asks about a training run still going)")),
        ]
        presets = next((s for s in app.screen_stack if isinstance(s, PresetsScreen)), None)
        if presets is not None:
            commands += [
                (*_named(N_("start run of the selected preset")), partial(presets.run_action, "start"),
                 _("launch the trainer in its own process")),
                (*_named(N_("calibrate the selected preset")), partial(presets.run_action, "calibrate"),
                 _("measure a few real steps on this machine")),
                (*_named(N_("edit a value of the selected preset")), partial(presets.run_action, "edit"),
                 _("change one key; re-estimated at once")),
                (*_named(N_("make the selected preset the baseline")), partial(presets.run_action, "baseline"),
                 _("compare every other preset with it")),
            ]
            for index, preset in enumerate(presets.saved):
                name = N_("select preset {name}")
                commands.append((_(name).format(name=preset.name), name.format(name=preset.name), partial(self._select, presets, index),
                                 _(preset.description) if preset.description else str(preset.path)))
        return commands

    async def _select(self, screen: PresetsScreen, index: int) -> None:
        await self.app.run_action("presets")  # leave a training or runs screen first
        screen.action_select(index)

    async def discover(self) -> Hits:
        for name, _english, command, help_text in self._commands():
            yield DiscoveryHit(name, command, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, english, command, help_text in self._commands():
            score = max(matcher.match(name), matcher.match(english) if english != name else 0)
            if score > 0:
                yield Hit(score, matcher.highlight(name), command, help=help_text)


def _named(name: str) -> tuple[str, str]:
    """A command's name in the interface's language, and in English."""
    return _(name), name
