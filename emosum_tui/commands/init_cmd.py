"""`emosum-tui init [DIR]`: a starter workspace. Writes only files that are not there yet."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from emosum_tui.commands.terminal_text import error
from emosum_tui.i18n import _

STARTER_PRESET = '''# Your plan: it starts from the built-in `full` (mt5-base, 80% of the rows, 3 epochs, batch 2 x 4)
# and changes only what is written here. Uncomment a line to change that value.
#   emosum-tui presets show my-plan    every value, and where it comes from
#   emosum-tui estimate my-plan        steps, time, memory and disk on this machine
# A file here named like a built-in (full.toml) replaces it; `extends = "full"` in it still means the built-in.
extends = "full"
description = "My plan: full, with my changes"

# [model]
# name = "google/mt5-small"        # a hub name, or a local folder holding a model
# trim_vocabulary = true           # keep only the pieces the data uses: faster steps, smaller checkpoints

# [data]
# train_file = "data/train/Emotion_Summary.jsonl"          # relative to the workspace
# validation_file = "data/validation/Emotion_Summary.jsonl"
# train_samples = 5000             # 0 = every row (a seeded view: the file is never rewritten)

# [train]
# epochs = 2
# batch_size = 4                   # micro-batch; batch_size x grad_accum = the effective batch
# grad_accum = 2
# max_source_tokens = 512
# max_target_tokens = 512

# [eval]
# strategy = "epoch"               # no, steps or epoch
# predict_with_generate = false    # decoding every validation row at each evaluation is slow

# [save]
# output_dir = "model/{preset}"    # checkpoints and the final model
'''

DATA_README = '''# Data

The presets read, relative to the workspace:

    data/train/Emotion_Summary.jsonl         training rows
    data/validation/Emotion_Summary.jsonl    validation rows

One JSON object per line (JSON Lines, UTF-8; UTF-16 is read too), LongEmotion "Emotion Summary":

    {"id": 0, "case_description": ["..."], "consultation_process": ["Client: ...", "Counselor: ..."],
     "experience_and_reflection": "..."}

Check them before training (files are only read, never changed):

    emosum-tui data check

Until these files exist, the built-in presets read the bundled sample (a few hundred rows) and
say so. To try the whole loop offline on that sample: `emosum-tui --preset demo --start`.
'''

WORKSPACE_README = '''# emosum-tui workspace

    presets/   your presets (.toml); each may `extends` a built-in (original, full, fast, lean, demo)
    data/      your data (see data/README.md)
    runs/      one folder per run: event log, preset as run, trainer output
    model/     checkpoints and final models

Start here:

    emosum-tui                          the console: compare presets, estimate, train, watch
    emosum-tui --preset demo --start    the offline demo, about a minute on a CPU
    emosum-tui presets                  every preset, built-in and yours
    emosum-tui data check               is the data fit to train on?

Caches (token lengths, tokenizers, calibration) live in the user cache folder, or EMOSUM_CACHE.
'''

STARTER_FILES: dict[str, str] = {
    "README.md": WORKSPACE_README,
    "presets/my-plan.toml": STARTER_PRESET,
    "data/README.md": DATA_README,
}
STARTER_FOLDERS = ("presets", "data/train", "data/validation", "runs", "model")


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("init", help=_("write a starter workspace (never overwrites a file)"))
    parser.add_argument("folder", nargs="?", default=".", metavar="DIR", help=_("the workspace folder (default: the current one)"))
    parser.set_defaults(handler=run)


def write_workspace(root: Path) -> list[tuple[Path, bool]]:
    """Create the starter folders and files under `root`; returns (file, written) for each file,
    written False where a file was already there (it is left as it was)."""
    for folder in STARTER_FOLDERS:
        (root / folder).mkdir(parents=True, exist_ok=True)
    results = []
    for name, text in STARTER_FILES.items():
        path = root / name
        try:
            with path.open("x", encoding="utf-8", newline="\n") as handle:  # "x": never replaces a file
                handle.write(text)
        except FileExistsError:
            results.append((path, False))
        else:
            results.append((path, True))
    return results


def run(args: argparse.Namespace) -> int:
    root = Path(args.folder).expanduser()
    if root.exists() and not root.is_dir():
        error(_("{path}: exists and is not a folder").format(path=root))
        return 2
    try:
        results = write_workspace(root)
    except OSError as exc:
        error(_("{path}: cannot write the workspace: {problem}").format(path=root, problem=exc))
        return 2
    for path, written in results:
        print(_("wrote {path}").format(path=path) if written else _("kept  {path} (already there, not changed)").format(path=path))
    print(_("workspace ready: {path}").format(path=root.resolve()))
    print(_("next: put your data in data/ (see data/README.md), then run emosum-tui there"))
    return 0
