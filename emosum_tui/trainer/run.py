"""One training run, top to bottom, like transformers' run_summarization.py.

preset -> run dir (preset.toml, environment.json, status.json, events.jsonl) -> lock the output
dir -> rows -> model + tokenizer -> tokenised datasets -> Seq2SeqTrainer with the event
callback (`trainer_setup`) -> train (or resume) -> final model (safetensors + tokenizer) -> `done`.
Whatever ends the run (a NaN, an OOM, a full disk, Ctrl+C, SIGTERM, a stop request) ends with an `error`
and/or `done` event and a final status, so the run dir tells the truth afterwards; only SIGKILL
can skip that, and then the reader sees a dead pid.
"""

from __future__ import annotations

import logging
import os
import sys
import time
import traceback
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emosum_tui.core.atomic import write_json_atomic
from emosum_tui.core.checkpoints import last_complete_checkpoint, set_aside_incomplete_checkpoints
from emosum_tui.core.events import EVENTS_FILE, Done, Error, EventWriter, Phase, RunStart, RunTotals, Warn
from emosum_tui.core.presets import Preset, is_preset_name
from emosum_tui.core.rundir import (
    CONTROL_DIR,
    ENVIRONMENT_FILE,
    ESTIMATE_FILE,
    STDERR_FILE,
    RunStatus,
    clear_stale_stop_request,
    new_run_dir,
    run_preset_file,
    stop_requested,
    write_run_preset,
)
from emosum_tui.core.tracking import prepare_tracking
from emosum_tui.trainer.control import OutputLock
from emosum_tui.trainer.distributed import RankBeatThread, RankInfo, exit_on_group_teardown, process_plan
from emosum_tui.trainer.faults import FaultPlan
from emosum_tui.trainer.headless import HeadlessPrinter
from emosum_tui.trainer.health import classify
from emosum_tui.trainer.heartbeat import HeartbeatThread
from emosum_tui.trainer.reporter import Reporter
from emosum_tui.trainer.stop_signals import install_stop_signals

if TYPE_CHECKING:  # imports transformers: only inside a run, where a failure is classified
    from emosum_tui.trainer.event_callback import EventCallback

EXIT_OK = 0  # also a clean stop: the run ended as asked
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130  # a shell's code for a process ended by SIGINT


def _stderr_to_file(run_dir: Path) -> logging.Handler | None:
    """Library warnings and logs into the run dir's stderr.log when our stderr is not already it
    (a run started from a terminal rather than by the console)."""
    target = run_dir / STDERR_FILE
    try:
        if target.exists() and os.path.samestat(os.fstat(sys.stderr.fileno()), os.stat(target)):
            return None
    except (OSError, ValueError, AttributeError):
        pass
    handler = logging.FileHandler(target, encoding="utf-8")
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.getLogger().addHandler(handler)
    logging.captureWarnings(True)
    return handler


def _reference(preset: Preset, given: str | None) -> str:
    """How to name this preset again later: its name when it is in presets/, else its absolute path."""
    if given and is_preset_name(given):
        return given
    return str(preset.path)


def keep_estimate(preset: Preset, run_dir: Path) -> str:
    """Keep the estimate a run starts with, so it can be compared with what the run measures.

    The console writes its own (with what it showed) before launching; a run started from the
    command line gets the cost model's, with this machine's cached calibration when there is
    one. Returns "" or why no estimate was kept: the run matters more than its estimate.
    """
    from emosum_tui.core import calibration
    from emosum_tui.core.cost_model import estimate
    from emosum_tui.core.estimate_record import write_estimate

    if (run_dir / ESTIMATE_FILE).exists():
        return ""
    try:
        measured = calibration.cached_calibration(calibration.spec_for(preset))
        write_estimate(run_dir, estimate(preset, calibration=measured, device=calibration.cached_device_profile()))
    except Exception as exc:  # a cost-model failure must never stop training
        return f"no estimate kept with this run: {type(exc).__name__}: {exc}"
    return ""


def _process_birth() -> float:
    """When this process started: a stop request written before it belongs to an earlier one."""
    try:
        import psutil

        return psutil.Process().create_time()
    except Exception:
        return time.time()


