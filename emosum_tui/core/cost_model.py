"""The cost model: what a preset will cost, in optimizer steps, seconds, memory and bytes.

A model of the real work rather than a table of guesses: the parameter count from the model's
shape, optimizer steps counted the way the installed Trainer counts them, FLOPs from the data's
real token lengths padded per batch the way `DataCollatorForSeq2Seq` pads them, evaluation
(loss-only or autoregressive generation), checkpoint bytes file by file, memory and disk.
Seconds come from a device throughput: a prior from a matmul probe, replaced by a calibration
at the preset's exact shape when there is one, or by a measured s/step the user gives. Every
figure carries its basis, so a person can check what it rests on: English as a str (estimate.json,
`--json`), a `Translatable` whose `shown()` is in the interface's language. Torch-free: the
console imports this.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any

from emosum_tui.core.batch_profile import BatchProfile, batch_profile
from emosum_tui.core.cost_processes import priced_processes, process_cost
from emosum_tui.core.device_speed import GPU_LAYER_DISPATCH_S, Speed, dispatch_floor, prior_step_seconds
from emosum_tui.core.model_flops import decode_step_flops, decoder_weight_count, param_count
from emosum_tui.core.model_shapes import ModelShape, shape_for, vocabulary_basis
from emosum_tui.core.process_plan import plan_processes
from emosum_tui.core.run_bytes import FP32, CheckpointBytes, as_gpu_counter_shows, checkpoint_bytes, training_memory
from emosum_tui.core.sampling import rows_for
from emosum_tui.core.step_counts import checkpoint_saves, evaluations, optimizer_steps
from emosum_tui.core.token_stats import TokenLengths
from emosum_tui.i18n import N_
from emosum_tui.i18n.phrase import Translatable

if TYPE_CHECKING:
    from emosum_tui.core.calibration import CalibrationResult, DeviceProfile
    from emosum_tui.core.presets import Preset


@dataclass
class Estimate:
    """What a preset will cost; `basis` says for each figure what was assumed or measured."""

    preset: str
    params: int
    train_rows: int
    validation_rows: int
    optimizer_steps: int
    seconds_per_step: float
    train_seconds: float
    eval_seconds: float
    save_seconds: float
    startup_seconds: float
    total_seconds: float
    evaluations: int
    checkpoints: int
    peak_memory_bytes: int
    checkpoint_bytes: int
    peak_disk_bytes: int
    final_disk_bytes: int
    vocab_size: int = 0  # rows of the embedding and the LM head (fewer when the vocabulary is trimmed)
    device: str = ""
    basis: dict[str, str] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# Costs the FLOPs do not show, priced as fixed times.
DECODE_OVERHEAD_S = 0.002  # per generated token per decoder layer: Python and kernel launches
STARTUP_S = 8.0  # import torch + transformers + datasets, build the model (prior)
TRAINER_SETUP_S = 1.0  # datasets, Seq2SeqTrainer and accelerate set-up beyond the probe's start-up
TOKENISE_S_PER_ROW = 0.001  # datasets.map with the fast tokenizer, per row (train + validation)
STEP_OVERHEAD_S = 0.005  # per micro-batch: collating, Trainer bookkeeping, callbacks
EVAL_LOGITS_PASSES = 2  # logits written and read once by the loss, fp32
EVAL_PROFILE_DRAWS = 200  # eval batches drawn to average padding (fewer than training: one pass)


@dataclass(frozen=True)
class _Counts:
    """Rows and optimizer steps of the run as priced."""

    present_train: int  # good rows in the train file
    total_train: int  # rows priced before the preset's view (--train-rows or the file)
    rows: int
    validation_rows: int
    steps: int


@dataclass(frozen=True)
class _StepTiming:
    """Seconds of one optimizer step, and the speed that priced it."""

    step_seconds: float
    micro: float  # one micro-batch, forward + backward
    update: float  # the optimizer update
    flops_speed: float  # FLOP/s the step implies (evaluation is priced at the same rate)
    speed: Speed
    profile: BatchProfile


@dataclass(frozen=True)
class _Saving:
    """Checkpoints written, the seconds to write them, and the disk they hold."""

    checkpoint: CheckpointBytes
    saves: int
    seconds: float
    peak_disk: int
    final_disk: int


def _count_steps(preset: Preset, lengths: TokenLengths, train_rows: int | None, validation_rows: int | None,
                 basis: dict[str, str]) -> _Counts:
    present_train = lengths.train_total
    total_train = train_rows if train_rows is not None else present_train
    rows = rows_for(total_train, preset["data.train_samples"], preset["data.train_fraction"])
    total_val = validation_rows if validation_rows is not None else lengths.validation_total
    val_rows = rows_for(total_val, preset["data.validation_samples"], 1.0)
    b, ga, epochs = preset["train.batch_size"], preset["train.grad_accum"], preset["train.epochs"]
    n = priced_processes(preset["train.processes"])[0]
    ga = plan_processes(b, ga, n).grad_accum  # per process; each of the n processes takes ceil(rows / n) rows
    steps = optimizer_steps(math.ceil(rows / n), b, ga, epochs)
    view = Translatable(N_("{rows} of {total} rows (--train-rows)") if train_rows is not None else N_("{rows} of {total} rows"),
                        rows=f"{rows:,}", total=f"{total_train:,}")
    if n > 1:
        per = Translatable(N_("batch {batch} per device x grad-accum {accum} x {processes} processes"), batch=b, accum=ga,
                           processes=n)
    else:
        per = Translatable(N_("batch {batch} x grad-accum {accum}"), batch=b, accum=ga)
    split = f"ceil({rows}/{n})" if n > 1 else f"{rows}"
    basis["optimizer_steps"] = Translatable(N_("{view}, {per}, {epochs} epochs: {formula} as transformers' Trainer counts"),
                                            view=view, per=per, epochs=f"{epochs:g}",
                                            formula=f"ceil(ceil({split}/{b})/{ga}) x {epochs:g}")
    return _Counts(present_train, total_train, rows, val_rows, steps)


def _time_step_given(s_per_step: float, profile: BatchProfile, micro: float, update: float, ga: int, speed: Speed,
                     basis: dict[str, str]) -> _StepTiming:
    """A s/step measured by the user: the speed it implies replaces the prior's."""
    flops_speed = ga * profile.train_flops / max(s_per_step - update, 1e-9)
    # Measured on the user's machine: its memory is taken to be as much faster or slower than
    # the prior as its arithmetic is (decoding is memory-bound).
    scale = flops_speed / speed.matmul_flops
    speed = replace(speed, matmul_flops=flops_speed, memory_bps=speed.memory_bps * scale,
                    basis=Translatable(N_("{gflops} GFLOP/s implied by the given s/step"), gflops=f"{flops_speed / 1e9:.1f}"))
    basis["seconds_per_step"] = Translatable(N_("given: {seconds} s/step (measured by you)"), seconds=f"{s_per_step:g}")
    return _StepTiming(s_per_step, micro, update, flops_speed, speed, profile)


