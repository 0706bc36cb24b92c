"""The preset schema: every key a person would tune, with its type, default and what is possible.

One table, read by the loader (strict checks), the presets table (its rows) and `presets show`.
Help texts are marked with `N_` and translated where they are drawn (`_(field.help)`).
"""

from __future__ import annotations

from emosum_tui.core.preset_fields import Field, fraction, model_config, non_empty, non_negative, path_list, positive, str_list
from emosum_tui.core.process_plan import check_processes
from emosum_tui.core.tracking import report_to_names
from emosum_tui.i18n import N_

SCHEMA: dict[str, dict[str, Field]] = {
    "model": {
        "name": Field(str, "google/mt5-small", N_("hub name (e.g. google/mt5-base) or a local path"), non_empty),
        "config": Field(dict, {}, N_("inline MT5Config for a model built from scratch (demo)"), model_config),
        "tokenizer_vocab_size": Field(int, 0, N_("SentencePiece vocab trained on the train file when config is inline"), non_negative, zero="tokenizer's"),
        "gradient_checkpointing": Field(bool, False, N_("trade compute for activation memory")),
        "trim_vocabulary": Field(bool, False, N_("keep only the pieces the data uses (faster, smaller; can write only those)")),
        "trim_extra_files": Field(list, [], N_("more texts the trimmed model must read and write (e.g. the evaluation file)"), path_list),
    },
    "data": {
        "train_file": Field(str, "data/train/Emotion_Summary.jsonl", N_("JSON-lines training file"), non_empty),
        "validation_file": Field(str, "data/validation/Emotion_Summary.jsonl", N_("JSON-lines validation file"), non_empty),
        "source_fields": Field(list, ["case_description", "consultation_process"], N_("fields joined (with spaces) into the source"), str_list),
        "target_field": Field(str, "experience_and_reflection", N_("field holding the target text"), non_empty),
        "id_field": Field(str, "id", N_("field holding a row id (may be absent in a row)"), non_empty),
        "source_prefix": Field(str, "", N_("text put before every source (e.g. 'summarize: ')")),
        "train_samples": Field(int, 0, N_("rows to train on: 0 = all (a seeded view, files are never rewritten)"), non_negative, zero="all"),
        "train_fraction": Field(float, 1.0, N_("fraction of rows to train on, used when train_samples is 0"), fraction),
        "validation_samples": Field(int, 0, N_("validation rows to evaluate on: 0 = all"), non_negative, zero="all"),
        "seed": Field(int, 42, N_("seed of the subsample view and of training"), non_negative),
    },
    "train": {
        "epochs": Field((int, float), 1, N_("passes over the training rows"), positive),
        "batch_size": Field(int, 8, N_("micro-batch per device"), positive),
        "grad_accum": Field(int, 1, N_("micro-batches per optimizer step"), positive),
        "max_source_tokens": Field(int, 512, N_("source truncation length"), positive),
        "max_target_tokens": Field(int, 128, N_("target truncation length"), positive),
        "learning_rate": Field(float, 5e-5, N_("peak learning rate"), positive),
        "warmup_steps": Field(int, 0, N_("linear warm-up optimizer steps"), non_negative),
        "weight_decay": Field(float, 0.0, N_("AdamW weight decay"), non_negative),
        "optimizer": Field(str, "adamw", N_("adamw or adafactor"), choices=("adamw", "adafactor")),
        "precision": Field(str, "auto", N_("auto = bf16 on a GPU that has it, else fp32"), choices=("auto", "bf16", "fp32", "fp16")),
        "grad_clip": Field(float, 1.0, N_("max gradient norm; 0 = no clipping (the Trainer default is 1.0)"), non_negative, zero="none"),
        "group_by_length": Field(bool, False, N_("batch rows of similar length together (less padding)")),
        "dataloader_workers": Field(int, 0, N_("DataLoader worker processes"), non_negative, zero="main process"),
        "processes": Field((int, str), 1, N_('trainer processes through torchrun: N or "auto" (one per visible GPU, 1 on a CPU)'), check_processes),
        "compile": Field(str, "auto", N_("torch.compile the model: auto = on a GPU, off on a CPU"), choices=("auto", "on", "off")),
        "tf32": Field(bool, True, N_("TF32 matmuls on GPUs that have them (Ampere and newer)")),
        "fused_optimizer": Field(bool, True, N_("fused AdamW kernel on a GPU (adamw_torch_fused)")),
        "pad_to_multiple_of": Field(int, 0, N_("pad lengths to a multiple of this: 0 = 8 on a GPU, none on a CPU; 1 = none"), non_negative, zero="auto"),
    },
    "eval": {
        "strategy": Field(str, "steps", N_("no, steps or epoch"), choices=("no", "steps", "epoch")),
        "steps": Field(int, 1000, N_("optimizer steps between evaluations (strategy = steps)"), positive),
        "predict_with_generate": Field(bool, False, N_("decode every validation row at each eval (slow)")),
        "generation_max_tokens": Field(int, 0, N_("max generated tokens: 0 = max_target_tokens"), non_negative, zero="target length"),
        "num_beams": Field(int, 1, N_("beam width when generating"), positive),
        "batch_size": Field(int, 0, N_("eval micro-batch: 0 = train batch_size"), non_negative, zero="train batch"),
        "samples": Field(int, 3, N_("validation rows written out (greedy) at each eval, beside their references: 0 = none"), non_negative, zero="none"),
    },
    "save": {
        "logging_steps": Field(int, 50, N_("optimizer steps between Trainer log lines"), positive),
        "steps": Field(int, 1000, N_("optimizer steps between checkpoints"), positive),
        "checkpoints_kept": Field(int, 1, N_("checkpoints kept on disk (save_total_limit)"), positive),
        "output_dir": Field(str, "model/{preset}", N_("checkpoints and final model; {preset} = preset name"), non_empty),
    },
    "alarm": {
        "stall_after_seconds": Field(float, 0.0, N_("call a running step stalled after this long: 0 = automatic (5x the median step)"), non_negative, zero="auto"),
    },
    "alerts": {
        "webhook": Field(str, "", N_("URL that gets a JSON POST on stalled/frozen/dead/failed/NaN/finished (EMOSUM_WEBHOOK wins)")),
        "desktop": Field(bool, True, N_("a desktop notification with each alert, where the OS has one")),
    },
    "log": {
        "report_to": Field(list, [], N_("tracking tools the Trainer also logs to (tensorboard, trackio, wandb, mlflow…); [] = none"),
                           report_to_names),
    },
}

TOP_LEVEL = {"extends", "description"}