class TrainingRun:
    """One trainer process's run. The constructor opens the run dir (status, log, preset copy,
    estimate); `run()` trains and, whatever happens, leaves the run dir telling the truth."""

    def __init__(self, preset: Preset, run_dir: Path | None, headless: bool, resume: bool, preset_ref: str | None) -> None:
        self.preset = preset
        self.headless = headless
        self.resume = resume
        self.run_dir = Path(run_dir) if run_dir else new_run_dir(preset.name)
        self.ranks, self.shared_run_dir = RankInfo.from_env(), self.run_dir  # under torchrun, ranks 1+ write ranks/rank-<n>/
        self.run_dir = self.ranks.files_dir(self.run_dir)
        self.rank_beat: RankBeatThread | None = None
        (self.run_dir / CONTROL_DIR).mkdir(parents=True, exist_ok=True)
        clear_stale_stop_request(self.run_dir, older_than=_process_birth())
        self.log_handler = _stderr_to_file(self.run_dir)
        self.writer = EventWriter(self.run_dir / EVENTS_FILE)
        status = RunStatus(state="starting", preset=preset.name, preset_ref=_reference(preset, preset_ref), pid=os.getpid(),
                           started=time.time(), output_dir=str(preset.output_dir))
        self.reporter = Reporter(self.run_dir, self.writer, status)
        if headless:
            self.reporter.listeners.append(HeadlessPrinter(preset["save.logging_steps"]))
        else:
            print(f"run folder: {self.run_dir}  (watch it from another terminal: emosum-tui watch {self.run_dir})", flush=True)
        if preset.path.resolve() != run_preset_file(self.run_dir).resolve():  # given the run's own copy: it is already there
            write_run_preset(self.run_dir, preset)
        self.estimate_note = keep_estimate(preset, self.run_dir)
        self.heartbeat = HeartbeatThread(self.writer, self.reporter.where, also=self.reporter.save_status)
        # Ctrl+C, SIGTERM, SIGBREAK, SIGHUP: a clean stop; under torchrun the launcher turns them into the stop file,
        # and a SIGTERM from torchrun means the group is going down.
        self.restore_signals = exit_on_group_teardown(self.reporter) if self.ranks.distributed else install_stop_signals(self.run_dir)
        self.lock = OutputLock(preset.output_dir, self.run_dir)
        self.started = time.perf_counter()
        self.callback: EventCallback | None = None
        self.on_gpu = False

    def run(self) -> int:
        """Train; return the process exit code."""
        try:
            return self._train(self._start())
        except BaseException as exc:
            return self._fail(exc)
        finally:
            self._close()

    def _seconds(self) -> float:
        return time.perf_counter() - self.started

    def _recent_loss(self) -> float | None:
        return self.callback.recent_loss(self.preset["save.logging_steps"]) if self.callback else None

    def _start(self) -> str | None:
        """Record the environment, announce the start, take the output dir; the checkpoint to resume from."""
        from emosum_tui.trainer.environment import environment_facts

        preset, emit = self.preset, self.reporter.emit
        facts = environment_facts()
        write_json_atomic(self.run_dir / ENVIRONMENT_FILE, facts.to_dict())
        checkpoint = _last_checkpoint(preset.output_dir) if self.resume else None
        emit(RunStart(preset=preset.name, run_dir=str(self.run_dir), output_dir=str(preset.output_dir), pid=os.getpid(),
                      resumed_from=checkpoint, environment=facts, world_size=self.ranks.world_size))
        self.heartbeat.start()
        if self.ranks.distributed:
            self.rank_beat = RankBeatThread(self.shared_run_dir, self.ranks, self.reporter.where).start()
        if self.estimate_note:
            emit(Warn(code="estimate", message=self.estimate_note))
        if self.ranks.distributed:
            emit(Warn(code="processes", message=process_plan(preset, self.ranks).note()))
        if self.ranks.is_main:  # one lock per run: ranks 1+ train into rank 0's output dir
            self.lock.acquire()
        if self.resume and self.ranks.is_main:  # only now: another trainer's save in progress is not ours to rename
            set_aside = set_aside_incomplete_checkpoints(preset.output_dir)
            if set_aside:
                emit(Warn(code="incomplete-checkpoint",
                          message=f"a checkpoint save was cut short: set aside as {', '.join(p.name for p in set_aside)}; "
                                  f"resuming from {checkpoint or 'step 0'}"))
        if self.resume and checkpoint is None:
            emit(Warn(code="no-checkpoint", message=f"--resume: no checkpoint in {preset.output_dir}; starting from step 0"))
        return checkpoint

    def _train(self, checkpoint: str | None) -> int:
        """Device, data, model, Trainer; train (unless a stop came first) and finish."""
        from emosum_tui.trainer.dataset_loading import read_rows, tokenise_rows
        from emosum_tui.trainer.environment import choose_device
        from emosum_tui.trainer.model_loading import load_model
        from emosum_tui.trainer.trainer_setup import build_trainer

        preset, emit = self.preset, self.reporter.emit
        device = choose_device(preset["train.precision"])
        self.on_gpu = not device.use_cpu
        for message in device.warnings:
            emit(Warn(code="device", message=message))
        faults = FaultPlan.from_env()
        prepare_tracking(preset["log.report_to"], preset.path, self.run_dir)  # a missing package is said before the model loads
        if self.headless:
            import transformers

            transformers.utils.logging.disable_progress_bar()
        rows = read_rows(preset, emit)
        emit(Phase(name="loading_model", detail=preset["model.name"]))
        loaded = load_model(preset)
        if preset["model.trim_vocabulary"]:
            from emosum_tui.trainer.vocab_trim import trim_loaded

            loaded = trim_loaded(preset, loaded, emit)
        data = tokenise_rows(preset, rows, loaded.tokenizer, emit)
        trainer, self.callback = build_trainer(preset, loaded, data, device, self.reporter, faults, self.run_dir, self.headless)
        if stop_requested(self.run_dir):
            self.callback.stopped = True
            output = None
        else:
            output = trainer.train(resume_from_checkpoint=checkpoint)
        return self._finish(trainer, loaded, data, output)

    def _finish(self, trainer: Any, loaded: Any, data: Any, output: Any) -> int:
        """`done`: stopped before the last step, or completed with the final model saved."""
        from emosum_tui.trainer.recording_trainer import folder_bytes
        from emosum_tui.trainer.trainer_setup import FINAL_DIR, save_final

        assert self.callback is not None
        callback, emit = self.callback, self.reporter.emit
        totals = RunTotals(train_rows=data.train_rows, eval_rows=data.validation_rows, steps_this_process=callback.steps_run,
                           train_seconds=callback.train_seconds, samples=callback.samples, tokens=callback.tokens,
                           mean_train_loss=output.training_loss if output is not None else None)
        steps = trainer.state.global_step
        if callback.stopped and (output is None or steps < trainer.state.max_steps):
            emit(Done(reason="stopped", steps=steps, seconds=self._seconds(), train_loss=self._recent_loss(), totals=totals))
            return EXIT_OK
        if not self.ranks.is_main:  # rank 0 saves the final model
            emit(Done(reason="completed", steps=steps, seconds=self._seconds(), train_loss=self._recent_loss(), totals=totals))
            return EXIT_OK
        output_dir = self.preset.output_dir
        emit(Phase(name="saving", detail=str(output_dir / FINAL_DIR)))
        final = save_final(trainer, loaded.tokenizer, loaded.spiece, output_dir)
        emit(Done(reason="completed", final_path=str(final), steps=steps, seconds=self._seconds(), train_loss=self._recent_loss(),
                  totals=replace(totals, final_bytes=folder_bytes(final))))
        return EXIT_OK

    def _fail(self, exc: BaseException) -> int:
        """Classify what ended the run, record it (`error`, `done`), and print the traceback."""
        diagnosed = classify(exc, self.preset, on_gpu=self.on_gpu)
        reporter = self.reporter
        try:
            reporter.emit(Error(classification=diagnosed.classification, type=diagnosed.type, message=diagnosed.message,
                                traceback_tail=diagnosed.traceback_tail, advice=diagnosed.advice, step=reporter.current_step))
            reporter.emit(Done(reason="failed", steps=reporter.status.step, seconds=self._seconds(), train_loss=self._recent_loss()))
        except OSError:
            pass  # the disk may be the problem; stderr still gets the traceback below
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
        if not self.headless:
            print(f"error [{diagnosed.classification}]: {diagnosed.message}", file=sys.stderr)
        if isinstance(exc, KeyboardInterrupt):
            return EXIT_INTERRUPTED
        if not isinstance(exc, Exception):
            raise exc
        return EXIT_FAILED

    def _close(self) -> None:
        self.restore_signals()
        self.heartbeat.stop()
        if self.rank_beat is not None:
            self.rank_beat.stop()
        self.lock.release()
        self.reporter.save_status()
        self.writer.close()
        if self.log_handler is not None:
            logging.getLogger().removeHandler(self.log_handler)
            self.log_handler.close()
            logging.captureWarnings(False)


def _last_checkpoint(output_dir: Path) -> str | None:
    """The newest complete checkpoint: transformers' `get_last_checkpoint` would take a torn one."""
    last = last_complete_checkpoint(output_dir)
    return str(last) if last is not None else None


def run_training(preset: Preset, run_dir: Path | None = None, headless: bool = True, resume: bool = False,
                 preset_ref: str | None = None) -> int:
    """Train one preset; return the process exit code (0 also for a clean stop)."""
    return TrainingRun(preset, run_dir, headless, resume, preset_ref).run()