def _time_step_calibrated(calibration: CalibrationResult, profile: BatchProfile, ga: int, speed: Speed,
                          basis: dict[str, str]) -> _StepTiming:
    """A calibration at this shape, rescaled to this data's padding."""
    scale = profile.train_flops / max(calibration.micro_flops, 1.0)
    micro = calibration.micro_batch_seconds * scale
    update = calibration.update_seconds
    step_seconds = ga * (micro + STEP_OVERHEAD_S) + update
    flops_speed = calibration.micro_flops / max(calibration.micro_batch_seconds, 1e-9)
    basis["seconds_per_step"] = Translatable(
        N_("calibrated on {device}: {micro} s per micro-batch (x{scale} for this data's padding) x {accum} + {update} s update "
           "+ {overhead} ms Trainer overhead per micro-batch"), device=calibration.device,
        micro=f"{calibration.micro_batch_seconds:.3g}", scale=f"{scale:.2f}", accum=ga, update=f"{update:.3g}",
        overhead=f"{STEP_OVERHEAD_S * 1000:g}")
    return _StepTiming(step_seconds, micro, update, flops_speed, speed, profile)


def _time_step_prior(shape: ModelShape, checkpointing: bool, profile: BatchProfile, micro: float, update: float, ga: int,
                     speed: Speed, basis: dict[str, str]) -> _StepTiming:
    """Nothing measured at this shape: FLOPs and bytes at the device prior."""
    step_seconds = ga * (micro + STEP_OVERHEAD_S) + update
    basis["seconds_per_step"] = Translatable(N_("prior: {gflop} GFLOP per micro-batch (mean padded {tokens} tokens) at {speed}"),
                                             gflop=f"{profile.train_flops / 1e9:,.1f}",
                                             tokens=f"{profile.source:.0f}/{profile.target:.0f}", speed=speed.basis)
    floor = dispatch_floor(shape, checkpointing)
    if speed.on_gpu and micro <= floor:
        basis["seconds_per_step"] = Translatable(
            N_("{prior}; but at least {floor} ms per micro-batch on a GPU: {layers} layers x {dispatch} ms for one Python thread "
               "to launch their kernels (measured on an H100 host; calibrate for this machine's figure)"),
            prior=basis["seconds_per_step"], floor=f"{floor * 1000:.0f}", layers=shape.num_layers + shape.num_decoder_layers,
            dispatch=f"{GPU_LAYER_DISPATCH_S * 1000:.1f}")
    return _StepTiming(step_seconds, micro, update, speed.matmul_flops, speed, profile)


