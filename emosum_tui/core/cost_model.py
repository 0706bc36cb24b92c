"""The cost model: what a preset will cost, in optimizer steps, seconds, memory and bytes.

The user's hand-made table said "2-3 hours"; the run took 145. This module replaces the table
with a model of the real work: the parameter count from the model's shape, optimizer steps
counted the way the installed Trainer counts them, FLOPs from the data's real token lengths
padded per batch the way `DataCollatorForSeq2Seq` pads them (encoder, decoder,
cross-attention and the 250,112-way LM head), evaluation (loss-only or autoregressive
generation), checkpoint bytes file by file, memory and disk. Seconds come from a device
throughput: a prior from a matmul probe, replaced by a calibration at the preset's exact
shape when there is one, or by a measured s/step the user gives. Every figure carries its
basis. Torch-free: the console imports this.
"""

from __future__ import annotations

import math
import random
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emosum_tui.core.model_shapes import ModelShape, shape_for
from emosum_tui.core.sampling import rows_for, subsample_indices

if TYPE_CHECKING:
    from emosum_tui.core.calibration import CalibrationResult, DeviceProfile

FP32 = 4

# ---------------------------------------------------------------------------------------------
# Parameters.


def param_count(shape: ModelShape) -> int:
    """Parameters of an mT5 (T5 v1.1) of this shape, as `model.num_parameters()` counts them.

    Embedding shared by encoder and decoder, bias-free projections, RMS layer norms (one
    weight vector each), a relative-position bias in the first layer of each stack, and the
    LM head counted separately when it is untied (the real google/mt5-* checkpoints).
    """
    d, inner, ff = shape.d_model, shape.inner, shape.d_ff
    ff_mats = 3 if shape.gated else 2
    attention = 4 * d * inner
    feed_forward = ff_mats * d * ff
    bias = shape.relative_attention_num_buckets * shape.num_heads
    encoder = shape.num_layers * (attention + feed_forward + 2 * d) + bias + d
    decoder = shape.num_decoder_layers * (2 * attention + feed_forward + 3 * d) + bias + d
    embedding = shape.vocab_size * d
    lm_head = 0 if shape.tied_lm_head else shape.vocab_size * d
    return embedding + encoder + decoder + lm_head


def tensor_shapes(shape: ModelShape) -> list[tuple[int, ...]]:
    """Shapes of the saved weight tensors (what Adafactor factors and safetensors headers list)."""
    d, inner, ff = shape.d_model, shape.inner, shape.d_ff
    ff_in = [(ff, d)] * (2 if shape.gated else 1)
    out: list[tuple[int, ...]] = [(shape.vocab_size, d)]
    for stack, layers in (("enc", shape.num_layers), ("dec", shape.num_decoder_layers)):
        for layer in range(layers):
            attention_blocks = 1 if stack == "enc" else 2
            for _ in range(attention_blocks):
                out += [(inner, d)] * 3 + [(d, inner), (d,)]
            if layer == 0:
                out.append((shape.relative_attention_num_buckets, shape.num_heads))
            out += [*ff_in, (d, ff), (d,)]
        out.append((d,))
    if not shape.tied_lm_head:
        out.append((shape.vocab_size, d))
    return out


# ---------------------------------------------------------------------------------------------
# Optimizer steps, exactly as transformers' Trainer counts them.


