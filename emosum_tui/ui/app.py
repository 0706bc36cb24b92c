"""The console: an App whose first screen compares presets and whose runs live in other processes.

`EmosumApp` owns what is app-wide: starting a run (a trainer subprocess plus its run
directory), the keys that work on every screen (presets, runs, quit) and the question asked on
quit while a run this console launched is still training. It never imports torch,
transformers or datasets: the trainer is a separate process and the screens read files.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.message import Message
from textual.screen import ModalScreen, Screen

from emosum_tui.core.presets import Preset
from emosum_tui.ui.figures import estimate_cell
from emosum_tui.ui.screens.presets import PresetsScreen

if TYPE_CHECKING:
    from textual.command import Provider


def console_commands() -> type[Provider]:
    """The palette's provider, imported when the palette first opens (not at start-up)."""
    from emosum_tui.ui.palette import ConsoleCommands

    return ConsoleCommands


class RunLaunched(Message):
    """A trainer process started for a run folder (or, with `run_dir` None, why it did not)."""

    def __init__(self, run_dir: Path | None, process: subprocess.Popen | None, note: str = "") -> None:
        super().__init__()
        self.run_dir = run_dir
        self.process = process
        self.note = note


class EmosumApp(App[int]):
    """`EmosumApp(preset="fast", start=True)` opens the presets with `fast` selected and starts it."""

    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute: subclasses elsewhere (tests, bench) find it too
    TITLE = "emosum-tui"
    COMMANDS = App.COMMANDS | {console_commands}
    BINDINGS = [  # noqa: RUF012
        Binding("p", "presets", "presets"),
        Binding("r", "runs", "runs"),
        Binding("q", "quit", "quit"),
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
        self.launched: list[tuple[Path, subprocess.Popen]] = []

    def get_default_screen(self) -> Screen:
        hidden = self.watch_dir is not None or self.start_at_once
        return PresetsScreen(self.initial_preset, s_per_step=self.s_per_step, hidden_at_start=hidden)

    def on_mount(self) -> None:
        if self.watch_dir is not None:
            self._show_training(self.watch_dir, None)
        elif self.start_at_once and isinstance(self.screen, PresetsScreen):
            self.screen.action_start()

    @property
    def presets_screen(self) -> PresetsScreen:
        return next(s for s in self.screen_stack if isinstance(s, PresetsScreen))

    # ---- runs ------------------------------------------------------------------------------------

    def start_run(self, preset_ref: str) -> None:
        """Launch the trainer for `preset_ref` in its own process and show its training screen.

        The launch (run folder, the estimate kept with it, the process) happens in a thread, so
        `--start` does not hold up the first frame; the training screen opens when the trainer
        process exists, or a notification says why it does not."""
        self.notify(f"starting {Path(preset_ref).stem}…", timeout=3)
        self._launch(preset_ref)

    @work(thread=True, group="launch")
    def _launch(self, preset_ref: str) -> None:
        from emosum_tui.core.presets import PresetError, load_preset

        try:
            preset = load_preset(preset_ref)
            from emosum_tui.core.rundir import launch_trainer, new_run_dir, write_run_preset

            run_dir = new_run_dir(preset.name)
            note = self._keep_estimate(preset, run_dir)
            process = launch_trainer(write_run_preset(run_dir, preset), run_dir)
        except (PresetError, OSError, ImportError) as exc:
            self.post_message(RunLaunched(None, None, f"could not start {preset_ref}: {exc}"))
            return
        self.post_message(RunLaunched(run_dir, process, note))

    def _keep_estimate(self, preset: Preset, run_dir: Path) -> str:
        """Write the estimate the run starts with (`estimate.json`), to compare with what it
        measures; "" or why it could not be kept (the run matters more than its estimate)."""
        from emosum_tui.core.estimate_record import write_estimate

        cell = self.presets_screen.estimates.get(preset.name)
        if cell is None or cell.estimate is None:
            cell = estimate_cell(preset, self.s_per_step)
        if cell.estimate is None:
            return f"estimate not kept with the run: {cell.error}"
        try:
            write_estimate(run_dir, cell.estimate)
        except OSError as exc:
            return f"estimate not kept with the run: {exc}"
        return ""

    def on_run_launched(self, message: RunLaunched) -> None:
        if message.run_dir is None or message.process is None:
            self.notify(message.note, title="cannot start", severity="error", timeout=15)
            if isinstance(self.screen, PresetsScreen):
                self.screen.start_background()  # `--start` failed: the presets are what the user sees
            return
        self.launched.append((message.run_dir, message.process))
        if message.note:
            self.notify(message.note, severity="warning")
        self._show_training(message.run_dir, message.process)

    def _show_training(self, run_dir: Path, process: subprocess.Popen | None) -> None:
        try:
            from emosum_tui.ui.screens.training import TrainingScreen
        except ImportError:
            self.notify(
                f"live view not available yet; the run goes on in {run_dir} (emosum-tui watch {run_dir})",
                severity="warning",
                timeout=10,
            )
            return
        self.push_screen(TrainingScreen(run_dir, process))

    def running(self) -> list[Path]:
        """Run directories of trainers this console launched that are still alive."""
        return [run_dir for run_dir, process in self.launched if process.poll() is None]

    # ---- app-wide keys ----------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("presets", "runs", "quit") and isinstance(self.screen, ModalScreen):
            return False  # a dialog is open: its own keys only
        if action == "presets":
            return not isinstance(self.screen, PresetsScreen)
        if action == "runs":
            return type(self.screen).__name__ != "RunsScreen"  # no import here: the runs screen may not exist
        return True

    def action_presets(self) -> None:
        """Back to the presets screen; training goes on in its own process."""
        while len(self.screen_stack) > 1 and not isinstance(self.screen, PresetsScreen):
            self.pop_screen()

    def action_runs(self) -> None:
        try:
            from emosum_tui.ui.screens.runs import RunsScreen
        except ImportError:
            self.notify("the runs screen is not available yet (emosum-tui runs lists them)", severity="warning")
            return
        if not isinstance(self.screen, RunsScreen):
            self.push_screen(RunsScreen())

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