def _time_step(preset: Preset, shape: ModelShape, lengths: TokenLengths, speed: Speed, s_per_step: float | None,
               calibration: CalibrationResult | None, basis: dict[str, str]) -> _StepTiming:
    """Seconds per optimizer step: the user's measurement, else a calibration, else the prior."""
    checkpointing = preset["model.gradient_checkpointing"]
    processes = priced_processes(preset["train.processes"])[0]
    ga = plan_processes(preset["train.batch_size"], preset["train.grad_accum"], processes).grad_accum  # per process
    profile = batch_profile(shape, lengths.train, preset["train.batch_size"], checkpointing,
                            preset["train.group_by_length"], preset["data.seed"])
    micro, update = prior_step_seconds(shape, profile, preset, speed)
    if s_per_step is not None:
        return _time_step_given(s_per_step, profile, micro, update, ga, speed, basis)
    if calibration is not None:
        return _time_step_calibrated(calibration, profile, ga, speed, basis)
    return _time_step_prior(shape, checkpointing, profile, micro, update, ga, speed, basis)


def _decode_seconds(preset: Preset, shape: ModelShape, profile: BatchProfile, batches: int, eval_batch: int, new_tokens: int,
                    timing: _StepTiming, calibration: CalibrationResult | None, beams: int | None = None) -> tuple[float, str]:
    """Autoregressive generation of every eval batch: calibrated per token, else the slower of
    its FLOPs and reading the decoder's weights once per token. `beams`: eval.num_beams unless given."""
    beams = beams or preset["eval.num_beams"]
    if calibration is not None and calibration.decode_token_seconds:
        per_token = calibration.decode_token_seconds * beams
        return batches * (new_tokens * per_token + calibration.generate_fixed_seconds), Translatable(N_("calibrated decode step"))
    flops = sum(decode_step_flops(shape, eval_batch * beams, int(profile.source), p) for p in range(1, new_tokens + 1))
    memory_bound = new_tokens * decoder_weight_count(shape) * FP32 / timing.speed.memory_bps
    overhead = new_tokens * shape.num_decoder_layers * DECODE_OVERHEAD_S
    encoder = profile.forward_flops / 3 / timing.flops_speed  # generate's encoder pass: about a third of a loss forward
    return batches * (max(flops / timing.flops_speed, memory_bound) + overhead + encoder), \
        Translatable(N_("each token reads the decoder and the LM head once"))


