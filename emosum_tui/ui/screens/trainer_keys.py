"""The keys of the training screen that act on the trainer process: stop, kill, resume, advice.

`TrainerKeysScreen` is the base of the training screen (below it, `ModelKeysScreen`'s keys
that look at the model). `s` asks for a clean stop (a checkpoint, then exit) by the run's stop
file; `k` kills the process tree after asking; `u` resumes a run that did not finish from its
last checkpoint with a `StartRun` for the app; `a` opens the doctor's advice on a failed run.
Kept apart so the training screen stays about following the run.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from textual.binding import Binding

from emosum_tui.core.rundir import request_stop
from emosum_tui.i18n import N_, _
from emosum_tui.monitor.step_clock import FINISHED, ClockReading, StepClock
from emosum_tui.ui.messages import StartRun
from emosum_tui.ui.screens.confirm_kill import ConfirmKillScreen, kill_process_tree
from emosum_tui.ui.screens.model_keys import ModelKeysScreen


class TrainerKeysScreen(ModelKeysScreen):
    BINDINGS = [  # noqa: RUF012
        Binding("s", "stop", N_("stop (checkpoint, exit)")),
        Binding("k", "kill", N_("kill")),
        Binding("u", "resume", N_("resume")),
        Binding("a", "advice", N_("failure advice")),
    ]
    run_dir: Path
    process: subprocess.Popen | None
    pid: int | None
    started_t: float | None
    clock: StepClock
    reading: ClockReading | None
    resume_pending: bool  # `u` asked the app for a trainer that has not started yet

    def alive(self) -> bool | None:
        """Is the trainer process running? None while its pid is not known (the screen knows)."""
        raise NotImplementedError

    def running(self) -> bool:
        return self.clock.done is None and bool(self.alive())

    def action_stop(self) -> None:
        if not self.running():
            self.notify(_("The trainer is not running: nothing to stop."), severity="warning")
            return
        request_stop(self.run_dir)
        self.notify(_("Stop requested: the trainer finishes this step, saves a checkpoint and exits."))

    def action_kill(self) -> None:
        if not self.pid or not self.alive():
            self.notify(_("The trainer is not running: nothing to kill."), severity="warning")
            return

        def answered(yes: bool | None) -> None:
            if yes and self.pid:
                kill_process_tree(self.pid)
                if self.process is not None:
                    self.process.wait(timeout=5)
                self.notify(_("Killed the trainer (pid {pid}). Resume (u) continues from the last checkpoint.").format(pid=self.pid))

        self.app.push_screen(ConfirmKillScreen(self.run_dir.name, self.pid), answered)

    def action_resume(self) -> None:
        if self.running():
            self.notify(_("The run is still going: nothing to resume."), severity="warning")
            return
        finished = self.reading is not None and self.reading.state == FINISHED  # by `done` or, its line unreadable, by status.json
        if finished or (self.clock.done is not None and self.clock.done.reason == "completed"):
            self.notify(_("The run finished: nothing to resume."), severity="warning")
            return
        if self.resume_pending:
            return  # asked already: the trainer is being started
        from emosum_tui.core.presets import PresetError
        from emosum_tui.core.rundir import load_run_preset, run_preset_file

        try:
            preset = load_run_preset(run_preset_file(self.run_dir))
        except PresetError as exc:
            self.notify(_("Cannot resume: {error}").format(error=exc), severity="error", timeout=10)
            return
        self.resume_pending = True
        self.app.post_message(StartRun(preset, resume_in=self.run_dir))

    def attach(self, process: subprocess.Popen | None) -> None:
        """Follow `process`, a trainer just started (resumed) on this run directory; None: the
        resume asked for could not start (another `u` may try again)."""
        self.resume_pending = False
        if process is None:
            return
        self.process = process
        self.pid = process.pid
        self.started_t = time.time()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "advice":
            return self.clock.done is not None and self.clock.done.reason == "failed"
        return True

    def action_advice(self) -> None:
        """The doctor's failure screen: what happened, the smallest fix, and "apply and resume"."""
        from emosum_tui.ui.screens.failure_advice import FailureAdviceScreen

        self.app.push_screen(FailureAdviceScreen(self.run_dir))