def optimizer_steps(rows: int, batch_size: int, grad_accum: int, epochs: float, drop_last: bool = False, max_steps: int = -1) -> int:
    """Optimizer steps of a Trainer run (transformers 5 `Trainer.set_initial_training_values`).

    The dataloader has ceil(rows / batch) micro-batches (floor with `dataloader_drop_last`);
    an epoch has ceil(batches / grad_accum) optimizer steps, the last one taking the partial
    accumulation; the run has ceil(epochs x steps per epoch) of them unless max_steps > 0.
    """
    if max_steps > 0:
        return max_steps
    batches = rows // batch_size if drop_last else math.ceil(rows / batch_size)
    per_epoch = max(batches // grad_accum + int(batches % grad_accum > 0), 1)
    return math.ceil(epochs * per_epoch)


def evaluations(preset: Any, steps: int) -> int:
    """How many times the Trainer evaluates: every `eval.steps` plus once at the end when the
    last step is not a multiple (transformers 5 DefaultFlowCallback), or once per epoch."""
    strategy = preset["eval.strategy"]
    if strategy == "no":
        return 0
    if strategy == "epoch":
        return math.ceil(preset["train.epochs"])
    return math.ceil(steps / preset["eval.steps"])


def checkpoint_saves(preset: Any, steps: int) -> int:
    """Checkpoints written: every `save.steps`, plus one at the last step (DefaultFlowCallback)."""
    return math.ceil(steps / preset["save.steps"])


# ---------------------------------------------------------------------------------------------
# FLOPs.


def forward_flops(shape: ModelShape, batch: int, source: int, target: int) -> float:
    """Matmul FLOPs of one forward pass over a padded batch (2 per multiply-add).

    Encoder: projections, attention scores and values (S^2), gated FF. Decoder: self-attention
    (T^2), cross-attention (queries over T, keys/values over S, scores T x S), FF. LM head:
    2 x d x V per target token, which dominates mT5 at short lengths.
    """
    d, inner, ff, vocab = shape.d_model, shape.inner, shape.d_ff, shape.vocab_size
    ff_flops = 2 * (3 if shape.gated else 2) * d * ff
    proj = 2 * 4 * d * inner
    encoder = shape.num_layers * batch * source * (proj + ff_flops + 4 * source * inner)
    decoder_self = batch * target * (proj + 4 * target * inner)
    cross = batch * (target * (2 * 2 * d * inner + 4 * source * inner) + source * 2 * 2 * d * inner)
    decoder = shape.num_decoder_layers * (decoder_self + cross + batch * target * ff_flops)
    head = batch * target * 2 * d * vocab
    return float(encoder + decoder + head)


def train_flops(shape: ModelShape, batch: int, source: int, target: int, checkpointing: bool = False) -> float:
    """Forward + backward (backward = 2 x forward); gradient checkpointing re-runs the stacks."""
    forward = forward_flops(shape, batch, source, target)
    head = batch * target * 2 * shape.d_model * shape.vocab_size
    return 3 * forward + ((forward - head) if checkpointing else 0.0)


def decode_step_flops(shape: ModelShape, batch: int, source: int, position: int) -> float:
    """One generated token for a batch with the KV cache: new query against the cache."""
    d, inner, ff = shape.d_model, shape.inner, shape.d_ff
    ff_flops = 2 * (3 if shape.gated else 2) * d * ff
    per_layer = 2 * 4 * d * inner + 4 * position * inner + 2 * 2 * d * inner + 4 * source * inner + ff_flops
    return float(batch * (shape.num_decoder_layers * per_layer + 2 * d * shape.vocab_size))


# ---------------------------------------------------------------------------------------------
# Token lengths and batches.


@dataclass(frozen=True)
class TokenLengths:
    """Clipped (source, target) token lengths of the rows a run trains and evaluates on."""

    train: list[tuple[int, int]]
    validation: list[tuple[int, int]]
    basis: str
    exact: bool
    train_total: int = 0  # good rows in the train file, before the preset's view
    validation_total: int = 0

    @classmethod
    def for_preset(cls, preset: Any, build_tokenizer: bool = True) -> TokenLengths:
        """Lengths from the real data (the lead's token report), the preset's row view applied."""
        from emosum_tui.core.token_stats import token_report

        report = token_report(preset, build_tokenizer=build_tokenizer)
        train_all = report.train.clipped(report.max_source, report.max_target)
        keep = subsample_indices(len(train_all), preset["data.train_samples"], preset["data.train_fraction"], preset["data.seed"])
        train = [train_all[i] for i in keep]
        validation: list[tuple[int, int]] = []
        if report.validation is not None:
            val_all = report.validation.clipped(report.max_source, report.max_target)
            keep = subsample_indices(len(val_all), preset["data.validation_samples"], 1.0, preset["data.seed"])
            validation = [val_all[i] for i in keep]
        total_val = len(report.validation.source) if report.validation is not None else 0
        return cls(train, validation, report.basis, report.exact, len(train_all), total_val)

    @classmethod
    def at_max(cls, preset: Any, rows: int = 64) -> TokenLengths:
        """No data: every row at the max lengths (an upper bound, said so in the basis)."""
        row = (preset["train.max_source_tokens"], preset["train.max_target_tokens"])
        return cls([row] * rows, [row] * rows, "no data: every row at the max lengths", False, rows, rows)


@dataclass(frozen=True)
class BatchProfile:
    """Mean cost of one micro-batch, averaged over batches drawn like the Trainer draws them."""

    batch: int
    source: float  # mean padded source length (DataCollatorForSeq2Seq pads to the longest row)
    target: float
    tokens: float  # mean non-padding tokens per batch
    forward_flops: float
    train_flops: float
    peak_source: int  # the longest row: the batch that sets peak memory
    peak_target: int


def batch_profile(shape: ModelShape, rows: list[tuple[int, int]], batch: int, checkpointing: bool = False,
                  group_by_length: bool = False, seed: int = 42, draws: int = 600) -> BatchProfile:
    """Shuffle the rows (seeded, as the Trainer's random sampler does), cut them into batches,
    pad each to its longest row, and average the cost. `group_by_length` sorts mega-batches
    of 50 batches by length first, as transformers' LengthGroupedSampler does."""
    if not rows:
        rows = [(1, 1)]
    rng = random.Random(seed)
    batches: list[list[tuple[int, int]]] = []
    while len(batches) < draws:
        order = list(rows)
        rng.shuffle(order)
        if group_by_length:
            mega = 50 * batch
            order = [r for i in range(0, len(order), mega) for r in sorted(order[i:i + mega], key=sum, reverse=True)]
        batches += [order[i:i + batch] for i in range(0, len(order), batch) if len(order[i:i + batch]) == min(batch, len(rows))]
    batches = batches[:draws]
    fwd = tr = src = tgt = tok = 0.0
    for group in batches:
        s = max(r[0] for r in group)
        t = max(r[1] for r in group)
        n = len(group)
        src += s
        tgt += t
        tok += sum(a + b for a, b in group)
        fwd += forward_flops(shape, n, s, t)
        tr += train_flops(shape, n, s, t, checkpointing)
    k = len(batches)
    return BatchProfile(batch, src / k, tgt / k, tok / k, fwd / k, tr / k, max(r[0] for r in rows), max(r[1] for r in rows))


# ---------------------------------------------------------------------------------------------
# Bytes: checkpoints, memory, disk.

# Small files of a checkpoint, measured on transformers 5.23 / torch 2.13 saves (tests check them).
RNG_STATE_BYTES = 15_500  # rng_state.pth on CPU (+ ~1 KB per CUDA device)
SCHEDULER_BYTES = 1_500
TRAINING_ARGS_BYTES = 7_000
CONFIG_BYTES = 1_600  # config.json + generation_config.json
TRAINER_STATE_BASE = 1_600
TRAINER_STATE_PER_LOG = 200
TENSOR_RECORD_BYTES = 200  # torch.save zip record overhead per tensor (header, alignment, directory)
SAFETENSORS_PER_TENSOR = 110  # JSON header entry per tensor
# What transformers 5 writes for google/mt5-* tokenizers (tokenizer.json + tokenizer_config.json).
MT5_TOKENIZER_BYTES = 16_330_369 + 2_400


def weights_bytes(shape: ModelShape, bytes_per_param: int = FP32) -> int:
    """model.safetensors: the unique weights in their dtype (fp32 as trained) plus the header."""
    tensors = tensor_shapes(shape)
    return param_count(shape) * bytes_per_param + SAFETENSORS_PER_TENSOR * len(tensors) + 8


def optimizer_state_bytes(shape: ModelShape, optimizer: str) -> tuple[int, str]:
    """optimizer.pt: AdamW keeps two fp32 moments per parameter; Adafactor (beta1=None) keeps
    factored second moments, a row and a column vector per matrix."""
    tensors = tensor_shapes(shape)
    if optimizer == "adafactor":
        floats = sum((t[0] + t[1]) if len(t) == 2 else t[0] for t in tensors)
        return floats * FP32 + len(tensors) * (TENSOR_RECORD_BYTES * 2 + 60), "Adafactor: row + column second moments per matrix"
    moments = 2 * param_count(shape) * FP32
    return moments + len(tensors) * (3 * TENSOR_RECORD_BYTES + 80), "AdamW: 2 fp32 moments per parameter (8 B/param)"


def tokenizer_bytes(preset: Any) -> tuple[int, str]:
    """What `tokenizer.save_pretrained` writes: tokenizer.json (pieces + scores + the
    normaliser's precompiled charsmap, base64) and tokenizer_config.json."""
    if preset.builds_model_from_config:
        from emosum_tui.core.tokenizer_files import find_spiece

        spiece = find_spiece(preset, build=False)
        if spiece is not None:
            return _tokenizer_json_bytes(spiece.read_bytes()) + 2_400, f"tokenizer.json sized from {spiece.name}"
        vocab = preset["model.tokenizer_vocab_size"]
        return 330_000 + 45 * vocab, "tokenizer.json assumed (tokenizer not built yet)"
    local = Path(preset["model.name"]).expanduser()
    if local.is_dir():  # a local model folder carries its own tokenizer, not necessarily mT5's
        saved, spiece = local / "tokenizer.json", local / "spiece.model"
        if saved.is_file():
            return saved.stat().st_size + 2_400, f"tokenizer.json of {local.name} ({saved.stat().st_size / 1e6:.1f} MB)"
        if spiece.is_file():
            return _tokenizer_json_bytes(spiece.read_bytes()) + 2_400, f"tokenizer.json sized from {local.name}/spiece.model"
    return MT5_TOKENIZER_BYTES, "mT5 tokenizer.json as transformers 5 saves it (16.3 MB)"


def _tokenizer_json_bytes(spiece_model: bytes) -> int:
    from sentencepiece import sentencepiece_model_pb2

    proto = sentencepiece_model_pb2.ModelProto()
    proto.ParseFromString(spiece_model)
    charsmap = len(proto.normalizer_spec.precompiled_charsmap)
    pieces = sum(len(p.piece.encode("utf-8")) + len(repr(p.score)) + 24 for p in proto.pieces)
    return 4 * math.ceil(charsmap / 3) + pieces + 3_000


@dataclass(frozen=True)
class CheckpointBytes:
    """One `checkpoint-N/` folder, file by file."""

    weights: int
    optimizer: int
    tokenizer: int
    small: int  # scheduler, rng state, trainer state, training args, configs
    spiece: int = 0  # the SentencePiece model our trainer copies next to the final model

    @property
    def total(self) -> int:
        return self.weights + self.optimizer + self.tokenizer + self.small

    @property
    def final_model(self) -> int:
        """What the trainer leaves in `<output_dir>/final`: weights, tokenizer, configs, spiece.model."""
        return self.weights + self.tokenizer + CONFIG_BYTES + TRAINING_ARGS_BYTES + self.spiece


def checkpoint_bytes(preset: Any, shape: ModelShape, steps: int) -> tuple[CheckpointBytes, str]:
    weights = weights_bytes(shape)
    optim, optim_basis = optimizer_state_bytes(shape, preset["train.optimizer"])
    tok, tok_basis = tokenizer_bytes(preset)
    logs = steps // preset["save.logging_steps"] + evaluations(preset, steps)
    small = RNG_STATE_BYTES + SCHEDULER_BYTES + TRAINING_ARGS_BYTES + CONFIG_BYTES + TRAINER_STATE_BASE + TRAINER_STATE_PER_LOG * logs
    basis = f"weights fp32 4 B/param; {optim_basis}; {tok_basis}; small files ~{small // 1000} KB"
    from emosum_tui.core.tokenizer_files import find_spiece

    spiece = find_spiece(preset, build=False)
    return CheckpointBytes(weights, optim, tok, small, spiece.stat().st_size if spiece is not None else 0), basis


def training_memory(preset: Any, shape: ModelShape, profile: BatchProfile) -> tuple[int, str]:
    """Peak training memory: weights, grads, optimizer state by optimizer and precision, and the
    activations of the longest batch (those kept for backward, plus the LM head's logits)."""
    params = param_count(shape)
    optimizer = preset["train.optimizer"]
    precision = preset["train.precision"]
    per_param = {"adamw": 16, "adafactor": 8}[optimizer]
    if precision in ("bf16", "fp16"):
        per_param += 2  # autocast's half-precision weight copies
    b = preset["train.batch_size"]
    s, t = profile.peak_source, profile.peak_target
    d, inner, ff, h = shape.d_model, shape.inner, shape.d_ff, shape.num_heads
    act_bytes = 2 if precision in ("bf16", "fp16") else 4
    # Per token per layer, what autograd keeps: layer-norm in/out, q/k/v/out, FF hidden
    # (3 x d_ff when gated), plus attention probabilities and dropout masks (heads x keys).
    enc_layer = b * s * ((6 * d + 4 * inner + 4 * ff) * act_bytes + h * s * (2 * act_bytes + 1))
    dec_layer = b * t * ((9 * d + 8 * inner + 4 * ff) * act_bytes + h * t * (2 * act_bytes + 1) + h * s * (2 * act_bytes + 1))
    if preset["model.gradient_checkpointing"]:
        stacks = shape.num_layers * b * s * d * act_bytes + shape.num_decoder_layers * b * t * d * act_bytes + max(enc_layer, dec_layer)
    else:
        stacks = shape.num_layers * enc_layer + shape.num_decoder_layers * dec_layer
    logits = 3 * b * t * shape.vocab_size * FP32  # logits, log-softmax and its gradient, fp32
    total = params * per_param + stacks + logits
    basis = (f"{per_param} B/param ({optimizer}, {precision}) + activations of the longest batch "
             f"{b}x{s}/{t} tokens + fp32 logits {b}x{t}x{shape.vocab_size}")
    return int(total), basis


# ---------------------------------------------------------------------------------------------
# The estimate.


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
    device: str = ""
    basis: dict[str, str] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# With nothing measured on this machine: a modest CPU, said so in every basis that uses it.
ASSUMED_FLOPS = 20e9
ASSUMED_MEMORY_BPS = 5e9
ASSUMED_DISK_BPS = 200e6
DECODE_OVERHEAD_S = 0.002  # per generated token per decoder layer: Python and kernel launches
STARTUP_S = 8.0  # import torch + transformers + datasets, build the model (prior)
TRAINER_SETUP_S = 1.0  # datasets, Seq2SeqTrainer and accelerate set-up beyond the probe's start-up
TOKENISE_S_PER_ROW = 0.001  # datasets.map with the fast tokenizer, per row (train + validation)
STEP_OVERHEAD_S = 0.005  # per micro-batch: collating, Trainer bookkeeping, callbacks (measured: demo, best of 35 steps)
# On a GPU one Python thread launches every kernel of a micro-batch; with mT5's small
# micro-batches the GPU waits for it. Measured on an H100 80GB (2026-11-23, bench/bench_gpu.py,
# bf16 autocast, 16-vCPU VM host): 5.7-6.7 ms per layer per micro-batch, forward + backward,
# whatever the rows (1, 2 or 8) for mt5-small and mt5-base, where FLOPs alone said 4-8x less.
# A host with faster cores launches faster: calibration measures this machine.
GPU_LAYER_DISPATCH_S = 6.3e-3
# What NVML (nvidia-smi, Task Manager) counts beyond the tensors: torch's caching allocator keeps
# freed blocks reserved (micro-batches of varying padded shapes fragment it) and the CUDA context
# takes its own share. Measured on the same H100: NVML used / tensor estimate = x1.20-1.23 at
# micro-batches of 1-4 rows (fast, full, original), x1.63 at 8 rows.
GPU_ALLOCATOR_RESERVE = 1.2
CUDA_CONTEXT_BYTES = 512 * 2**20


@dataclass(frozen=True)
class Speed:
    """How fast this machine does each kind of work, and what that rests on."""

    matmul_flops: float
    memory_bps: float
    disk_bps: float
    device: str
    basis: str

    @property
    def on_gpu(self) -> bool:
        """A GPU's figures (the probe names a CPU "cpu (N threads)"; "unknown" = nothing probed)."""
        return not self.device.startswith("cpu") and self.device != "unknown"

    @classmethod
    def from_profile(cls, profile: DeviceProfile | None) -> Speed:
        if profile is None:
            return cls(ASSUMED_FLOPS, ASSUMED_MEMORY_BPS, ASSUMED_DISK_BPS, "unknown",
                       f"assumed {ASSUMED_FLOPS / 1e9:.0f} GFLOP/s (no probe of this machine yet)")
        return cls(profile.matmul_flops, profile.memory_bps, profile.disk_bps, profile.device,
                   f"matmul probe of {profile.device}: {profile.matmul_flops / 1e9:.1f} GFLOP/s")


def dispatch_floor(shape: ModelShape, checkpointing: bool) -> float:
    """Seconds a GPU micro-batch takes at least: its layers' kernels launched one by one
    (a recomputed forward with gradient checkpointing: a third more)."""
    layers = shape.num_layers + shape.num_decoder_layers
    return layers * GPU_LAYER_DISPATCH_S * (4 / 3 if checkpointing else 1.0)


def prior_step_seconds(shape: ModelShape, profile: BatchProfile, preset: Any, speed: Speed) -> tuple[float, float]:
    """(seconds per micro-batch, seconds of the optimizer update) from FLOPs and bytes moved."""
    logits_bytes = 6 * profile.batch * profile.target * shape.vocab_size * FP32
    micro = profile.train_flops / speed.matmul_flops + logits_bytes / speed.memory_bps
    if speed.on_gpu:
        micro = max(micro, dispatch_floor(shape, preset["model.gradient_checkpointing"]))
    per_param = 36 if preset["train.optimizer"] == "adamw" else 20  # read/write p, g, moments; zero grad; clip
    update = param_count(shape) * per_param / speed.memory_bps
    return micro, update


def estimate(preset: Any, train_rows: int | None = None, s_per_step: float | None = None,
             calibration: CalibrationResult | None = None, validation_rows: int | None = None,
             lengths: TokenLengths | None = None, device: DeviceProfile | None = None) -> Estimate:
    """Price a preset. `train_rows`/`validation_rows` price a dataset of that many rows (the
    preset's count/fraction applies to it; lengths still come from the rows present);
    `s_per_step` is a measured seconds per optimizer step; `calibration` a probe at this shape."""
    shape, shape_basis = shape_for(preset)
    if lengths is None:
        lengths = TokenLengths.for_preset(preset)
    speed = Speed.from_profile(device)
    basis: dict[str, str] = {"params": shape_basis, "tokens": lengths.basis}

    params = param_count(shape)
    tied = "tied LM head" if shape.tied_lm_head else f"untied LM head ({shape.vocab_size:,} x {shape.d_model})"
    basis["params"] = f"{shape_basis}; {tied}"

    # Rows and steps.
    present_train = lengths.train_total
    total_train = train_rows if train_rows is not None else present_train
    rows = rows_for(total_train, preset["data.train_samples"], preset["data.train_fraction"])
    total_val = validation_rows if validation_rows is not None else lengths.validation_total
    val_rows = rows_for(total_val, preset["data.validation_samples"], 1.0)
    b, ga, epochs = preset["train.batch_size"], preset["train.grad_accum"], preset["train.epochs"]
    steps = optimizer_steps(rows, b, ga, epochs)
    view = f"{rows:,} of {total_train:,} rows" + (" (--train-rows)" if train_rows is not None else "")
    basis["optimizer_steps"] = (f"{view}, batch {b} x grad-accum {ga}, {epochs:g} epochs: "
                                f"ceil(ceil({rows}/{b})/{ga}) x {epochs:g} as transformers' Trainer counts")

    # Seconds per optimizer step.
    checkpointing = preset["model.gradient_checkpointing"]
    train_profile = batch_profile(shape, lengths.train, b, checkpointing, preset["train.group_by_length"], preset["data.seed"])
    micro, update = prior_step_seconds(shape, train_profile, preset, speed)
    flops_speed = speed.matmul_flops
    if s_per_step is not None:
        step_seconds = s_per_step
        flops_speed = ga * train_profile.train_flops / max(s_per_step - update, 1e-9)
        # The step was measured on the user's machine: assume its memory is as much faster or
        # slower than the prior as its arithmetic is (for decoding, which is memory-bound).
        scale = flops_speed / speed.matmul_flops
        speed = replace(speed, matmul_flops=flops_speed, memory_bps=speed.memory_bps * scale,
                        basis=f"{flops_speed / 1e9:.1f} GFLOP/s implied by the given s/step")
        basis["seconds_per_step"] = f"given: {s_per_step:g} s/step (measured by you)"
    elif calibration is not None:
        scale = train_profile.train_flops / max(calibration.micro_flops, 1.0)
        micro = calibration.micro_batch_seconds * scale
        update = calibration.update_seconds
        step_seconds = ga * (micro + STEP_OVERHEAD_S) + update
        flops_speed = calibration.micro_flops / max(calibration.micro_batch_seconds, 1e-9)
        basis["seconds_per_step"] = (f"calibrated on {calibration.device}: {calibration.micro_batch_seconds:.3g} s per micro-batch "
                                     f"(x{scale:.2f} for this data's padding) x {ga} + {update:.3g} s update "
                                     f"+ {STEP_OVERHEAD_S * 1000:g} ms Trainer overhead per micro-batch")
    else:
        step_seconds = ga * (micro + STEP_OVERHEAD_S) + update
        basis["seconds_per_step"] = (f"prior: {train_profile.train_flops / 1e9:,.1f} GFLOP per micro-batch "
                                     f"(mean padded {train_profile.source:.0f}/{train_profile.target:.0f} tokens) at {speed.basis}")
        floor = dispatch_floor(shape, checkpointing)
        if speed.on_gpu and micro <= floor:
            layers = shape.num_layers + shape.num_decoder_layers
            basis["seconds_per_step"] += (f"; but at least {floor * 1000:.0f} ms per micro-batch on a GPU: {layers} layers x "
                                          f"{GPU_LAYER_DISPATCH_S * 1000:.1f} ms for one Python thread to launch their kernels "
                                          "(measured on an H100 host; calibrate for this machine's figure)")
    train_seconds = steps * step_seconds
    basis["train_seconds"] = f"{steps:,} optimizer steps x {step_seconds:.3g} s/step"

    # Evaluation.
    n_evals = evaluations(preset, steps) if val_rows else 0  # no validation rows: the trainer does not evaluate
    eval_seconds_each, eval_basis = _eval_seconds(preset, shape, lengths, val_rows, speed, flops_speed, calibration)
    eval_seconds = n_evals * eval_seconds_each
    basis["eval_seconds"] = f"{n_evals} evaluation(s) x {eval_seconds_each:.3g} s ({eval_basis})" if n_evals else "no evaluation"

    # Bytes.
    ckpt, ckpt_basis = checkpoint_bytes(preset, shape, steps)
    saves = checkpoint_saves(preset, steps)
    kept = preset["save.checkpoints_kept"]
    disk_bps = calibration.disk_bps if calibration is not None and calibration.disk_bps else speed.disk_bps
    save_seconds = (saves * ckpt.total + ckpt.final_model) / disk_bps
    basis["save_seconds"] = f"{saves} checkpoint(s) + the final model at {disk_bps / 1e6:.0f} MB/s"
    basis["checkpoint_bytes"] = ckpt_basis
    # The Trainer writes checkpoint N before deleting the oldest beyond save_total_limit.
    during = (min(saves - 1, kept) + 1) * ckpt.total if saves else 0
    final_disk = min(saves, kept) * ckpt.total + ckpt.final_model
    at_once = min(saves - 1, kept) + 1 if saves else 0
    basis["peak_disk_bytes"] = (f"{at_once} checkpoint(s) on disk while the newest is written (save_total_limit {kept}), "
                                f"or {min(saves, kept)} + the final model at the end, whichever is more")
    basis["final_disk_bytes"] = f"{min(saves, kept)} checkpoint(s) kept + the final model (weights, tokenizer, configs)"
    memory, memory_basis = training_memory(preset, shape, train_profile)
    if speed.on_gpu:  # what nvidia-smi / Task Manager will show, not only what tensors hold
        memory, memory_basis = int(memory * GPU_ALLOCATOR_RESERVE + CUDA_CONTEXT_BYTES), (
            f"{memory_basis}; x{GPU_ALLOCATOR_RESERVE:g} for torch's caching allocator + "
            f"{CUDA_CONTEXT_BYTES / 2**30:.1f} GiB CUDA context, as the GPU's own counter shows it")
    basis["peak_memory_bytes"] = memory_basis

    tokenise = (present_train + lengths.validation_total) * TOKENISE_S_PER_ROW
    if calibration is not None:
        startup = calibration.startup_seconds + calibration.warmup_seconds + TRAINER_SETUP_S + tokenise
        basis["startup_seconds"] = (f"calibrated: {calibration.startup_seconds:.3g} s to import torch and build the model, "
                                    f"{calibration.warmup_seconds:.3g} s first-step warm-up; + {TRAINER_SETUP_S:g} s Trainer set-up "
                                    f"+ tokenising {present_train + lengths.validation_total:,} rows (assumed {TOKENISE_S_PER_ROW * 1000:g} ms/row)")
    else:
        startup = STARTUP_S + tokenise
        basis["startup_seconds"] = f"assumed {STARTUP_S:g} s to start + tokenising at {TOKENISE_S_PER_ROW * 1000:g} ms/row"
    total = startup + train_seconds + eval_seconds + save_seconds
    basis["total_seconds"] = "start-up + training + evaluation + saving"
    return Estimate(
        preset=preset.name,
        params=params,
        train_rows=rows,
        validation_rows=val_rows,
        optimizer_steps=steps,
        seconds_per_step=step_seconds,
        train_seconds=train_seconds,
        eval_seconds=eval_seconds,
        save_seconds=save_seconds,
        startup_seconds=startup,
        total_seconds=total,
        evaluations=n_evals,
        checkpoints=saves,
        peak_memory_bytes=memory,
        checkpoint_bytes=ckpt.total,
        peak_disk_bytes=max(during, final_disk),
        final_disk_bytes=final_disk,
        device=calibration.device if calibration is not None else speed.device,
        basis=basis,
        details={
            "shape": shape.as_dict(),
            "mean_padded_source": train_profile.source,
            "mean_padded_target": train_profile.target,
            "train_flops_per_micro_batch": train_profile.train_flops,
            "micro_batch_seconds": micro,
            "update_seconds": update,
            "checkpoint_files": asdict(ckpt),
            "final_model_bytes": ckpt.final_model,
        },
    )


def _eval_seconds(preset: Any, shape: ModelShape, lengths: TokenLengths, val_rows: int, speed: Speed,
                  flops_speed: float, calibration: CalibrationResult | None) -> tuple[float, str]:
    """One evaluation: a loss forward over every validation row, plus autoregressive decoding up
    to the generation limit when `predict_with_generate` is on (Seq2SeqTrainer does both)."""
    if val_rows == 0:
        return 0.0, "no validation rows"
    eval_batch = preset["eval.batch_size"] or preset["train.batch_size"]
    batches = math.ceil(val_rows / eval_batch)
    profile = batch_profile(shape, lengths.validation or lengths.train, eval_batch, seed=preset["data.seed"], draws=200)
    if calibration is not None and calibration.eval_batch_seconds:
        per_batch = calibration.eval_batch_seconds * profile.forward_flops / max(calibration.eval_flops, 1.0)
    else:
        logits = 2 * profile.batch * profile.target * shape.vocab_size * FP32
        per_batch = profile.forward_flops / flops_speed + logits / speed.memory_bps
    seconds = batches * per_batch
    text = f"{val_rows:,} rows in {batches:,} batches of {eval_batch}, loss forward"
    if preset["eval.predict_with_generate"]:
        new_tokens = preset["eval.generation_max_tokens"] or preset["train.max_target_tokens"]
        beams = preset["eval.num_beams"]
        if calibration is not None and calibration.decode_token_seconds:
            per_token = calibration.decode_token_seconds * beams
            decode = batches * (new_tokens * per_token + calibration.generate_fixed_seconds)
            how = "calibrated decode step"
        else:
            mean_source = int(profile.source)
            flops = sum(decode_step_flops(shape, eval_batch * beams, mean_source, p) for p in range(1, new_tokens + 1))
            ff_mats = 3 if shape.gated else 2
            decoder = shape.num_decoder_layers * (8 * shape.d_model * shape.inner + ff_mats * shape.d_model * shape.d_ff)
            weight_bytes = (decoder + shape.vocab_size * shape.d_model) * FP32
            memory_bound = new_tokens * weight_bytes / speed.memory_bps
            overhead = new_tokens * shape.num_decoder_layers * DECODE_OVERHEAD_S
            decode = batches * (max(flops / flops_speed, memory_bound) + overhead + profile.forward_flops / 3 / flops_speed)
            how = "each token reads the decoder and the LM head once"
        seconds += decode
        text += f" + generation of up to {new_tokens} tokens x {beams} beam(s) per batch ({how})"
    return seconds, text


def with_values(preset: Any, changes: dict[str, Any]) -> Any:
    """A copy of a preset with some values changed (the decomposition walks one key at a time)."""
    values = dict(preset.values)
    values.update(changes)
    return replace(preset, values=values)


def decompose(base: Any, other: Any, **kwargs: Any) -> list[Any]:
    """The speed-up factors from `base` to `other` (see `emosum_tui.core.decompose`)."""
    from emosum_tui.core.decompose import decompose as factors

    return factors(base, other, **kwargs)
