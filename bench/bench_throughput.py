"""Non-padding tokens/s of the real trainer, before vs after the speed defaults, side by side.

"before" is the trainer with the speed switches as they were before they existed (no compile,
no TF32, the unfused AdamW, padding to a multiple of 8 only in bf16/fp16); "after" is the
defaults (compile, TF32, fused AdamW and padding to 8 where there is a GPU; off on a CPU, where
"auto" leaves compile off), and "compiled" forces `train.compile = "on"` (on a CPU: what auto
saves you from). Each variant is a real `emosum-tui train --headless` run in its own process on
a config-built model with the bundled sample's tokenizer, at two shapes:

  demo  the demo preset's tiny mT5 (64 wide, 2+2 layers, vocab 600), batch 8, 128/128 tokens
  mid   a mid-size mT5 (384 wide, d_ff 1,024, 4+4 layers, 6 heads, vocab 4,000), batch 8, 256/256 tokens

Figures from the run's own events: tokens/s = non-padding tokens / seconds over the steady steps
(the first `WARM_STEPS` steps of each run are left out: they allocate and compile), median
s/step, and the compile time (the "compiling" phases). The last line is `RESULT ...`.

    python bench/bench_throughput.py [--shapes demo mid] [--variants before after compiled] [--rows N]
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_estimate import private_home

WARM_STEPS = 2
SHAPES = {
    "demo": 'extends = "demo"\n',
    "mid": ('extends = "demo"\n[model]\nname = "bench-mid-mt5"\ntokenizer_vocab_size = 4000\n'
            "config = { d_model = 384, d_ff = 1024, d_kv = 64, num_layers = 4, num_decoder_layers = 4, num_heads = 6 }\n"
            "[train]\nmax_source_tokens = 256\nmax_target_tokens = 256\n"),
}
VARIANTS = {
    "before": '[train]\ncompile = "off"\ntf32 = false\nfused_optimizer = false\npad_to_multiple_of = {pad}\n',
    "after": "",
    "compiled": '[train]\ncompile = "on"\n',
}
COMMON = '[data]\ntrain_samples = {rows}\n[train]\nepochs = 1\nbatch_size = 8\ngrad_accum = 1\n[eval]\nstrategy = "no"\n[save]\nsteps = 100000\nlogging_steps = 1000\n'


def merge(*parts: str) -> str:
    """TOML fragments joined, each [table] once (later keys win)."""
    tables: dict[str, dict[str, str]] = {"": {}}
    current = ""
    for part in parts:
        for line in part.splitlines():
            line = line.strip()
            if not line:
                continue
            if line.startswith("["):
                current = line.strip("[]")
                tables.setdefault(current, {})
                continue
            key = line.split("=", 1)[0].strip()
            tables[current][key] = line
    out = list(tables.pop("").values())
    for name, lines in tables.items():
        out += [f"[{name}]", *lines.values()]
    return "\n".join(out) + "\n"


def run(home: Path, name: str) -> dict[str, float]:
    from emosum_tui.core.events import EVENTS_FILE, Phase, StepEnd, read_events

    run_dir = home / "runs" / name
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "emosum_tui", "train", name, "--headless", "--run-dir", str(run_dir)],
                          env=dict(os.environ), capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{name} failed:\n{done.stderr[-3000:]}")
    events = read_events(run_dir / EVENTS_FILE)
    steps = [e for e in events if isinstance(e, StepEnd)]
    steady = steps[WARM_STEPS:] or steps
    seconds = sum(e.step_seconds for e in steady)
    tokens = sum(e.tokens_per_second * e.step_seconds for e in steady)
    phases = [e for e in events if isinstance(e, Phase)]
    compile_s = sum(b.t - a.t for a, b in itertools.pairwise(phases) if a.name == "compiling")
    return {"tokens_per_s": tokens / seconds if seconds else 0.0, "s_step": statistics.median(e.step_seconds for e in steady),
            "steps": len(steps), "compile_s": compile_s, "wall_s": wall}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shapes", nargs="+", default=list(SHAPES), choices=list(SHAPES))
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--rows", type=int, default=96, help="training rows per run (batch 8: rows / 8 steps)")
    args = parser.parse_args()
    import torch

    gpu = torch.cuda.is_available()
    where = torch.cuda.get_device_name(0) if gpu else f"cpu ({torch.get_num_threads()} threads)"
    # before: padding to 8 came with bf16/fp16, which "auto" picks on a GPU that has bf16
    pad = 8 if gpu and torch.cuda.is_bf16_supported() else 1
    results: dict[tuple[str, str], dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-throughput-") as tmp:
        home = private_home(Path(tmp))
        for shape in args.shapes:
            for variant in args.variants:
                name = f"{shape}-{variant}"
                text = merge(SHAPES[shape], COMMON.format(rows=args.rows), VARIANTS[variant].format(pad=pad))
                (home / "presets" / f"{name}.toml").write_text(f'description = "bench_throughput {name}"\n' + text,
                                                               encoding="utf-8")
                results[(shape, variant)] = figures = run(home, name)
                print(f"{name:<16} {figures['tokens_per_s']:>10,.0f} tokens/s  {figures['s_step']:.3f} s/step  "
                      f"compile {figures['compile_s']:.0f} s  ({figures['steps']:.0f} steps, {figures['wall_s']:.0f} s wall)",
                      flush=True)
    print(f"\nnon-padding tokens/s on {where} (steady steps; first {WARM_STEPS} left out)")
    print(f"  {'shape':<6}" + "".join(f"{v:>14}" for v in args.variants) + "   after/before")
    parts = []
    for shape in args.shapes:
        row = [results[(shape, v)]["tokens_per_s"] for v in args.variants]
        ratio = ""
        if "before" in args.variants and "after" in args.variants:
            gain = results[(shape, "after")]["tokens_per_s"] / results[(shape, "before")]["tokens_per_s"]
            ratio = f"x{gain:.2f}"
            parts.append(f"{shape}_after_vs_before x{gain:.3f}")
        print(f"  {shape:<6}" + "".join(f"{r:>14,.0f}" for r in row) + f"   {ratio}")
        parts += [f"{shape}_{v}_tokens_per_s {results[(shape, v)]['tokens_per_s']:.0f}" for v in args.variants]
        if "compiled" in args.variants:
            parts.append(f"{shape}_compile_s {results[(shape, 'compiled')]['compile_s']:.0f}")
    print(f"RESULT bench_throughput ({where}): " + " | ".join(parts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