def _eval_seconds(preset: Preset, shape: ModelShape, lengths: TokenLengths, val_rows: int, timing: _StepTiming,
                  calibration: CalibrationResult | None) -> tuple[float, str]:
    """One evaluation: a loss forward over every validation row, plus autoregressive decoding up
    to the generation limit when `predict_with_generate` is on (Seq2SeqTrainer does both)."""
    if val_rows == 0:
        return 0.0, Translatable(N_("no validation rows"))
    eval_batch = preset["eval.batch_size"] or preset["train.batch_size"]
    batches = math.ceil(val_rows / eval_batch)
    profile = batch_profile(shape, lengths.validation or lengths.train, eval_batch, seed=preset["data.seed"], draws=EVAL_PROFILE_DRAWS)
    if calibration is not None and calibration.eval_batch_seconds:
        per_batch = calibration.eval_batch_seconds * profile.forward_flops / max(calibration.eval_flops, 1.0)
    else:
        logits = EVAL_LOGITS_PASSES * profile.batch * profile.target * shape.vocab_size * FP32
        per_batch = profile.forward_flops / timing.flops_speed + logits / timing.speed.memory_bps
    seconds = batches * per_batch
    figures = {"rows": f"{val_rows:,}", "batches": f"{batches:,}", "size": eval_batch}
    if not preset["eval.predict_with_generate"]:
        return seconds, Translatable(N_("{rows} rows in {batches} batches of {size}, loss forward"), **figures)
    new_tokens = preset["eval.generation_max_tokens"] or preset["train.max_target_tokens"]
    decode, how = _decode_seconds(preset, shape, profile, batches, eval_batch, new_tokens, timing, calibration)
    return seconds + decode, Translatable(N_("{rows} rows in {batches} batches of {size}, loss forward + generation of up to "
                                             "{tokens} tokens x {beams} beam(s) per batch ({how})"),
                                          **figures, tokens=new_tokens, beams=preset["eval.num_beams"], how=how)


def _samples_seconds(preset: Preset, shape: ModelShape, lengths: TokenLengths, val_rows: int, timing: _StepTiming,
                     calibration: CalibrationResult | None) -> tuple[float, str]:
    """The `eval.samples` rows written out at one evaluation: one row at a time, greedy, up to the
    generation limit (the trainer's sample callback), priced as decoding like generate-eval."""
    rows = min(preset["eval.samples"], val_rows)
    if rows == 0:
        return 0.0, ""
    new_tokens = preset["eval.generation_max_tokens"] or preset["train.max_target_tokens"]
    profile = batch_profile(shape, lengths.validation or lengths.train, 1, seed=preset["data.seed"], draws=EVAL_PROFILE_DRAWS)
    seconds, how = _decode_seconds(preset, shape, profile, rows, 1, new_tokens, timing, calibration, beams=1)
    return seconds, Translatable(N_("{rows} sample row(s) written out one at a time, greedy, up to {tokens} tokens each ({how})"),
                                 rows=rows, tokens=new_tokens, how=how)


def _time_evaluations(preset: Preset, shape: ModelShape, lengths: TokenLengths, counts: _Counts, timing: _StepTiming,
                      calibration: CalibrationResult | None, basis: dict[str, str]) -> tuple[int, float]:
    """(evaluations, their seconds); no validation rows: the trainer does not evaluate."""
    n_evals = evaluations(preset, counts.steps) if counts.validation_rows else 0
    each, how = _eval_seconds(preset, shape, lengths, counts.validation_rows, timing, calibration)
    samples, samples_how = _samples_seconds(preset, shape, lengths, counts.validation_rows, timing, calibration)
    if samples_how:
        each, how = each + samples, Translatable("{evaluation} + {samples}", evaluation=how, samples=samples_how)
    basis["eval_seconds"] = (Translatable(N_("{evaluations} evaluation(s) x {seconds} s ({how})"), evaluations=n_evals,
                                          seconds=f"{each:.3g}", how=how) if n_evals else Translatable(N_("no evaluation")))
    return n_evals, n_evals * each


