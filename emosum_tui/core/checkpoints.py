"""Which checkpoints in an output dir are whole, and setting aside the ones a save left torn.

The Hugging Face Trainer writes `checkpoint-N/` in place: weights first, then optimizer,
scheduler and RNG state, `trainer_state.json` last. A process killed in between leaves a folder
that `transformers.trainer_utils.get_last_checkpoint` would still pick, and resuming from it
fails or continues from half a state. A checkpoint is complete when its trainer state parses
and its weights are all there (every shard an index names, every safetensors file as long as
its own header says). Torch-free: the console and the doctor use it too. Nothing is deleted:
a torn checkpoint is renamed `incomplete-checkpoint-N`.
"""

from __future__ import annotations

import json
import re
import struct
from pathlib import Path

CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")  # transformers' PREFIX_CHECKPOINT_DIR pattern
TRAINER_STATE = "trainer_state.json"
SET_ASIDE_PREFIX = "incomplete-"
SINGLE_WEIGHTS = ("model.safetensors", "pytorch_model.bin", "adapter_model.safetensors", "adapter_model.bin")
SHARD_INDEXES = ("model.safetensors.index.json", "pytorch_model.bin.index.json")
SAFETENSORS_HEADER_SIZE = 8  # a little-endian u64: the length of the JSON header that follows


def checkpoints(output_dir: Path) -> list[tuple[int, Path]]:
    """Checkpoint folders by step, as transformers' `get_last_checkpoint` sees them."""
    output_dir = Path(output_dir)
    if not output_dir.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in output_dir.iterdir() if p.is_dir() and (m := CHECKPOINT.match(p.name))]
    return sorted(found)


def safetensors_problem(path: Path) -> str | None:
    """Why a safetensors file is not whole (shorter than its header says), else None."""
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(SAFETENSORS_HEADER_SIZE)
            if len(head) < SAFETENSORS_HEADER_SIZE:
                return f"{path.name} is {size} bytes, too short for a header"
            (header_len,) = struct.unpack("<Q", head)
            header = json.loads(handle.read(header_len)) if header_len <= size else None
    except (OSError, ValueError) as exc:
        return f"{path.name} cannot be read ({exc})"
    if not isinstance(header, dict):
        return f"{path.name} is cut inside its header"
    ends = [entry["data_offsets"][1] for name, entry in header.items() if name != "__metadata__" and isinstance(entry, dict)]
    expected = SAFETENSORS_HEADER_SIZE + header_len + max(ends, default=0)
    return None if size >= expected else f"{path.name} is {size:,} bytes of {expected:,}"


def _weights_problem(folder: Path) -> str | None:
    for name in SINGLE_WEIGHTS:
        if (folder / name).is_file():
            return safetensors_problem(folder / name) if name.endswith(".safetensors") else None
    for name in SHARD_INDEXES:
        if (folder / name).is_file():
            try:
                shards = set(json.loads((folder / name).read_text(encoding="utf-8"))["weight_map"].values())
            except (OSError, ValueError, KeyError, TypeError, AttributeError):
                return f"{name} cannot be read"
            missing = sorted(shard for shard in shards if not (folder / shard).is_file())
            if missing:
                return f"shard {missing[0]} is missing"
            torn = [safetensors_problem(folder / s) for s in sorted(shards) if s.endswith(".safetensors")]
            return next((problem for problem in torn if problem), None)
    return "no model weights"


def checkpoint_problem(folder: Path) -> str | None:
    """Why a checkpoint folder cannot be resumed from (a save cut short), else None."""
    try:
        state = json.loads((Path(folder) / TRAINER_STATE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return f"no {TRAINER_STATE} (the save was cut short)"
    except (OSError, ValueError):
        return f"{TRAINER_STATE} is torn"
    if not isinstance(state, dict):
        return f"{TRAINER_STATE} is not an object"
    return _weights_problem(Path(folder))


def last_complete_checkpoint(output_dir: Path) -> Path | None:
    """The newest checkpoint that was written to the end."""
    complete = [path for _, path in checkpoints(output_dir) if checkpoint_problem(path) is None]
    return complete[-1] if complete else None


def set_aside_incomplete_checkpoints(output_dir: Path) -> list[Path]:
    """Rename checkpoints newer than the last complete one (a save cut short) so that a resume
    skips them and a later save of the same step writes a fresh folder; returns the new names."""
    last = last_complete_checkpoint(output_dir)
    last_step = int(CHECKPOINT.match(last.name).group(1)) if last else -1  # type: ignore[union-attr]
    moved = []
    for step, path in checkpoints(output_dir):
        if step > last_step:
            target = path.with_name(f"{SET_ASIDE_PREFIX}{path.name}")
            suffix = 1
            while target.exists():  # cut short twice at the same step: keep both
                suffix += 1
                target = path.with_name(f"{SET_ASIDE_PREFIX}{path.name}.{suffix}")
            path.rename(target)
            moved.append(target)
    return moved
