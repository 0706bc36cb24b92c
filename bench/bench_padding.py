"""Trainer efficiency: non-padding tokens/s of our trainer vs the user's first, statically padded script.

The user's first script tokenised one row at a time (`Dataset.map` without `batched`) with
`padding="max_length"` to 1024/512 tokens, so every sample cost a full 1,536-token forward and
backward whatever its real length. Our trainer tokenises in batches without padding and lets
`DataCollatorForSeq2Seq` pad each micro-batch to its own longest row (and, with
`group_by_length`, batches rows of similar length together).

Side by side in one run, each in a fresh process, same rows (the bundled sample, whose length
spread resembles the user's), same config-built mT5 (same seed, same weights), same shape as
`full` (1024/512 tokens, batch 2 x grad-accum 4), same number of optimizer steps:

  A. plain script: one-row map, `padding="max_length"`, `Seq2SeqTrainer` with the default collator;
  B. ours: `emosum-tui train PRESET --headless` (dynamic padding);
  C. ours with `group_by_length = true`.

Non-padding tokens = source attention mask + labels that are not -100, the same count for all
three (same rows, one epoch). Figures: training throughput (the optimizer steps only) and end
to end (tokenising + training). The model is small (d_model 256, d_ff 1024, 4+4 layers) so the
bench takes minutes on 2 cores; its SentencePiece vocab (4,000, trained on the sample) gives
lengths near mT5's own tokenizer.

    .venv/bin/python bench/bench_padding.py [--steps 5]

The last line prints the ratios B/A and C/A (target >= 2x).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[1]

PRESET = """
extends = "demo"
description = "bench_padding: full's shape (1024/512, 2 x 4) on a small config-built mT5"
[model]
config = {{ d_model = 256, d_ff = 1024, d_kv = 32, num_layers = 4, num_decoder_layers = 4, num_heads = 8 }}
tokenizer_vocab_size = 4000
[data]
train_samples = {rows}
[train]
epochs = 1
batch_size = 2
grad_accum = 4
max_source_tokens = 1024
max_target_tokens = 512
learning_rate = 5e-5
group_by_length = {group}
[eval]
strategy = "no"
[save]
logging_steps = 1
steps = 100000
"""

# The user's first script, as they wrote it (plus a clock): one-row tokenising, static padding.
PLAIN = r"""
import json, sys, time
from emosum_tui.core.presets import load_preset
from emosum_tui.trainer.dataset_loading import read_rows
from emosum_tui.trainer.model_loading import build_demo

preset = load_preset(sys.argv[1])
rows = read_rows(preset, lambda event: None).train
loaded = build_demo(preset)  # same seed, same weights as the trainer's
tokenizer, model = loaded.tokenizer, loaded.model
import datasets
from transformers import Seq2SeqTrainer, Seq2SeqTrainingArguments, TrainerCallback
datasets.disable_progress_bars()

started = time.perf_counter()
def preprocess(row):
    inputs = tokenizer(row["source"], max_length=1024, padding="max_length", truncation=True)
    labels = tokenizer(text_target=row["target"], max_length=512, padding="max_length", truncation=True)["input_ids"]
    inputs["labels"] = [t if t != tokenizer.pad_token_id else -100 for t in labels]
    return inputs
table = datasets.Dataset.from_dict({"source": [s for s, _ in rows], "target": [t for _, t in rows]})
data = table.map(preprocess, remove_columns=["source", "target"])
tokenise_seconds = time.perf_counter() - started
tokens = sum(sum(r["attention_mask"]) + sum(1 for t in r["labels"] if t != -100) for r in data)
padded = sum(len(r["input_ids"]) + len(r["labels"]) for r in data)

times = []
class Clock(TrainerCallback):
    def on_step_begin(self, args, state, control, **kw):
        self.t = time.perf_counter()
    def on_step_end(self, args, state, control, **kw):
        times.append(time.perf_counter() - self.t)

