"""What `generate`, `evaluate` and `try` share: the model argument, the run's preset, the worker.

A run dir brings its preset as run (`preset.toml`): the data fields that build a source, the
token limits the model was trained at, the beam width its evaluation used. A plain model
folder has none of these, so the defaults below apply. Torch-free: the model is loaded by the
generation worker, a subprocess.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from emosum_tui.commands.terminal_text import error, note, shown, warning
from emosum_tui.core.data import PairFields
from emosum_tui.i18n import _

if TYPE_CHECKING:
    from emosum_tui.core.presets import Preset

DEFAULT_MAX_NEW_TOKENS = 256
DEFAULT_MAX_SOURCE_TOKENS = 1024


@dataclass(frozen=True)
class ModelChoice:
    """The model folder resolved, the run's preset (None for a plain model folder) and its fields."""

    resolved: Any  # core.model_dir.ResolvedModel
    preset: Preset | None
    fields: PairFields

    def preset_value(self, key: str, default: Any) -> Any:
        if self.preset is None:
            return default
        try:
            value = self.preset[key]
        except KeyError:
            return default
        return value if value else default

    def max_new_tokens(self, given: int | None) -> int:
        if given is not None:
            return given
        return self.preset_value("eval.generation_max_tokens", 0) or self.preset_value("train.max_target_tokens", DEFAULT_MAX_NEW_TOKENS)

    def max_source_tokens(self) -> int:
        return int(self.preset_value("train.max_source_tokens", DEFAULT_MAX_SOURCE_TOKENS))


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", metavar="RUN_DIR|MODEL_DIR",
                        help=_("a run directory (its final model, else its latest checkpoint) or a model folder"))
    parser.add_argument("--max-new-tokens", type=int, metavar="T",
                        help=_("most tokens to generate (default: the run's target length, else 256)"))


def positive(args: argparse.Namespace, *names: str) -> str | None:
    """The first option among `names` that is set and below 1, as a message."""
    for name in names:
        value = getattr(args, name, None)
        if value is not None and value < 1:
            return _("{option} = {value}: must be at least 1").format(option=f"--{name.replace('_', '-')}", value=value)
    return None


def choose_model(text: str) -> ModelChoice | None:
    """Resolve the model argument; None after saying on stderr why it cannot be used."""
    from emosum_tui.core.model_dir import ModelDirError, resolve_model_dir

    try:
        resolved = resolve_model_dir(text)
    except ModelDirError as exc:
        error(exc)
        return None
    preset = None
    if resolved.preset_file is not None:
        from emosum_tui.core.presets import PresetError
        from emosum_tui.core.rundir import load_run_preset

        try:
            preset = load_run_preset(resolved.preset_file)
        except PresetError as exc:
            warning(_("{problem}; using the default data fields and token limits").format(problem=shown(exc)))
    fields = PairFields.from_preset(preset) if preset is not None else PairFields()
    if resolved.note:
        note(resolved.note)
    return ModelChoice(resolved, preset, fields)


def model_from_args(args: argparse.Namespace, *positive_names: str) -> ModelChoice | None:
    """The command's model once its numeric options are checked; None (said on stderr) means exit 2."""
    problem = positive(args, *positive_names)
    if problem:
        error(problem)
        return None
    return choose_model(args.model)


def start_worker(choice: ModelChoice, max_new_tokens: int | None, num_beams: int = 1, batch_size: int = 1,
                 wait: bool = True) -> Any:
    """A started GenerationClient, ready unless `wait` is False; None after saying on stderr why the
    model did not load."""
    from emosum_tui.core.generation_client import GenerationClient

    client = GenerationClient(choice.resolved.model_dir, max_new_tokens=choice.max_new_tokens(max_new_tokens),
                              num_beams=num_beams, batch_size=batch_size, max_source_tokens=choice.max_source_tokens())
    print(_("loading {model_dir} …").format(model_dir=choice.resolved.model_dir), file=sys.stderr, flush=True)
    client.start()
    return await_ready(client) if wait else client


def await_ready(client: Any) -> Any:
    """The client once its model is loaded; None (the worker closed) after saying why it is not."""
    from emosum_tui.core.generation_client import GenerationFailed

    try:
        ready = client.wait_ready()
    except GenerationFailed as exc:
        client.close()
        error(exc)
        return None
    except KeyboardInterrupt:
        client.kill()
        raise
    print(_("model ready on {device} ({dtype}) in {seconds} s; up to {n} new tokens").format(
        device=ready.device, dtype=ready.dtype, seconds=f"{ready.seconds:.1f}", n=ready.max_new_tokens), file=sys.stderr, flush=True)
    return client


def report_problems(problems: list[Any], most: int = 5) -> None:
    """The first few bad rows (`most`), file:line: reason, and how many in all."""
    for problem in problems[:most]:
        print(_("skipped {problem}").format(problem=shown(problem)), file=sys.stderr)
    if len(problems) > most:
        print(_("… and {n} more bad rows").format(n=len(problems) - most), file=sys.stderr)
