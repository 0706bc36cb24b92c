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
from emosum_tui.trainer.environment import DeviceChoice
from emosum_tui.trainer.event_callback import EventCallback
from emosum_tui.trainer.faults import FaultPlan
from emosum_tui.trainer.reporter import Reporter
from emosum_tui.trainer.step_meter import IGNORE_INDEX, StepMeter

FINAL_DIR = "final"
HALF_PRECISION_PAD_MULTIPLE = 8  # bf16/fp16 tensor cores run fastest on lengths that are multiples of 8


def training_arguments(preset: Preset, precision: str, use_cpu: bool, has_eval: bool, headless: bool) -> Any:
    from transformers import Seq2SeqTrainingArguments

    batch = preset["train.batch_size"]
    strategy = preset["eval.strategy"] if has_eval else "no"
    # transformers 5 replaced `group_by_length=True` with `train_sampling_strategy="group_by_length"`.
    names = {f.name for f in dataclasses.fields(Seq2SeqTrainingArguments)}
    version_specific: dict[str, Any] = {}
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
        gradient_accumulation_steps=preset["train.grad_accum"],
        learning_rate=preset["train.learning_rate"],
        warmup_steps=preset["train.warmup_steps"],
        weight_decay=preset["train.weight_decay"],
        optim="adafactor" if preset["train.optimizer"] == "adafactor" else "adamw_torch",
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
        report_to=[],
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

    from emosum_tui.trainer.recording_trainer import RecordingSeq2SeqTrainer

    args = training_arguments(preset, device.precision, device.use_cpu, data.validation is not None, headless)
    collator = DataCollatorForSeq2Seq(
        loaded.tokenizer, model=loaded.model, label_pad_token_id=IGNORE_INDEX,
        pad_to_multiple_of=HALF_PRECISION_PAD_MULTIPLE if device.precision in ("bf16", "fp16") else None,
    )
    meter = StepMeter()
    plan = {"train_rows": data.train_rows, "eval_rows": data.validation_rows, "device": device.device, "precision": device.precision}
    callback = EventCallback(reporter, meter, plan, run_dir)
    trainer = RecordingSeq2SeqTrainer(
        model=loaded.model,
        args=args,
        train_dataset=data.train,
        eval_dataset=data.validation,
        processing_class=loaded.tokenizer,
        data_collator=collator,
        compute_metrics=generated_length_metric(loaded.tokenizer) if preset["eval.predict_with_generate"] else None,
        callbacks=[callback],
        reporter=reporter,
        meter=meter,
        faults=faults,
    )
    if headless:
        trainer.remove_callback(PrinterCallback)  # our printer says it once, with s/step and ETA
    return trainer, callback
