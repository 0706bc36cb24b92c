"""One training run, top to bottom, like transformers' run_summarization.py.

preset -> run dir (preset.toml, environment.json, status.json, events.jsonl) -> lock the output
dir -> rows -> model + tokenizer -> tokenised datasets -> Seq2SeqTrainer with the event
callback (`trainer_setup`) -> train (or resume) -> final model (safetensors + tokenizer) -> `done`. Whatever ends the run (a NaN, an
OOM, a full disk, Ctrl+C, a stop request) ends with an `error` and/or `done` event and a final
status, so the run dir tells the truth afterwards; only SIGKILL can skip that, and then the
reader sees a dead pid.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from emosum_tui.core.events import EVENTS_FILE, Done, Error, EventWriter, Phase, RunStart, Warn
from emosum_tui.core.presets import Preset
from emosum_tui.core.rundir import (
    CONTROL_DIR,
    ENVIRONMENT_FILE,
    STDERR_FILE,
    RunStatus,
    clear_stale_stop_request,
    new_run_dir,
    request_stop,
    run_preset_file,
    stop_requested,
    write_json_atomic,
    write_run_preset,
)
from emosum_tui.trainer.control import OutputLock
from emosum_tui.trainer.faults import FaultPlan
from emosum_tui.trainer.headless import HeadlessPrinter
from emosum_tui.trainer.health import classify
from emosum_tui.trainer.heartbeat import HeartbeatThread
from emosum_tui.trainer.reporter import Reporter


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


def _ctrl_c_stops(run_dir: Path) -> Any:
    """First Ctrl+C in the trainer's own terminal = a stop request (checkpoint, then exit 0);
    a second one aborts. Returns the previous handler to restore (None off the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        return None
    pressed = {"count": 0}

    def handler(signum: int, frame: Any) -> None:
        pressed["count"] += 1
        if pressed["count"] > 1:
            raise KeyboardInterrupt
        request_stop(run_dir, by="ctrl-c")
        print("stopping after this step with a checkpoint (Ctrl+C again to abort)", file=sys.stderr, flush=True)

    return signal.signal(signal.SIGINT, handler)


def _reference(preset: Preset, given: str | None) -> str:
    """How to name this preset again later: its name when it is in presets/, else its absolute path."""
    if given and not given.endswith(".toml") and Path(given).parent == Path("."):
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
    from emosum_tui.core.estimate_record import ESTIMATE_FILE, write_estimate

    if (run_dir / ESTIMATE_FILE).exists():
        return ""
    try:
        measured = calibration.cached_calibration(calibration.spec_for(preset))
        write_estimate(run_dir, estimate(preset, calibration=measured, device=calibration.cached_device_profile()))
    except Exception as exc:  # a cost-model failure must never stop training
        return f"no estimate kept with this run: {type(exc).__name__}: {exc}"
    return ""


def run_training(preset: Preset, run_dir: Path | None = None, headless: bool = True, resume: bool = False,
                 preset_ref: str | None = None) -> int:
    """Train one preset; return the process exit code (0 also for a clean stop)."""
    born = time.time()
    try:
        import psutil

        born = psutil.Process().create_time()
    except Exception:
        pass
    run_dir = Path(run_dir) if run_dir else new_run_dir(preset.name)
    (run_dir / CONTROL_DIR).mkdir(parents=True, exist_ok=True)
    clear_stale_stop_request(run_dir, older_than=born)
    log_handler = _stderr_to_file(run_dir)
    writer = EventWriter(run_dir / EVENTS_FILE)
    status = RunStatus(state="starting", preset=preset.name, preset_ref=_reference(preset, preset_ref), pid=os.getpid(),
                       started=time.time(), output_dir=str(preset.output_dir))
    reporter = Reporter(run_dir, writer, status)
    if headless:
        reporter.listeners.append(HeadlessPrinter(preset["save.logging_steps"]))
    else:
        print(f"run folder: {run_dir}  (watch it from another terminal: emosum-tui watch {run_dir})", flush=True)
    if preset.path.resolve() != run_preset_file(run_dir).resolve():  # given the run's own copy: it is already there
        write_run_preset(run_dir, preset)
    estimate_note = keep_estimate(preset, run_dir)
    heartbeat = HeartbeatThread(writer, reporter.where, also=reporter.save_status)
    previous_handler = _ctrl_c_stops(run_dir)
    lock = OutputLock(preset.output_dir, run_dir)
    started = time.perf_counter()
    callback = None
    on_gpu = False
    try:
        from emosum_tui.trainer.environment import choose_device, environment_facts

        facts = environment_facts()
        write_json_atomic(run_dir / ENVIRONMENT_FILE, facts)
        checkpoint = None
        if resume:
            from transformers.trainer_utils import get_last_checkpoint

            checkpoint = get_last_checkpoint(str(preset.output_dir)) if preset.output_dir.is_dir() else None
        reporter.emit(RunStart(preset=preset.name, run_dir=str(run_dir), output_dir=str(preset.output_dir), pid=os.getpid(),
                               resumed_from=checkpoint, environment=facts))
        heartbeat.start()
        if estimate_note:
            reporter.emit(Warn(code="estimate", message=estimate_note))
        lock.acquire()
        if resume and checkpoint is None:
            reporter.emit(Warn(code="no-checkpoint", message=f"--resume: no checkpoint in {preset.output_dir}; starting from step 0"))
        device = choose_device(preset["train.precision"])
        on_gpu = not device.use_cpu
        for message in device.warnings:
            reporter.emit(Warn(code="device", message=message))
        faults = FaultPlan.from_env()
        if headless:
            import transformers

            transformers.utils.logging.disable_progress_bar()

        from emosum_tui.trainer.dataset_loading import read_rows, tokenise_rows
        from emosum_tui.trainer.model_loading import load_model

        rows = read_rows(preset, reporter.emit)
        reporter.emit(Phase(name="loading_model", detail=preset["model.name"]))
        loaded = load_model(preset)
        data = tokenise_rows(preset, rows, loaded.tokenizer, reporter.emit)

        from emosum_tui.trainer.recording_trainer import folder_bytes
        from emosum_tui.trainer.trainer_setup import FINAL_DIR, build_trainer, save_final

        trainer, callback = build_trainer(preset, loaded, data, device, reporter, faults, run_dir, headless)
        if stop_requested(run_dir):
            callback.stopped = True
            output = None
        else:
            output = trainer.train(resume_from_checkpoint=checkpoint)
        totals = {
            "train_rows": data.train_rows,
            "eval_rows": data.validation_rows,
            "steps_this_process": callback.steps_run,
            "train_seconds": callback.train_seconds,
            "samples": callback.samples,
            "tokens": callback.tokens,
            "mean_train_loss": getattr(output, "training_loss", None),
        }
        final_loss = callback.recent_loss(preset["save.logging_steps"])
        steps = trainer.state.global_step
        if callback.stopped and (output is None or steps < trainer.state.max_steps):
            reporter.emit(Done(reason="stopped", steps=steps, seconds=time.perf_counter() - started, train_loss=final_loss, totals=totals))
            return 0
        reporter.emit(Phase(name="saving", detail=str(preset.output_dir / FINAL_DIR)))
        final = save_final(trainer, loaded.tokenizer, loaded.spiece, preset.output_dir)
        totals["final_bytes"] = folder_bytes(final)
        reporter.emit(Done(reason="completed", final_path=str(final), steps=steps, seconds=time.perf_counter() - started,
                           train_loss=final_loss, totals=totals))
        return 0
    except BaseException as exc:
        diagnosed = classify(exc, preset, on_gpu=on_gpu)
        step = reporter.current_step
        try:
            reporter.emit(Error(classification=diagnosed.classification, type=diagnosed.type, message=diagnosed.message,
                                traceback_tail=diagnosed.traceback_tail, advice=diagnosed.advice, step=step))
            reporter.emit(Done(reason="failed", steps=reporter.status.step, seconds=time.perf_counter() - started,
                               train_loss=callback.recent_loss(preset["save.logging_steps"]) if callback else None))
        except OSError:
            pass  # the disk may be the problem; stderr still gets the traceback below
        import traceback

        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
        if not headless:
            print(f"error [{diagnosed.classification}]: {diagnosed.message}", file=sys.stderr)
        if isinstance(exc, KeyboardInterrupt):
            return 130
        if not isinstance(exc, Exception):
            raise
        return 1
    finally:
        if previous_handler is not None:
            signal.signal(signal.SIGINT, previous_handler)
        heartbeat.stop()
        lock.release()
        reporter.save_status()
        writer.close()
        if log_handler is not None:
            logging.getLogger().removeHandler(log_handler)
            log_handler.close()
            logging.captureWarnings(False)
