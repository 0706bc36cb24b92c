"""The arithmetic of an mT5 of a given shape: its parameters, saved tensors and matmul FLOPs.

Counted from the shape alone (`ModelShape`), so the console prices a model it never builds.
FLOPs count 2 per multiply-add; the 250,112-way LM head is counted apart because it
dominates mT5 at short lengths.
"""

from __future__ import annotations

from emosum_tui.core.model_shapes import ModelShape


def _ff_matrices(shape: ModelShape) -> int:
    """Matrices of one feed-forward block: gated-GELU (T5 v1.1, mT5) has two inputs and an output."""
    return 3 if shape.gated else 2


def param_count(shape: ModelShape) -> int:
    """Parameters of an mT5 (T5 v1.1) of this shape, as `model.num_parameters()` counts them.

    Embedding shared by encoder and decoder, bias-free projections, RMS layer norms (one
    weight vector each), a relative-position bias in the first layer of each stack, and the
    LM head counted separately when it is untied (the real google/mt5-* checkpoints).
    """
    d, inner, ff = shape.d_model, shape.inner, shape.d_ff
    attention = 4 * d * inner
    feed_forward = _ff_matrices(shape) * d * ff
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


def lm_head_flops(shape: ModelShape, batch: int, target: int) -> int:
    """The LM head's share of a forward pass: 2 x d x V per target token."""
    return batch * target * 2 * shape.d_model * shape.vocab_size


def forward_flops(shape: ModelShape, batch: int, source: int, target: int) -> float:
    """Matmul FLOPs of one forward pass over a padded batch (2 per multiply-add).

    Encoder: projections, attention scores and values (S^2), gated FF. Decoder: self-attention
    (T^2), cross-attention (queries over T, keys/values over S, scores T x S), FF. LM head:
    2 x d x V per target token.
    """
    d, inner, ff = shape.d_model, shape.inner, shape.d_ff
    ff_flops = 2 * _ff_matrices(shape) * d * ff
    proj = 2 * 4 * d * inner
    encoder = shape.num_layers * batch * source * (proj + ff_flops + 4 * source * inner)
    decoder_self = batch * target * (proj + 4 * target * inner)
    cross = batch * (target * (2 * 2 * d * inner + 4 * source * inner) + source * 2 * 2 * d * inner)
    decoder = shape.num_decoder_layers * (decoder_self + cross + batch * target * ff_flops)
    return float(encoder + decoder + lm_head_flops(shape, batch, target))


def train_flops(shape: ModelShape, batch: int, source: int, target: int, checkpointing: bool = False) -> float:
    """Forward + backward (backward = 2 x forward); gradient checkpointing re-runs the stacks."""
    forward = forward_flops(shape, batch, source, target)
    head = lm_head_flops(shape, batch, target)
    return 3 * forward + ((forward - head) if checkpointing else 0.0)


def decode_step_flops(shape: ModelShape, batch: int, source: int, position: int) -> float:
    """One generated token for a batch with the KV cache: new query against the cache."""
    d, inner, ff = shape.d_model, shape.inner, shape.d_ff
    ff_flops = 2 * _ff_matrices(shape) * d * ff
    per_layer = 2 * 4 * d * inner + 4 * position * inner + 2 * 2 * d * inner + 4 * source * inner + ff_flops
    return float(batch * (shape.num_decoder_layers * per_layer + 2 * d * shape.vocab_size))


def decoder_weight_count(shape: ModelShape) -> int:
    """Weights one generated token reads: the decoder's matrices and the LM head."""
    decoder = shape.num_decoder_layers * (8 * shape.d_model * shape.inner + _ff_matrices(shape) * shape.d_model * shape.d_ff)
    return decoder + shape.vocab_size * shape.d_model
