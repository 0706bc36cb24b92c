"""What each command's `--help` says beyond its options: a description and worked examples.

Kept in one place so every command reads alike and a test can check that none is missing. The
top-level help also lists the exit statuses and the environment variables, which every command
shares.
"""

from __future__ import annotations

import argparse
import textwrap
from dataclasses import dataclass


@dataclass(frozen=True)
class CommandHelp:
    description: str
    examples: tuple[str, ...]


WIDTH = 100

EXIT_STATUS = """exit status:
  0  done, nothing wrong found
  1  findings: bad rows, an error-level doctor finding (--strict), a broken preset among others, a failed run
  2  usage error, or input that cannot be read (no such preset, file or run; an empty or undecodable file)"""

ENVIRONMENT = """environment:
  EMOSUM_WORKSPACE  the workspace folder (presets/, data/, runs/, model/); default: the current folder
  EMOSUM_HOME       older name of EMOSUM_WORKSPACE, same meaning (EMOSUM_WORKSPACE wins)
  EMOSUM_CACHE      cache folder for token lengths, tokenizers, calibration, trimmed models;
                    default: the platform's user cache folder
  EMOSUM_WEBHOOK    URL that alerts are posted to (wins over a preset's [alerts] webhook)
  EMOSUM_STALL_AFTER  seconds after which a running step is called stalled (set by watch --stall-after)
  EMOSUM_CONSOLE_PRIORITY=normal  keep the console at normal priority (it yields to trainers by default)
  HF_HUB_OFFLINE=1  never reach the Hugging Face hub (models must be in its cache or local folders)"""

TOP_LEVEL = CommandHelp(
    "Fine-tune mT5 for LongEmotion Emotion Summary with honest estimates and live step timing. "
    "Without a command, opens the console on the presets of the workspace (the current folder).",
    (
        "emosum-tui --preset demo --start     # the console, training the offline demo at once",
        "emosum-tui init my-project           # a starter workspace",
        "emosum-tui --workspace my-project presets",
    ),
)

COMMAND_HELP: dict[str, CommandHelp] = {
    "init": CommandHelp(
        "Write a starter workspace in DIR (default: the current folder): a commented preset that extends "
        "`full`, the expected data layout with a note, runs/ and model/, and a short README. Files that "
        "exist are kept, never overwritten.",
        ("emosum-tui init my-project && cd my-project", "emosum-tui init    # here"),
    ),
    "presets": CommandHelp(
        "List the presets (the workspace's presets/*.toml and the built-ins; a workspace file with a "
        "built-in's name shadows it, and the list says so), or show one fully resolved with where each "
        "value comes from.",
        ("emosum-tui presets", "emosum-tui presets show fast", "emosum-tui presets show presets/mine.toml"),
    ),
    "data": CommandHelp(
        "Check data files before training on them. Files are only read, never changed.",
        ("emosum-tui data check", "emosum-tui data check --preset demo"),
    ),
    "data check": CommandHelp(
        "Validate JSON-lines files: bad rows as file:line: reason, duplicates, ids shared between train and "
        "validation, lengths, the preset's subsample view, token lengths and truncation at its max lengths, "
        "and low target diversity. UTF-16 files are read as they are; a file in another encoding, empty, "
        "or a JSON array is named as such with the command that converts it.",
        ("emosum-tui data check --preset demo", "emosum-tui data check data/train/Emotion_Summary.jsonl --json"),
    ),
    "estimate": CommandHelp(
        "Price presets before running them: optimizer steps, wall time, peak memory, checkpoint size, "
        "peak and final disk, each with its basis (model shapes, the data's token lengths, a measured probe "
        "on this machine).",
        ("emosum-tui estimate demo", "emosum-tui estimate full fast --vs original",
         "emosum-tui estimate full --train-rows 16485 --calibrate", "emosum-tui estimate fast --tune"),
    ),
    "train": CommandHelp(
        "Train one preset with the Hugging Face Seq2SeqTrainer. The run folder holds the event log, the "
        "preset as run, the trainer's output and the stop file; the console can attach to it at any time. "
        "Ctrl+C (or SIGTERM) stops after the current step with a checkpoint; --resume continues.",
        ("emosum-tui train demo --headless", "emosum-tui train full --run-dir runs/full-1",
         "emosum-tui train runs/full-1/preset.toml --run-dir runs/full-1 --resume"),
    ),
    "watch": CommandHelp(
        "Attach the console to a run, live or finished: the whole event log first, then what follows. "
        "Watching never changes the run; quitting leaves it running.",
        ("emosum-tui watch latest", "emosum-tui watch runs/full-1 --headless --notify"),
    ),
    "runs": CommandHelp(
        "List the runs under the workspace's runs/ as a table: preset, status, steps, final loss, duration.",
        ("emosum-tui runs", "emosum-tui runs --root /data/old-runs"),
    ),
    "doctor": CommandHelp(
        "Preflight: will this machine train this plan well? Checks torch's build against the GPU, CUDA vs "
        "driver, estimated peak memory vs free memory, disk, precision, the model's files and the data. "
        "With --run, explains a run instead: its live diagnoses and, when it failed, the smallest fix.",
        ("emosum-tui doctor --preset full", "emosum-tui doctor --json > doctor.json",
         "emosum-tui doctor --run latest --apply"),
    ),
    "generate": CommandHelp(
        "Generate reflections with a trained model for JSON-lines rows (a file or stdin); one "
        '{"id": ..., "prediction": ...} line per row on stdout, in input order.',
        ("emosum-tui generate runs/full-1 --input data/validation/Emotion_Summary.jsonl > predictions.jsonl",
         "cat rows.jsonl | emosum-tui generate model/demo/final"),
    ),
    "evaluate": CommandHelp(
        "ROUGE-1/2/L of a trained model on held-out rows, beside what always writing the most typical "
        "target scores (the targets are largely one template), with the generated length and the share "
        "of distinct predictions.",
        ("emosum-tui evaluate runs/full-1", "emosum-tui evaluate model/demo/final --data eval150.jsonl --limit 50 --json"),
    ),
    "try": CommandHelp(
        "Paste a case description or dialogue and watch a trained model's reflection stream; an empty line "
        "sends it, Ctrl+D (Ctrl+Z Enter on Windows) ends.",
        ("emosum-tui try runs/full-1", "emosum-tui try model/demo/final < dialogue.txt"),
    ),
}


def epilog(help_: CommandHelp, *extra: str) -> str:
    lines = ["examples:", *(f"  {example}" for example in help_.examples)]
    return "\n\n".join(["\n".join(lines), *extra])


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def apply_command_help(parser: argparse.ArgumentParser) -> None:
    """Give the top-level parser and every (nested) command its description and examples."""
    parser.description = textwrap.fill(TOP_LEVEL.description, WIDTH)
    parser.epilog = epilog(TOP_LEVEL, EXIT_STATUS, ENVIRONMENT)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    pending = [(name, sub) for name, sub in _subparsers(parser).items()]
    while pending:
        name, sub = pending.pop()
        help_ = COMMAND_HELP.get(name)
        if help_ is not None:
            sub.description = textwrap.fill(help_.description, WIDTH)
            sub.epilog = epilog(help_, "exit status: 0 ok, 1 findings, 2 usage or unreadable input (see emosum-tui --help)")
            sub.formatter_class = argparse.RawDescriptionHelpFormatter
        pending += [(f"{name} {child}", parser_) for child, parser_ in _subparsers(sub).items()]
