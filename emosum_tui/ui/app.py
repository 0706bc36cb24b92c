"""The console: an App whose first screen compares presets and whose runs live in other processes.

`EmosumApp` owns what is app-wide: starting a run (every start and resume arrives as a
`StartRun` and is launched in `on_start_run`), the keys that work on every screen (presets,
runs, quit) and the question asked on quit while a run this console launched is still
training. It never imports torch, transformers or datasets: the trainer is a separate process
and the screens read files.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.message import Message
from textual.screen import ModalScreen, Screen

from emosum_tui.i18n import CHINESE, ENGLISH, N_, _, language, set_language
from emosum_tui.ui.messages import LanguageChanged, StartRun
from emosum_tui.ui.run_launch import LaunchError, launch_run
from emosum_tui.ui.screens.presets import PresetsScreen
from emosum_tui.ui.screens.runs import RunsScreen

if TYPE_CHECKING:
    from textual.command import Provider

    from emosum_tui.ui.screens.training import TrainingScreen


def console_commands() -> type[Provider]:
    """The palette's provider, imported when the palette first opens (not at start-up)."""
    from emosum_tui.ui.palette import ConsoleCommands

    return ConsoleCommands


class LaunchedRun(NamedTuple):
    """A trainer process this console started, and the run directory it writes."""

    run_dir: Path
    process: subprocess.Popen


@dataclass
class RunLaunched(Message):
    """The trainer of `request` started (`run_dir`, `process`), or (`process` None) `note` says
    why it did not; otherwise `note` says what went wrong on the side ("" when nothing did)."""

    request: StartRun
    run_dir: Path | None
    process: subprocess.Popen | None
    note: str = ""


