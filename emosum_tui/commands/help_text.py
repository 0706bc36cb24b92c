"""What each command's `--help` says beyond its options: a description and worked examples.

Kept in one place so every command reads alike and a test can check that none is missing. The
top-level help also lists the exit statuses and the environment variables, which every command
shares. The texts are marked here and translated when the parser is built (the language is
chosen by then); an example's command stays as it is, only its comment is translated.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from emosum_tui.commands.terminal_text import fill
from emosum_tui.commands.translated_argparse import TranslatedHelpFormatter
from emosum_tui.i18n import N_, _

Example = str | tuple[str, str]  # a command, or (the command padded to its comment's column, the comment)


@dataclass(frozen=True)
class CommandHelp:
    description: str
    examples: tuple[Example, ...]


WIDTH = 100

EXIT_STATUS = (
    ("0", N_("done, nothing wrong found")),
    ("1", N_("findings: bad rows, an error-level doctor finding (--strict), a broken preset among others, a failed run")),
    ("2", N_("usage error, or input that cannot be read (no such preset, file or run; an empty or undecodable file)")),
)

ENVIRONMENT = (
    ("EMOSUM_WORKSPACE", N_("the workspace folder (presets/, data/, runs/, model/); default: the current folder")),
    ("EMOSUM_HOME", N_("older name of EMOSUM_WORKSPACE, same meaning (EMOSUM_WORKSPACE wins)")),
    ("EMOSUM_CACHE", N_("cache folder for token lengths, tokenizers, calibration, trimmed models;\n"
                        "default: the platform's user cache folder")),
    ("EMOSUM_LANG", N_("interface language, en or zh_CN (--lang wins); default: the system's language")),
    ("EMOSUM_WEBHOOK", N_("URL that alerts are posted to (wins over a preset's [alerts] webhook)")),
    ("EMOSUM_STALL_AFTER", N_("seconds after which a running step is called stalled (set by watch --stall-after)")),
    ("EMOSUM_CONSOLE_PRIORITY=normal", N_("keep the console at normal priority (it yields to trainers by default)")),
    ("HF_HUB_OFFLINE=1", N_("never reach the Hugging Face hub (models must be in its cache or local folders)")),
)
NAME_WIDTH = 16  # the environment variables' column; a longer name pushes its text two spaces on

TOP_LEVEL = CommandHelp(
    N_("Fine-tune mT5 for LongEmotion Emotion Summary with honest estimates and live step timing. "
       "Without a command, opens the console on the presets of the workspace (the current folder)."),
    (
        ("emosum-tui --preset demo --start     ", N_("the console, training the offline demo at once")),
        ("emosum-tui init my-project           ", N_("a starter workspace")),
        "emosum-tui --workspace my-project presets",
    ),
)

COMMAND_HELP: dict[str, CommandHelp] = {
    "init": CommandHelp(
        N_("Write a starter workspace in DIR (default: the current folder): a commented preset that extends "
           "`full`, the expected data layout with a note, runs/ and model/, and a short README. Files that "
           "exist are kept, never overwritten."),
        ("emosum-tui init my-project && cd my-project", ("emosum-tui init    ", N_("here"))),
    ),
    "presets": CommandHelp(
        N_("List the presets (the workspace's presets/*.toml and the built-ins; a workspace file with a "
           "built-in's name shadows it, and the list says so), or show one fully resolved with where each "
           "value comes from."),
        ("emosum-tui presets", "emosum-tui presets show fast", "emosum-tui presets show presets/mine.toml"),
    ),
    "data": CommandHelp(
        N_("Check data files before training on them. Files are only read, never changed."),
        ("emosum-tui data check", "emosum-tui data check --preset demo"),
    ),
    "data check": CommandHelp(
        N_("Validate JSON-lines files: bad rows as file:line: reason, duplicates, ids shared between train and "
           "validation, lengths, the preset's subsample view, token lengths and truncation at its max lengths, "
           "and low target diversity. UTF-16 files are read as they are; a file in another encoding, empty, "
           "or a JSON array is named as such with the command that converts it."),
        ("emosum-tui data check --preset demo", "emosum-tui data check data/train/Emotion_Summary.jsonl --json"),
    ),
    "estimate": CommandHelp(
        N_("Price presets before running them: optimizer steps, wall time, peak memory, checkpoint size, "
           "peak and final disk, each with its basis (model shapes, the data's token lengths, a measured probe "
           "on this machine)."),
        ("emosum-tui estimate demo", "emosum-tui estimate full fast --vs original",
         "emosum-tui estimate full --train-rows 16485 --calibrate", "emosum-tui estimate fast --tune"),
    ),
    "train": CommandHelp(
        N_("Train one preset with the Hugging Face Seq2SeqTrainer. The run folder holds the event log, the "
           "preset as run, the trainer's output and the stop file; the console can attach to it at any time. "
           "Ctrl+C (or SIGTERM) stops after the current step with a checkpoint; --resume continues."),
        ("emosum-tui train demo --headless", "emosum-tui train full --run-dir runs/full-1",
         "emosum-tui train runs/full-1/preset.toml --run-dir runs/full-1 --resume"),
    ),
    "watch": CommandHelp(
        N_("Attach the console to a run, live or finished: the whole event log first, then what follows. "
           "Watching never changes the run; quitting leaves it running."),
        ("emosum-tui watch latest", "emosum-tui watch runs/full-1 --headless --notify"),
    ),
    "runs": CommandHelp(
        N_("List the runs under the workspace's runs/ as a table: preset, status, steps, final loss, duration."),
        ("emosum-tui runs", "emosum-tui runs --root /data/old-runs"),
    ),
    "doctor": CommandHelp(
        N_("Preflight: will this machine train this plan well? Checks torch's build against the GPU, CUDA vs "
           "driver, estimated peak memory vs free memory, disk, precision, the model's files and the data. "
           "With --run, explains a run instead: its live diagnoses and, when it failed, the smallest fix."),
        ("emosum-tui doctor --preset full", "emosum-tui doctor --json > doctor.json",
         "emosum-tui doctor --run latest --apply"),
    ),
    "generate": CommandHelp(
        N_("Generate reflections with a trained model for JSON-lines rows (a file or stdin); one "
           '{"id": ..., "prediction": ...} line per row on stdout, in input order.'),
        ("emosum-tui generate runs/full-1 --input data/validation/Emotion_Summary.jsonl > predictions.jsonl",
         "cat rows.jsonl | emosum-tui generate model/demo/final"),
    ),
    "evaluate": CommandHelp(
        N_("ROUGE-1/2/L of a trained model on held-out rows, beside what always writing the most typical "
           "target scores (the targets are largely one template), with the generated length and the share "
           "of distinct predictions."),
        ("emosum-tui evaluate runs/full-1", "emosum-tui evaluate model/demo/final --data eval150.jsonl --limit 50 --json"),
    ),
    "try": CommandHelp(
        N_("Paste a case description or dialogue and watch a trained model's reflection stream; an empty line "
           "sends it, Ctrl+D (Ctrl+Z Enter on Windows) ends."),
        ("emosum-tui try runs/full-1", "emosum-tui try model/demo/final < dialogue.txt"),
    ),
}


def _example(example: Example) -> str:
    if isinstance(example, str):
        return f"  {example}"
    command, comment = example
    return f"  {command}# {_(comment)}"


def epilog(help_: CommandHelp, *extra: str) -> str:
    lines = [_("examples:"), *(_example(example) for example in help_.examples)]
    return "\n\n".join(["\n".join(lines), *extra])


def exit_status_text() -> str:
    return "\n".join([_("exit status:"), *(f"  {code}  {_(text)}" for code, text in EXIT_STATUS)])


def environment_text() -> str:
    lines = [_("environment:")]
    for name, text in ENVIRONMENT:
        first, *more = _(text).split("\n")
        lines.append(f"  {name:<{NAME_WIDTH}}  {first}")
        lines += [" " * (NAME_WIDTH + 4) + line for line in more]
    return "\n".join(lines)


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def apply_command_help(parser: argparse.ArgumentParser) -> None:
    """Give the top-level parser and every (nested) command its description and examples."""
    parser.description = fill(_(TOP_LEVEL.description), WIDTH)
    parser.epilog = epilog(TOP_LEVEL, exit_status_text(), environment_text())
    parser.formatter_class = TranslatedHelpFormatter
    pending = [(name, sub) for name, sub in _subparsers(parser).items()]
    while pending:
        name, sub = pending.pop()
        help_ = COMMAND_HELP.get(name)
        if help_ is not None:
            sub.description = fill(_(help_.description), WIDTH)
            sub.epilog = epilog(help_, _("exit status: 0 ok, 1 findings, 2 usage or unreadable input (see emosum-tui --help)"))
            sub.formatter_class = TranslatedHelpFormatter
        pending += [(f"{name} {child}", parser_) for child, parser_ in _subparsers(sub).items()]
