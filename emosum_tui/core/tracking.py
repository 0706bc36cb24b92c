"""`[log] report_to`: the tracking tools a user already has, fed by the Trainer's own integrations.

The names are transformers' `report_to` names (its `INTEGRATION_TO_CALLBACK`); the preset checks
them like every key, so a typo is a preset error naming file, key and value, not a failure
minutes into a run. The run folder stays the console's source: these tools get a copy of the
Trainer's logs, nothing reads them back. TensorBoard writes into `<run folder>/tensorboard/`, so
`tensorboard --logdir runs` shows every run under its folder's name. Torch-free.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

from emosum_tui.i18n import _

# report_to name -> the modules that must be importable for it (any one of them)
INTEGRATION_MODULES: dict[str, tuple[str, ...]] = {
    "azure_ml": ("azureml",),
    "clearml": ("clearml",),
    "codecarbon": ("codecarbon",),
    "comet_ml": ("comet_ml",),
    "dagshub": ("dagshub",),
    "dvclive": ("dvclive",),
    "flyte": ("flytekit",),
    "kubeflow": (),
    "mlflow": ("mlflow",),
    "neptune": ("neptune",),
    "swanlab": ("swanlab",),
    "tensorboard": ("tensorboard", "tensorboardX"),
    "trackio": ("trackio",),
    "wandb": ("wandb",),
}
PIP_NAMES = {"azure_ml": "azureml-core", "comet_ml": "comet-ml", "flyte": "flytekit"}
TENSORBOARD_DIR = "tensorboard"  # inside the run folder
TENSORBOARD_VARIABLE = "TENSORBOARD_LOGGING_DIR"  # where transformers' TensorBoardCallback writes


def report_to_names(value: Any) -> str | None:
    """The preset check: a list of known integration names, each once ([] = none)."""
    if not all(isinstance(item, str) for item in value):
        return _("must be a list of tool names (strings)")
    unknown = [item for item in value if item not in INTEGRATION_MODULES]
    if unknown:
        known = ", ".join(INTEGRATION_MODULES)
        if unknown[0] in ("none", "all"):
            return _("unknown tracking tool {tool} (report_to = [] means none); known: {known}").format(
                tool=repr(unknown[0]), known=known)
        return _("unknown tracking tool {tool}; known: {known}").format(tool=repr(unknown[0]), known=known)
    if len(set(value)) != len(value):
        return _("names a tool twice")
    return None


def missing_tools(names: list[str]) -> list[str]:
    """`name (pip install package)` for each named tool whose package is not installed here."""
    missing = []
    for name in names:
        modules = INTEGRATION_MODULES.get(name, ())
        if modules and not any(importlib.util.find_spec(module) is not None for module in modules):
            missing.append(f"{name} (pip install {PIP_NAMES.get(name, name)})")
    return missing


class TrackingUnavailable(RuntimeError):
    """A tool in `[log] report_to` is not installed: said before the model loads, with the fix."""


def prepare_tracking(names: list[str], preset_file: Path, run_dir: Path) -> list[str]:
    """The `report_to` list for the Trainer; TensorBoard pointed at `<run_dir>/tensorboard`.

    Raises TrackingUnavailable naming the missing packages and the preset to change."""
    missing = missing_tools(names)
    if missing:
        raise TrackingUnavailable(_("[log] report_to in {preset} names {tools}: not installed in this Python; install it or "
                                    "remove it from report_to").format(preset=preset_file, tools=", ".join(missing)))
    if "tensorboard" in names:
        os.environ[TENSORBOARD_VARIABLE] = str(Path(run_dir) / TENSORBOARD_DIR)
    return list(names)