class EmosumApp(App[int]):
    """`EmosumApp(preset="fast", start=True)` opens the presets with `fast` selected and starts it."""

    # The first screen's styles: Textual loads a pushed screen's CSS_PATH, not the default screen's.
    CSS_PATH = Path(__file__).parent / "screens" / "presets.tcss"
    TITLE = "emosum-tui"
    COMMANDS = App.COMMANDS | {console_commands}
    BINDINGS = [  # noqa: RUF012
        Binding("p", "presets", N_("presets")),
        Binding("r", "runs", N_("runs")),
        Binding("q", "quit", N_("quit")),
        # The language `l` switches to, in that language (a reader of it finds it): the zh_CN catalog says "English".
        Binding("l", "switch_language", N_("中文")),
    ]

    def __init__(
        self,
        preset: str | None = None,
        start: bool = False,
        watch: Path | str | None = None,
        s_per_step: float | None = None,
    ) -> None:
        """`watch` opens the training screen of an existing run directory; `s_per_step` pins the
        time per step in every estimate (tests, snapshots)."""
        super().__init__()
        self.initial_preset = preset
        self.start_at_once = start
        self.watch_dir = Path(watch) if watch else None
        self.s_per_step = s_per_step
        self.launched: list[LaunchedRun] = []

    def get_default_screen(self) -> Screen:
        hidden = self.watch_dir is not None or self.start_at_once
        return PresetsScreen(self.initial_preset, s_per_step=self.s_per_step, hidden_at_start=hidden)

    def on_mount(self) -> None:
        if self.watch_dir is not None:
            self.show_training(self.watch_dir, None)
        elif self.start_at_once:
            preset = self.presets_screen.current_saved  # the preset named on the command line, as loaded there
            if preset is not None:
                self.post_message(StartRun(preset))

    @property
    def presets_screen(self) -> PresetsScreen:
        return next(s for s in self.screen_stack if isinstance(s, PresetsScreen))

    # ---- runs ------------------------------------------------------------------------------------

    def on_start_run(self, message: StartRun) -> None:
        """Every start and resume: launch the trainer in a thread (so `--start` does not hold up
        the first frame); the run's training screen shows it once the process exists, or a
        notification says why it does not."""
        if message.resume_in is None:
            self.notify(_("starting {preset}…").format(preset=message.preset.name), timeout=3)
        self._launch(message)

    @work(thread=True, group="launch")
    def _launch(self, request: StartRun) -> None:
        try:
            launch = launch_run(request, self.s_per_step)
        except LaunchError as exc:
            self.post_message(RunLaunched(request, None, None, str(exc)))
            return
        self.post_message(RunLaunched(request, launch.run_dir, launch.process, launch.note))

    def on_run_launched(self, message: RunLaunched) -> None:
        if message.run_dir is None or message.process is None:
            self.notify(message.note, title=_("cannot start"), severity="error", timeout=15)
            watching = self.training_screen_of(message.request.resume_in) if message.request.resume_in else None
            if watching is not None:
                watching.attach(None)
            elif isinstance(self.screen, PresetsScreen):
                self.screen.start_background()  # `--start` failed: the presets are what the user sees
            return
        self.launched.append(LaunchedRun(message.run_dir, message.process))
        if message.note:
            self.notify(message.note, severity="warning")
        watching = self.training_screen_of(message.run_dir) if message.request.resume_in is not None else None
        if watching is None:
            self.show_training(message.run_dir, message.process)
        else:
            watching.attach(message.process)
            self.notify(_("Resuming {run} from its last checkpoint with {preset} (pid {pid}).").format(
                run=message.run_dir.name, preset=message.request.preset.name, pid=message.process.pid))

    def training_screen_of(self, run_dir: Path) -> TrainingScreen | None:
        """The training screen on the stack that follows `run_dir`, if any."""
        from emosum_tui.ui.screens.training import TrainingScreen

        return next((s for s in self.screen_stack if isinstance(s, TrainingScreen) and s.run_dir == run_dir), None)

    def show_training(self, run_dir: Path, process: subprocess.Popen | None) -> None:
        from emosum_tui.ui.screens.training import TrainingScreen

        self.push_screen(TrainingScreen(run_dir, process))

    def running(self) -> list[Path]:
        """Run directories of trainers this console launched that are still alive."""
        return [run_dir for run_dir, process in self.launched if process.poll() is None]

    # ---- app-wide keys ----------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("presets", "runs", "quit", "switch_language") and isinstance(self.screen, ModalScreen):
            return False  # a dialog is open: its own keys only
        if action == "presets":
            return not isinstance(self.screen, PresetsScreen)
        if action == "runs":
            return not isinstance(self.screen, RunsScreen)
        return True

    def action_presets(self) -> None:
        """Back to the presets screen; training goes on in its own process."""
        while len(self.screen_stack) > 1 and not isinstance(self.screen, PresetsScreen):
            self.pop_screen()

    def action_runs(self) -> None:
        if not isinstance(self.screen, RunsScreen):
            self.push_screen(RunsScreen())

    def action_switch_language(self) -> None:
        """English <-> Chinese, live: every screen on the stack redraws in the new language."""
        from emosum_tui.ui.widgets.footer import Footer

        target = set_language(CHINESE if language() == ENGLISH else ENGLISH)
        for screen in self.screen_stack:
            screen.post_message(LanguageChanged(target))
            for widget in screen.walk_children():
                widget.post_message(LanguageChanged(target))
                if isinstance(widget, Footer):
                    widget.refresh(recompose=True)
                else:
                    widget.refresh(layout=True)
        self.notify(_("Interface language: English"), timeout=3)

    def deliver_screenshot(self, filename: str | None = None, path: str | None = None, time_format: str | None = None) -> str | None:
        """The palette's "Screenshot": an SVG in the workspace's screenshots/ (Textual's default,
        the Downloads folder, is missing on many machines and servers), and say where it went."""
        from emosum_tui.core.paths import workspace

        folder = Path(path) if path else workspace() / "screenshots"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            saved = self.save_screenshot(filename, str(folder), time_format)
        except OSError as exc:
            self.notify(_("could not save the screenshot in {folder}: {error}").format(folder=folder, error=exc),
                        title=_("screenshot"), severity="error")
            return None
        self.notify(_("saved {path}").format(path=saved), title=_("screenshot"), timeout=10)
        return saved

    async def action_quit(self) -> None:
        """Quit; when a run launched here is alive, ask: leave it running, or stop it."""
        alive = self.running()
        if not alive:
            self.exit(0)
            return
        from emosum_tui.ui.screens.quit_dialog import QuitScreen

        def chosen(choice: str | None) -> None:
            if choice is None:
                return
            if choice == "stop":
                from emosum_tui.core.rundir import request_stop

                for run_dir in alive:
                    request_stop(run_dir)
            self.exit(0)

        self.push_screen(QuitScreen(alive), chosen)
