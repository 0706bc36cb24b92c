"""From a preset and loaded parts to a ready `RecordingSeq2SeqTrainer`, and the final save.

`training_arguments` is the one place where preset keys become `Seq2SeqTrainingArguments`
(the table in the docs, in code); `build_trainer` wires the collator, the event callback and
the measuring trainer together; `save_final` writes the model the user keeps.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from pathlib import Path
from typing import Any

from emosum_tui.core.presets import Preset
from emosum_tui.core.tracking import TENSORBOARD_VARIABLE
from emosum_tui.trainer.distributed import process_plan
from emosum_tui.trainer.environment import DeviceChoice
from emosum_tui.trainer.event_callback import EventCallback
from emosum_tui.trainer.faults import FaultPlan
from emosum_tui.trainer.reporter import Reporter
from emosum_tui.trainer.speed import SpeedChoice, choose_speed, speed_arguments
from emosum_tui.trainer.step_meter import IGNORE_INDEX, StepMeter

FINAL_DIR = "final"


def training_arguments(preset: Preset, precision: str, use_cpu: bool, has_eval: bool, headless: bool,
                       speed: SpeedChoice | None = None) -> Any:
    from transformers import Seq2SeqTrainingArguments

    speed = speed or choose_speed(preset, on_gpu=not use_cpu)

    batch = preset["train.batch_size"]
    strategy = preset["eval.strategy"] if has_eval else "no"
    # transformers 5 replaced `group_by_length=True` with `train_sampling_strategy="group_by_length"`.
    names = {f.name for f in dataclasses.fields(Seq2SeqTrainingArguments)}
    version_specific: dict[str, Any] = {}
    if "average_tokens_across_devices" in names:  # MT5's loss is a plain mean: scaled by the ranks, its gradient doubles under torchrun
        version_specific["average_tokens_across_devices"] = False
    if "logging_dir" in names and os.environ.get(TENSORBOARD_VARIABLE):  # transformers 4 reads the argument, 5 the variable
        version_specific["logging_dir"] = os.environ[TENSORBOARD_VARIABLE]
    if "activation_checkpointing" in names:
        version_specific["activation_checkpointing"] = preset["model.gradient_checkpointing"]
    else:
        version_specific["gradient_checkpointing"] = preset["model.gradient_checkpointing"]
    if "train_sampling_strategy" in names:
        version_specific["train_sampling_strategy"] = "group_by_length" if preset["train.group_by_length"] else "random"
    else:
        version_specific["group_by_length"] = preset["train.group_by_length"]
    return Seq2SeqTrainingArguments(
        output_dir=str(preset.output_dir),
        num_train_epochs=float(preset["train.epochs"]),
        per_device_train_batch_size=batch,
        per_device_eval_batch_size=preset["eval.batch_size"] or batch,
        gradient_accumulation_steps=process_plan(preset).grad_accum,  # divided among torchrun's ranks where it divides
        ddp_find_unused_parameters=False,  # mT5 uses every parameter: no extra pass over the graph per step under torchrun
        learning_rate=preset["train.learning_rate"],
        warmup_steps=preset["train.warmup_steps"],
        weight_decay=preset["train.weight_decay"],
        **speed_arguments(speed),
        max_grad_norm=preset["train.grad_clip"],
        bf16=precision == "bf16",
        fp16=precision == "fp16",
        use_cpu=use_cpu,
        **version_specific,
        dataloader_num_workers=preset["train.dataloader_workers"],
        seed=preset["data.seed"],
        data_seed=preset["data.seed"],
        eval_strategy=strategy,
        eval_steps=preset["eval.steps"] if strategy == "steps" else None,
        predict_with_generate=preset["eval.predict_with_generate"],
        generation_max_length=preset["eval.generation_max_tokens"] or preset["train.max_target_tokens"],
        generation_num_beams=preset["eval.num_beams"],
        save_strategy="steps",
        save_steps=preset["save.steps"],
        save_total_limit=preset["save.checkpoints_kept"],
        logging_strategy="steps",
        logging_steps=preset["save.logging_steps"],
        logging_nan_inf_filter=False,
        report_to=list(preset["log.report_to"]),  # a copy of the logs for the user's tools; events.jsonl stays the source
        disable_tqdm=headless,
    )


def generated_length_metric(tokenizer: Any) -> Any:
    """With predict_with_generate: the mean generated length (cheap, and shows collapse to one template)."""

    def compute(prediction: Any) -> dict[str, float]:
        import numpy as np

        tokens = np.asarray(prediction.predictions)
        return {"gen_len": float((tokens != tokenizer.pad_token_id).sum(axis=-1).mean())}

    return compute


def save_final(trainer: Any, tokenizer: Any, spiece: Path | None, output_dir: Path) -> Path:
    """The final model into `<output_dir>/final/`, written aside and then moved into place."""
    final = output_dir / FINAL_DIR
    partial = output_dir / f"{FINAL_DIR}.partial-{os.getpid()}"
    shutil.rmtree(partial, ignore_errors=True)
    trainer.save_model(str(partial))
    tokenizer.save_pretrained(str(partial))
    if spiece is not None and spiece.exists():
        shutil.copyfile(spiece, partial / "spiece.model")  # the console counts tokens with it (no transformers)
    if final.exists():
        shutil.rmtree(final)
    partial.replace(final)
    return final


def build_trainer(preset: Preset, loaded: Any, data: Any, device: DeviceChoice, reporter: Reporter, faults: FaultPlan,
                  run_dir: Path, headless: bool) -> tuple[Any, EventCallback]:
    from transformers import DataCollatorForSeq2Seq, PrinterCallback

    from emosum_tui.trainer.batching import CountingCollator, with_length_column
    from emosum_tui.trainer.compile_watch import CompileWatch
    from emosum_tui.trainer.recording_trainer import RecordingSeq2SeqTrainer
    from emosum_tui.trainer.samples import SampleCallback, choose_sample_rows
    from emosum_tui.trainer.speed import describe, device_speed_facts
    from emosum_tui.trainer.step_timer import StepTimer

    speed = choose_speed(preset, *device_speed_facts())
    args = training_arguments(preset, device.precision, device.use_cpu, data.validation is not None, headless, speed)
    collator = CountingCollator(DataCollatorForSeq2Seq(
        loaded.tokenizer, model=loaded.model, label_pad_token_id=IGNORE_INDEX, pad_to_multiple_of=speed.pad_to_multiple_of,
    ), loaded.tokenizer.pad_token_id, speed.bucket_lengths, preset["train.max_source_tokens"], preset["train.max_target_tokens"],
        before_batch=lambda: None if timer.paused else faults.slow_loader(trainer.state.global_step + 1))
    meter, timer = StepMeter(), StepTimer()
    plan = {"train_rows": data.train_rows, "eval_rows": data.validation_rows, "device": device.device, "precision": device.precision,
            "speed": describe(speed)}
    callback = EventCallback(reporter, meter, plan, run_dir, timer)
    samples = SampleCallback(reporter, choose_sample_rows(data.validation_pairs, preset["eval.samples"]),
                             preset["eval.generation_max_tokens"] or preset["train.max_target_tokens"], preset["train.max_source_tokens"])
    trainer = RecordingSeq2SeqTrainer(
        model=loaded.model,
        args=args,
        train_dataset=with_length_column(data.train) if preset["train.group_by_length"] else data.train,
        eval_dataset=data.validation,
        processing_class=loaded.tokenizer,
        data_collator=collator,
        compute_metrics=generated_length_metric(loaded.tokenizer) if preset["eval.predict_with_generate"] else None,
        callbacks=[callback, samples],  # the eval's own event first, then what the model wrote
        reporter=reporter,
        meter=meter,
        faults=faults,
        timer=timer,
    )
    if speed.compile:
        trainer.add_callback(CompileWatch(reporter, timer).start())  # a "compiling" phase per compilation, until training ends
    if headless:
        trainer.remove_callback(PrinterCallback)  # our printer says it once, with s/step and ETA
    return trainer, callback
