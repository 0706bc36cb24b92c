"""What a run occupies: each checkpoint folder file by file, and the peak training memory.

Checkpoint bytes decide the disk a run needs (the Trainer writes a new checkpoint before it
deletes the oldest); memory decides whether the plan fits the card or the RAM at all.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from emosum_tui.core.batch_profile import BatchProfile
from emosum_tui.core.model_flops import param_count, tensor_shapes
from emosum_tui.core.model_shapes import ModelShape
from emosum_tui.core.step_counts import evaluations
from emosum_tui.i18n import N_
from emosum_tui.i18n.phrase import Translatable

if TYPE_CHECKING:
    from emosum_tui.core.presets import Preset

FP32 = 4
HALF_PRECISIONS = ("bf16", "fp16")

# Small files of a checkpoint as transformers 5 / torch 2 save them (tests check them).
RNG_STATE_BYTES = 15_500  # rng_state.pth on CPU (+ ~1 KB per CUDA device)
SCHEDULER_BYTES = 1_500
TRAINING_ARGS_BYTES = 7_000
CONFIG_BYTES = 1_600  # config.json + generation_config.json
TRAINER_STATE_BASE = 1_600
TRAINER_STATE_PER_LOG = 200
TENSOR_RECORD_BYTES = 200  # torch.save zip record overhead per tensor (header, alignment, directory)
SAFETENSORS_PER_TENSOR = 110  # JSON header entry per tensor
SAFETENSORS_LENGTH_PREFIX = 8  # the header's length, before the header
# What `tokenizer.save_pretrained` writes beside tokenizer.json.
TOKENIZER_CONFIG_BYTES = 2_400
# tokenizer.json of the google/mt5-* tokenizers as transformers 5 writes it.
MT5_TOKENIZER_JSON_BYTES = 16_330_369
MT5_TOKENIZER_BYTES = MT5_TOKENIZER_JSON_BYTES + TOKENIZER_CONFIG_BYTES
# tokenizer.json of a tokenizer not trained yet: a fixed part plus this much per vocab entry.
UNBUILT_TOKENIZER_BASE_BYTES = 330_000
UNBUILT_TOKENIZER_BYTES_PER_PIECE = 45
TOKENIZER_JSON_FRAME_BYTES = 3_000  # tokenizer.json's fixed keys (added tokens, pre-tokenizer, decoder)
TOKENIZER_JSON_BYTES_PER_PIECE = 24  # quotes, brackets and separators around each piece and score


def weights_bytes(shape: ModelShape, bytes_per_param: int = FP32) -> int:
    """model.safetensors: the unique weights in their dtype (fp32 as trained) plus the header."""
    tensors = tensor_shapes(shape)
    return param_count(shape) * bytes_per_param + SAFETENSORS_PER_TENSOR * len(tensors) + SAFETENSORS_LENGTH_PREFIX


def optimizer_state_bytes(shape: ModelShape, optimizer: str) -> tuple[int, str]:
    """optimizer.pt: AdamW keeps two fp32 moments per parameter; Adafactor (beta1=None) keeps
    factored second moments, a row and a column vector per matrix."""
    tensors = tensor_shapes(shape)
    if optimizer == "adafactor":
        floats = sum((t[0] + t[1]) if len(t) == 2 else t[0] for t in tensors)
        basis = Translatable(N_("Adafactor: row + column second moments per matrix"))
        return floats * FP32 + len(tensors) * (TENSOR_RECORD_BYTES * 2 + 60), basis
    moments = 2 * param_count(shape) * FP32
    basis = Translatable(N_("AdamW: 2 fp32 moments per parameter (8 B/param)"))
    return moments + len(tensors) * (3 * TENSOR_RECORD_BYTES + 80), basis


def tokenizer_bytes(preset: Preset) -> tuple[int, str]:
    """What `tokenizer.save_pretrained` writes: tokenizer.json (pieces + scores + the
    normaliser's precompiled charsmap, base64) and tokenizer_config.json."""
    if preset.builds_model_from_config:
        from emosum_tui.core.tokenizer_files import find_spiece

        spiece = find_spiece(preset, build=False)
        if spiece is not None:
            return (_tokenizer_json_bytes(spiece.read_bytes()) + TOKENIZER_CONFIG_BYTES,
                    Translatable(N_("tokenizer.json sized from {file}"), file=spiece.name))
        vocab = preset["model.tokenizer_vocab_size"]
        return (UNBUILT_TOKENIZER_BASE_BYTES + UNBUILT_TOKENIZER_BYTES_PER_PIECE * vocab,
                Translatable(N_("tokenizer.json assumed (tokenizer not built yet)")))
    local = Path(preset["model.name"]).expanduser()
    if local.is_dir():  # a local model folder carries its own tokenizer, not necessarily mT5's
        saved, spiece = local / "tokenizer.json", local / "spiece.model"
        if saved.is_file():
            size = saved.stat().st_size
            return size + TOKENIZER_CONFIG_BYTES, Translatable(N_("tokenizer.json of {model} ({megabytes} MB)"), model=local.name,
                                                               megabytes=f"{size / 1e6:.1f}")
        if spiece.is_file():
            return (_tokenizer_json_bytes(spiece.read_bytes()) + TOKENIZER_CONFIG_BYTES,
                    Translatable(N_("tokenizer.json sized from {file}"), file=f"{local.name}/spiece.model"))
    return MT5_TOKENIZER_BYTES, Translatable(N_("mT5 tokenizer.json as transformers 5 saves it ({megabytes} MB)"),
                                             megabytes=f"{MT5_TOKENIZER_JSON_BYTES / 1e6:.1f}")


def _tokenizer_json_bytes(spiece_model: bytes) -> int:
    """tokenizer.json written from a SentencePiece model: the charsmap in base64, then each piece and score."""
    from sentencepiece import sentencepiece_model_pb2

    proto = sentencepiece_model_pb2.ModelProto()
    proto.ParseFromString(spiece_model)
    charsmap = len(proto.normalizer_spec.precompiled_charsmap)
    pieces = sum(len(p.piece.encode("utf-8")) + len(repr(p.score)) + TOKENIZER_JSON_BYTES_PER_PIECE for p in proto.pieces)
    return 4 * math.ceil(charsmap / 3) + pieces + TOKENIZER_JSON_FRAME_BYTES


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


def checkpoint_bytes(preset: Preset, shape: ModelShape, steps: int) -> tuple[CheckpointBytes, str]:
    """One checkpoint of this preset after `steps` optimizer steps (the trainer state grows with its log)."""
    from emosum_tui.core.tokenizer_files import find_spiece

    weights = weights_bytes(shape)
    optim, optim_basis = optimizer_state_bytes(shape, preset["train.optimizer"])
    tok, tok_basis = tokenizer_bytes(preset)
    logs = steps // preset["save.logging_steps"] + evaluations(preset, steps)
    small = RNG_STATE_BYTES + SCHEDULER_BYTES + TRAINING_ARGS_BYTES + CONFIG_BYTES + TRAINER_STATE_BASE + TRAINER_STATE_PER_LOG * logs
    basis = Translatable(N_("weights fp32 4 B/param; {optimizer}; {tokenizer}; small files ~{kilobytes} KB"),
                         optimizer=optim_basis, tokenizer=tok_basis, kilobytes=small // 1000)
    spiece = find_spiece(preset, build=False)
    return CheckpointBytes(weights, optim, tok, small, spiece.stat().st_size if spiece is not None else 0), basis


# Bytes per parameter held during training: weights + grads (+ AdamW's two moments), all fp32.
TRAIN_BYTES_PER_PARAM = {"adamw": 16, "adafactor": 8}
HALF_COPY_BYTES_PER_PARAM = 2  # autocast's half-precision weight copies


def training_memory(preset: Preset, shape: ModelShape, profile: BatchProfile) -> tuple[int, str]:
    """Peak training memory: weights, grads, optimizer state by optimizer and precision, and the
    activations of the longest batch (those kept for backward, plus the LM head's logits)."""
    params = param_count(shape)
    optimizer = preset["train.optimizer"]
    precision = preset["train.precision"]
    per_param = TRAIN_BYTES_PER_PARAM[optimizer]
    if precision in HALF_PRECISIONS:
        per_param += HALF_COPY_BYTES_PER_PARAM
    b = preset["train.batch_size"]
    s, t = profile.peak_source, profile.peak_target
    d, inner, ff, h = shape.d_model, shape.inner, shape.d_ff, shape.num_heads
    act_bytes = 2 if precision in HALF_PRECISIONS else FP32
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
    basis = Translatable(N_("{per_param} B/param ({optimizer}, {precision}) + activations of the longest batch {batch} tokens + "
                            "fp32 logits {logits}"), per_param=per_param, optimizer=optimizer, precision=precision,
                         batch=f"{b}x{s}/{t}", logits=f"{b}x{t}x{shape.vocab_size}")
    return int(total), basis


# What NVML (nvidia-smi, Task Manager) counts beyond the tensors: torch's caching allocator keeps
# freed blocks reserved (micro-batches of varying padded shapes fragment it) and the CUDA context
# takes its own share. Preflight compares with that counter, so the estimate includes both.
GPU_ALLOCATOR_RESERVE = 1.2
CUDA_CONTEXT_BYTES = 512 * 2**20


def as_gpu_counter_shows(memory: int, basis: str) -> tuple[int, str]:
    """Peak tensor memory as the GPU's own counter will show it: allocator reserve + CUDA context."""
    return int(memory * GPU_ALLOCATOR_RESERVE + CUDA_CONTEXT_BYTES), Translatable(
        N_("{basis}; x{reserve} for torch's caching allocator + {context} GiB CUDA context, as the GPU's own counter shows it"),
        basis=basis, reserve=f"{GPU_ALLOCATOR_RESERVE:g}", context=f"{CUDA_CONTEXT_BYTES / 2**30:.1f}")
