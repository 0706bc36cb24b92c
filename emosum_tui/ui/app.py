"""The console: an App whose first screen compares presets and whose runs live in other processes.

`EmosumApp` owns what is app-wide: starting a run (a trainer subprocess plus its run
directory), the keys that work on every screen (presets, runs, quit) and the question asked on
quit while a run this console launched is still training. It never imports torch,
transformers or datasets: the trainer is a separate process and the screens read files.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from textual.app import App
from textual.binding import Binding
from textual.screen import ModalScreen, Screen

from emosum_tui.ui.palette import ConsoleCommands
from emosum_tui.ui.screens.presets import PresetsScreen


class EmosumApp(App[int]):
    """`EmosumApp(preset="fast", start=True)` opens the presets with `fast` selected and starts it."""

    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute: subclasses elsewhere (tests, bench) find it too
    TITLE = "emosum-tui"
    COMMANDS = App.COMMANDS | {ConsoleCommands}
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
        return PresetsScreen(self.initial_preset, s_per_step=self.s_per_step)

    def on_mount(self) -> None:
        if self.watch_dir is not None:
            self._show_training(self.watch_dir, None)
        elif self.start_at_once and isinstance(self.screen, PresetsScreen):
            self.screen.action_start()

    @property
    def presets_screen(self) -> PresetsScreen:
        return next(s for s in self.screen_stack if isinstance(s, PresetsScreen))

    # ---- runs ------------------------------------------------------------------------------------

    def start_run(self, preset_ref: str) -> Path | None:
        """Launch the trainer for `preset_ref` in its own process and show its training screen.

        Returns the run directory, or None (with a notification saying why) when it did not start."""
        from emosum_tui.core.presets import PresetError, load_preset

        try:
            preset = load_preset(preset_ref)
        except PresetError as exc:
            self.notify(str(exc), title="cannot start", severity="error", timeout=15)
            return None
        try:
            from emosum_tui.core.rundir import launch_trainer, new_run_dir
        except ImportError as exc:
            self.notify(f"the trainer launcher is not available: {exc}", title="cannot start", severity="error")
            return None
        try:
            run_dir = new_run_dir(preset.name)
            self._write_estimate(preset, run_dir)
            process = launch_trainer(preset_ref, run_dir)
        except OSError as exc:
            self.notify(f"could not start the trainer: {exc}", title="cannot start", severity="error", timeout=15)
            return None
        self.launched.append((run_dir, process))
        self.notify(f"training {preset.name} in {run_dir}", title="run started", timeout=5)
        self._show_training(run_dir, process)
        return run_dir

    def _write_estimate(self, preset: object, run_dir: Path) -> None:
        """Keep the estimate the run was started with (`estimate.json`), to compare with what it measures."""
        from emosum_tui.core.rundir import ESTIMATE_FILE, write_json_atomic

        cell = self.presets_screen.estimates.get(getattr(preset, "name", ""))
        try:
            if cell is not None and cell.estimate is not None:
                estimate = cell.estimate
            else:
                from emosum_tui.core import cost_model

                estimate = cost_model.estimate(preset, s_per_step=self.s_per_step)
            write_json_atomic(run_dir / ESTIMATE_FILE, estimate.as_dict())
        except Exception as exc:  # the run matters more than its estimate
            self.notify(f"estimate not saved with the run: {exc}", severity="warning")

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