def _price_saving(preset: Preset, shape: ModelShape, steps: int, speed: Speed, calibration: CalibrationResult | None,
                  basis: dict[str, str]) -> _Saving:
    """Checkpoints and the final model: seconds to write them and the disk they hold."""
    ckpt, ckpt_basis = checkpoint_bytes(preset, shape, steps)
    saves = checkpoint_saves(preset, steps)
    kept = preset["save.checkpoints_kept"]
    disk_bps = calibration.disk_bps if calibration is not None and calibration.disk_bps else speed.disk_bps
    seconds = (saves * ckpt.total + ckpt.final_model) / disk_bps
    basis["save_seconds"] = Translatable(N_("{saves} checkpoint(s) + the final model at {speed} MB/s"), saves=saves,
                                         speed=f"{disk_bps / 1e6:.0f}")
    basis["checkpoint_bytes"] = ckpt_basis
    # The Trainer writes checkpoint N before deleting the oldest beyond save_total_limit.
    at_once = min(saves - 1, kept) + 1 if saves else 0
    during = at_once * ckpt.total
    final_disk = min(saves, kept) * ckpt.total + ckpt.final_model
    basis["peak_disk_bytes"] = Translatable(N_("{at_once} checkpoint(s) on disk while the newest is written (save_total_limit "
                                               "{kept}), or {at_end} + the final model at the end, whichever is more"),
                                            at_once=at_once, kept=kept, at_end=min(saves, kept))
    basis["final_disk_bytes"] = Translatable(N_("{kept} checkpoint(s) kept + the final model (weights, tokenizer, configs)"),
                                             kept=min(saves, kept))
    return _Saving(ckpt, saves, seconds, max(during, final_disk), final_disk)


def _peak_memory(preset: Preset, shape: ModelShape, timing: _StepTiming, basis: dict[str, str]) -> int:
    """Peak training memory; on a GPU as its own counter (nvidia-smi, Task Manager) shows it."""
    memory, memory_basis = training_memory(preset, shape, timing.profile)
    if timing.speed.on_gpu:
        memory, memory_basis = as_gpu_counter_shows(memory, memory_basis)
    basis["peak_memory_bytes"] = memory_basis
    return memory


def _startup_seconds(lengths: TokenLengths, calibration: CalibrationResult | None, basis: dict[str, str]) -> float:
    """Start-up before the first step: imports and the model (calibrated or assumed), then tokenising."""
    rows = lengths.train_total + lengths.validation_total
    tokenise = rows * TOKENISE_S_PER_ROW
    if calibration is None:
        basis["startup_seconds"] = Translatable(N_("assumed {seconds} s to start + tokenising at {per_row} ms/row"),
                                                seconds=f"{STARTUP_S:g}", per_row=f"{TOKENISE_S_PER_ROW * 1000:g}")
        return STARTUP_S + tokenise
    basis["startup_seconds"] = Translatable(
        N_("calibrated: {startup} s to import torch and build the model, {warmup} s first-step warm-up; + {setup} s Trainer "
           "set-up + tokenising {rows} rows (assumed {per_row} ms/row)"), startup=f"{calibration.startup_seconds:.3g}",
        warmup=f"{calibration.warmup_seconds:.3g}", setup=f"{TRAINER_SETUP_S:g}", rows=f"{rows:,}",
        per_row=f"{TOKENISE_S_PER_ROW * 1000:g}")
    return calibration.startup_seconds + calibration.warmup_seconds + TRAINER_SETUP_S + tokenise


