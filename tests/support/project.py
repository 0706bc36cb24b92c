"""A private workspace for a test, and presets written into it.

Tests never touch the checkout's runs/, model/ or the user cache: each works in a workspace with a
copy of the bundled sample in data/ and an empty presets/, so the built-in presets come from the
package, as they do for a user.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[2]
BUILTIN = CHECKOUT / "emosum_tui" / "builtin"
SAMPLE_DATA = BUILTIN / "data"


def copy_project(root: Path, presets: dict[str, str] | None = None) -> Path:
    """A workspace at `root`: the bundled sample copied to data/, presets/ holding only the extra
    preset files {name: TOML text} (the built-ins come from the package)."""
    (root / "presets").mkdir(parents=True)
    shutil.copytree(SAMPLE_DATA, root / "data")
    for name, text in (presets or {}).items():
        write_preset(root, name, text)
    return root


def write_preset(home: Path, name: str, text: str) -> Path:
    """presets/NAME.toml in `home` with `text`; returns its path."""
    path = home / "presets" / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def short_demo_toml(
    train_samples: int,
    *,
    save_steps: int = 100,
    description: str = "the demo cut short for a test",
    train: dict[str, int] | None = None,
    output_dir: str | None = None,
) -> str:
    """A preset that extends the demo: `train_samples` rows, one epoch, no evaluation, a log line
    every optimizer step, a checkpoint every `save_steps` steps; `train` adds keys to [train].

    The demo trains 8 rows per optimizer step, so 40 rows are 5 steps: a real run in seconds."""
    lines = ['extends = "demo"', f"description = {json.dumps(description)}", "[data]", f"train_samples = {train_samples}",
             "[train]", "epochs = 1"]
    lines += [f"{key} = {value}" for key, value in (train or {}).items()]
    lines += ["[eval]", 'strategy = "no"', "[save]", "logging_steps = 1", f"steps = {save_steps}"]
    if output_dir is not None:
        lines.append(f"output_dir = {json.dumps(output_dir)}")
    return "\n".join(lines) + "\n"