args = Seq2SeqTrainingArguments(
    output_dir=sys.argv[2], per_device_train_batch_size=2, gradient_accumulation_steps=4, num_train_epochs=1,
    learning_rate=5e-5, use_cpu=True, report_to=[], save_strategy="no", eval_strategy="no", disable_tqdm=True,
    logging_steps=1000, seed=preset["data.seed"],
)
Seq2SeqTrainer(model=model, args=args, train_dataset=data, callbacks=[Clock()]).train()
print("RESULT " + json.dumps({"tokenise_s": tokenise_seconds, "step_s": times, "tokens": tokens, "padded": padded}))
"""


def run_plain(home: Path, env: dict[str, str]) -> dict:
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", PLAIN, "padbench", str(home / "plain-out")], cwd=CHECKOUT, env=env,
                            capture_output=True, text=True, timeout=1800)
    wall = time.perf_counter() - started
    line = next((x for x in result.stdout.splitlines() if x.startswith("RESULT ")), None)
    if result.returncode != 0 or line is None:
        raise SystemExit(f"plain script failed ({result.returncode}):\n{result.stderr[-3000:]}")
    figures = json.loads(line[len("RESULT "):])
    figures["wall_s"] = wall
    return figures


def run_ours(home: Path, env: dict[str, str], preset: str) -> dict:
    from emosum_tui.core.events import EVENTS_FILE, Phase, StepEnd, read_events

    run_dir = home / "runs" / preset
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "emosum_tui", "train", preset, "--headless", "--run-dir", str(run_dir)],
                            cwd=CHECKOUT, env=env, capture_output=True, text=True, timeout=1800)
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"trainer failed ({result.returncode}):\n{result.stderr[-3000:]}")
    events = read_events(run_dir / EVENTS_FILE)
    steps = [e for e in events if isinstance(e, StepEnd)]
    tokenising = [e.t for e in events if isinstance(e, Phase) and e.name == "tokenising"]
    return {
        "tokenise_s": tokenising[-1] - tokenising[0] if tokenising else 0.0,
        "step_s": [e.step_seconds for e in steps],
        "tokens": round(sum(e.tokens_per_second * e.step_seconds for e in steps)),
        "wall_s": wall,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=5, help="optimizer steps per variant (8 rows each)")
    args = parser.parse_args()
    rows = args.steps * 8
    with tempfile.TemporaryDirectory(prefix="bench-padding-") as tmp:
        home = Path(tmp) / "home"
        (home / "presets").mkdir(parents=True)  # the built-ins come from the package
        shutil.copytree(CHECKOUT / "emosum_tui" / "builtin" / "data", home / "data")
        (home / "presets" / "padbench.toml").write_text(PRESET.format(rows=rows, group="false"), encoding="utf-8")
        (home / "presets" / "padbench-grouped.toml").write_text(PRESET.format(rows=rows, group="true"), encoding="utf-8")
        env = {**os.environ, "EMOSUM_HOME": str(home), "EMOSUM_CACHE": str(home / ".cache"), "HF_HUB_OFFLINE": "1",
               "PYTHONPATH": str(CHECKOUT)}
        env.pop("EMOSUM_FAULT", None)
        plain = run_plain(home, env)  # also trains the 4,000-piece tokenizer into the private cache, once
        ours = run_ours(home, env, "padbench")
        grouped = run_ours(home, env, "padbench-grouped")

    print(f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; {args.steps} optimizer steps x 8 rows, 1024/512 tokens")
    print(f"non-padding tokens: {plain['tokens']:,} of {plain['padded']:,} padded tokens in the plain script "
          f"({plain['tokens'] / plain['padded']:.0%} real)")
    rates = {}
    for name, figures in (("plain (static padding)", plain), ("ours (dynamic padding)", ours), ("ours + group_by_length", grouped)):
        train_s = sum(figures["step_s"])
        rate = figures["tokens"] / train_s
        end_to_end = figures["tokens"] / (train_s + figures["tokenise_s"])
        rates[name] = (rate, end_to_end, statistics.median(figures["step_s"][1:] or figures["step_s"]))
        print(f"{name:24s} s/step {[round(x, 2) for x in figures['step_s']]}, tokenising {figures['tokenise_s']:.2f} s, "
              f"{rate:,.0f} tokens/s training, {end_to_end:,.0f} tokens/s with tokenising, process {figures['wall_s']:.0f} s")
    if ours["tokens"] != plain["tokens"] or grouped["tokens"] != plain["tokens"]:
        print(f"note: token counts differ: plain {plain['tokens']}, ours {ours['tokens']}, grouped {grouped['tokens']}")
    base = rates["plain (static padding)"]
    dyn, grp = rates["ours (dynamic padding)"], rates["ours + group_by_length"]
    best = max(dyn[0], grp[0]) / base[0]
    print(
        f"RESULT tokens/s ours/plain x{dyn[0] / base[0]:.2f} (grouped x{grp[0] / base[0]:.2f}); "
        f"with tokenising x{dyn[1] / base[1]:.2f} (grouped x{grp[1] / base[1]:.2f}); "
        f"median s/step plain {base[2]:.2f} ours {dyn[2]:.2f} grouped {grp[2]:.2f}; "
        f"target >= x2: {'meets' if best >= 2 else 'MISSES'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