def estimate(preset: Preset, train_rows: int | None = None, s_per_step: float | None = None,
             calibration: CalibrationResult | None = None, validation_rows: int | None = None,
             lengths: TokenLengths | None = None, device: DeviceProfile | None = None) -> Estimate:
    """Price a preset. `train_rows`/`validation_rows` price a dataset of that many rows (the
    preset's count/fraction applies to it; lengths still come from the rows present);
    `s_per_step` is a measured seconds per optimizer step; `calibration` a probe at this shape."""
    shape, shape_basis = shape_for(preset)
    if lengths is None:
        lengths = TokenLengths.for_preset(preset)
    if shape.tied_lm_head:
        params_basis = Translatable(N_("{shape}; tied LM head"), shape=shape_basis)
    else:
        params_basis = Translatable(N_("{shape}; untied LM head ({vocab} x {width})"), shape=shape_basis,
                                    vocab=f"{shape.vocab_size:,}", width=shape.d_model)
    basis: dict[str, str] = {"params": params_basis, "tokens": lengths.basis}
    basis["vocab_size"] = vocabulary_basis(shape, shape_basis)

    counts = _count_steps(preset, lengths, train_rows, validation_rows, basis)
    timing = _time_step(preset, shape, lengths, Speed.from_profile(device), s_per_step, calibration, basis)
    processes = process_cost(preset["train.processes"], preset["train.batch_size"], preset["train.grad_accum"],
                             param_count(shape), timing.speed.on_gpu)
    basis["processes"] = processes.basis
    if processes.allreduce_seconds and s_per_step is None:  # a measured s/step already holds it
        timing = replace(timing, step_seconds=timing.step_seconds * processes.shared_device + processes.allreduce_seconds)
        figures = {"basis": basis["seconds_per_step"], "seconds": f"{processes.allreduce_seconds:.3g}",
                   "processes": processes.plan.processes}
        if processes.shared_device > 1:
            basis["seconds_per_step"] = Translatable(N_("{basis} x {shared} (processes sharing the CPU); + {seconds} s gradient "
                                                        "all-reduce across {processes} processes"), **figures,
                                                     shared=processes.shared_device)
        else:
            basis["seconds_per_step"] = Translatable(N_("{basis}; + {seconds} s gradient all-reduce across {processes} processes"),
                                                     **figures)
    train_seconds = counts.steps * timing.step_seconds
    basis["train_seconds"] = Translatable(N_("{steps} optimizer steps x {seconds} s/step"), steps=f"{counts.steps:,}",
                                          seconds=f"{timing.step_seconds:.3g}")
    n_evals, eval_seconds = _time_evaluations(preset, shape, lengths, counts, timing, calibration, basis)
    saving = _price_saving(preset, shape, counts.steps, timing.speed, calibration, basis)
    memory = _peak_memory(preset, shape, timing, basis)
    startup = _startup_seconds(lengths, calibration, basis)
    basis["total_seconds"] = Translatable(N_("start-up + training + evaluation + saving"))
    return Estimate(
        preset=preset.name,
        params=param_count(shape),
        vocab_size=shape.vocab_size,
        train_rows=counts.rows,
        validation_rows=counts.validation_rows,
        optimizer_steps=counts.steps,
        seconds_per_step=timing.step_seconds,
        train_seconds=train_seconds,
        eval_seconds=eval_seconds,
        save_seconds=saving.seconds,
        startup_seconds=startup,
        total_seconds=startup + train_seconds + eval_seconds + saving.seconds,
        evaluations=n_evals,
        checkpoints=saving.saves,
        peak_memory_bytes=memory,
        checkpoint_bytes=saving.checkpoint.total,
        peak_disk_bytes=saving.peak_disk,
        final_disk_bytes=saving.final_disk,
        device=calibration.device if calibration is not None else timing.speed.device,
        basis=basis,
        details={
            "shape": shape.as_dict(),
            "processes": processes.plan.processes,
            "grad_accum_per_process": processes.plan.grad_accum,
            "allreduce_seconds": processes.allreduce_seconds,
            "mean_padded_source": timing.profile.source,
            "mean_padded_target": timing.profile.target,
            "train_flops_per_micro_batch": timing.profile.train_flops,
            "micro_batch_seconds": timing.micro,
            "update_seconds": timing.update,
            "checkpoint_files": asdict(saving.checkpoint),
            "final_model_bytes": saving.checkpoint.final_model,
        },
    )
