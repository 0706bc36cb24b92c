"""Vocabulary trimming: s/step, checkpoint bytes and peak memory of mT5 with all 250,112 pieces vs
a trimmed vocabulary, side by side in one run.

Config-built models at the published mt5-small and mt5-base shapes (untied LM head, as mT5), so
no download is needed; fp32 AdamW, one micro-batch of `--batch` rows padded to the bundled
sample's median source and target lengths (mT5-like ≈4 characters a token); each configuration
in a fresh process (its own peak RSS), a warm-up step, then `--steps` timed steps (median).

The kept count is an input (`--kept`, default 25,000): the pieces mT5's tokenizer uses on the
user's full data are counted by the trainer when it trims; this machine has no mT5 tokenizer.
Checkpoint bytes = weights + both AdamW moments, summed over the tensors a save writes.

    .venv/bin/python bench/bench_trim.py [--steps 2] [--kept 25000] [--shapes small,base]

Last line: `RESULT small x<s/step ratio> ckpt x<ratio> rss x<ratio>; base …` (targets: small ≥ 2.5, base ≥ 1.6).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(CHECKOUT))

MT5_VOCAB = 250_112
SHAPES = {
    "small": dict(d_model=512, d_ff=1024, d_kv=64, num_layers=8, num_decoder_layers=8, num_heads=6),
    "base": dict(d_model=768, d_ff=2048, d_kv=64, num_layers=12, num_decoder_layers=12, num_heads=12),
}
CHARS_PER_TOKEN = 4.0  # mT5's SentencePiece on this English text (core.token_stats uses the same ratio)


def data_lengths() -> tuple[int, int]:
    """Median source and target tokens of the bundled train file."""
    from emosum_tui.core.data import PairFields, read_pairs

    pairs = read_pairs(CHECKOUT / "emosum_tui" / "builtin" / "data" / "train" / "Emotion_Summary.jsonl", PairFields()).pairs
    source = statistics.median(len(p.source) for p in pairs) / CHARS_PER_TOKEN
    target = statistics.median(len(p.target) for p in pairs) / CHARS_PER_TOKEN
    return round(source) + 1, round(target) + 1


def measure(shape: str, vocab: int, batch: int, source: int, target: int, steps: int) -> dict[str, float]:
    """One configuration, in this process: median s/step, checkpoint bytes, peak RSS."""
    import torch
    from transformers import MT5Config, MT5ForConditionalGeneration

    torch.manual_seed(0)
    config = MT5Config(vocab_size=vocab, tie_word_embeddings=False, decoder_start_token_id=0, **SHAPES[shape])
    model = MT5ForConditionalGeneration(config)
    model.lm_head.weight = torch.nn.Parameter(torch.randn_like(model.shared.weight))  # untied, as in google/mt5-*
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    inputs = torch.randint(3, vocab, (batch, source))
    labels = torch.randint(3, vocab, (batch, target))
    seconds = []
    for step in range(steps + 1):
        started = time.perf_counter()
        loss = model(input_ids=inputs, attention_mask=torch.ones_like(inputs), labels=labels).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if step:  # the first step allocates the optimizer state: a warm-up
            seconds.append(time.perf_counter() - started)
    tensors = list(model.state_dict().values())
    tensors += [t for state in optimizer.state_dict()["state"].values() for t in state.values() if torch.is_tensor(t)]
    return {
        "s_per_step": statistics.median(seconds),
        "params": sum(p.numel() for p in model.parameters()),
        "checkpoint_bytes": sum(t.numel() * t.element_size() for t in tensors),
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }


def run_child(shape: str, vocab: int, args: argparse.Namespace, source: int, target: int) -> dict[str, float]:
    command = [sys.executable, __file__, "--child", shape, str(vocab), "--batch", str(args.batch), "--steps", str(args.steps),
               "--lengths", f"{source},{target}"]
    out = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2, help="timed steps per configuration (after one warm-up)")
    parser.add_argument("--batch", type=int, default=4, help="rows per micro-batch")
    parser.add_argument("--kept", type=int, default=25_000, help="pieces kept by the trim")
    parser.add_argument("--shapes", default="small,base", help="comma-separated: small, base")
    parser.add_argument("--child", nargs=2, metavar=("SHAPE", "VOCAB"), help=argparse.SUPPRESS)
    parser.add_argument("--lengths", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        source, target = map(int, args.lengths.split(","))
        print(json.dumps(measure(args.child[0], int(args.child[1]), args.batch, source, target, args.steps)))
        return 0
    source, target = data_lengths()
    print(f"batch {args.batch} x {source} source / {target} target tokens, fp32 AdamW, {args.steps} timed steps; "
          f"trimmed = {args.kept:,} of {MT5_VOCAB:,} pieces")
    result = []
    for shape in args.shapes.split(","):
        full = run_child(shape, MT5_VOCAB, args, source, target)
        trim = run_child(shape, args.kept, args, source, target)
        for label, row in (("full", full), ("trimmed", trim)):
            print(f"  mt5-{shape:5} {label:8} {row['s_per_step']:7.2f} s/step  {row['params'] / 1e6:7.1f} M params  "
                  f"checkpoint {row['checkpoint_bytes'] / 2**30:5.2f} GiB  peak RSS {row['peak_rss_bytes'] / 2**30:5.2f} GiB")
        speed = full["s_per_step"] / trim["s_per_step"]
        ckpt = full["checkpoint_bytes"] / trim["checkpoint_bytes"]
        rss = full["peak_rss_bytes"] / trim["peak_rss_bytes"]
        result.append(f"{shape} x{speed:.2f} s/step, ckpt x{ckpt:.2f} smaller, rss x{rss:.2f} smaller")
    print("RESULT " + "; ".join(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
