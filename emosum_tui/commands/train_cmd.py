"""`emosum-tui train PRESET [--headless] [--run-dir DIR] [--resume]`: run one preset's training.

The console starts exactly this as a subprocess (`core.rundir.launch_trainer`) on the run's own
`preset.toml`, which keeps the preset's name in its first line. The preset is parsed once, here.
torch and transformers are imported only when the command runs, never when the CLI is built.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from emosum_tui.commands.terminal_text import error
from emosum_tui.i18n import _


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("train", help=_("train one preset (writes a run folder under runs/)"))  # description: help_text
    parser.add_argument("preset", help=_("preset name in presets/ or path to a .toml file"))
    parser.add_argument("--headless", action="store_true",
                        help=_("one plain line per logging step (servers, nohup), no progress bar"))
    parser.add_argument("--run-dir", type=Path, help=_("run folder to write (default: runs/<timestamp>-<preset>/)"))
    parser.add_argument("--resume", action="store_true", help=_("continue from the last checkpoint in the preset's output dir"))
    from emosum_tui.commands.train_group import add_group_arguments

    add_group_arguments(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from emosum_tui.core.presets import PresetError
    from emosum_tui.core.rundir import load_run_preset

    try:
        preset = load_run_preset(args.preset)
    except PresetError as exc:
        error(exc)
        return 2
    from emosum_tui.core.sample_notice import print_sample_notice

    print_sample_notice([preset])
    from emosum_tui.commands.train_group import launch_if_wanted

    code = launch_if_wanted(args, preset)  # several processes: a torchrun group, supervised from here
    if code is not None:
        return code
    from emosum_tui.i18n import ENGLISH, set_language
    from emosum_tui.trainer.run import run_training

    set_language(ENGLISH)  # from here on this process is the trainer: the run's log, status and errors stay English
    return run_training(preset, run_dir=args.run_dir, headless=args.headless, resume=args.resume, preset_ref=args.preset)
