"""A checkpoint is complete only when its trainer state parses and its weights are whole;
torn ones (a save cut short, a power cut) are set aside by renaming, never deleted."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file

from emosum_tui.core.checkpoints import checkpoint_problem, last_complete_checkpoint, set_aside_incomplete_checkpoints


def checkpoint(output: Path, step: int, *, state: str | None = '{"global_step": 1}', shards: int = 0) -> Path:
    """A checkpoint folder with real safetensors weights (one file, or `shards` files and an index)."""
    folder = output / f"checkpoint-{step}"
    folder.mkdir(parents=True)
    weights = {"shared.weight": np.arange(64, dtype=np.float32).reshape(8, 8)}
    if shards:
        names = [f"model-{i + 1:05d}-of-{shards:05d}.safetensors" for i in range(shards)]
        for i, name in enumerate(names):
            save_file({f"w{i}": weights["shared.weight"]}, str(folder / name))
        index = {"metadata": {}, "weight_map": {f"w{i}": name for i, name in enumerate(names)}}
        (folder / "model.safetensors.index.json").write_text(json.dumps(index), encoding="utf-8")
    else:
        save_file(weights, str(folder / "model.safetensors"))
    if state is not None:
        (folder / "trainer_state.json").write_text(state, encoding="utf-8")
    return folder


def test_a_whole_checkpoint_is_complete(tmp_path: Path) -> None:
    assert checkpoint_problem(checkpoint(tmp_path, 2)) is None
    assert checkpoint_problem(checkpoint(tmp_path, 4, shards=2)) is None
    assert last_complete_checkpoint(tmp_path) == tmp_path / "checkpoint-4"


@pytest.mark.parametrize(
    ("tear", "said"),
    [
        (lambda f: (f / "trainer_state.json").unlink(), "no trainer_state.json (the save was cut short)"),
        (lambda f: (f / "trainer_state.json").write_text('{"global_st', encoding="utf-8"), "trainer_state.json is torn"),
        (lambda f: (f / "model.safetensors").unlink(), "no model weights"),
        (lambda f: (f / "model.safetensors").write_bytes((f / "model.safetensors").read_bytes()[:-100]), "model.safetensors is 236 bytes of 336"),
        (lambda f: (f / "model.safetensors").write_bytes(b""), "model.safetensors is 0 bytes, too short for a header"),
        (lambda f: (f / "model.safetensors").write_bytes((f / "model.safetensors").read_bytes()[:20]), "model.safetensors is cut inside its header"),
    ],
    ids=["no-state", "torn-state", "no-weights", "short-weights", "empty-weights", "cut-header"],
)
def test_a_torn_checkpoint_is_named_and_the_previous_one_is_picked(tear, said: str, tmp_path: Path) -> None:
    checkpoint(tmp_path, 2)
    tear(checkpoint(tmp_path, 4))
    assert checkpoint_problem(tmp_path / "checkpoint-4") == said
    assert last_complete_checkpoint(tmp_path) == tmp_path / "checkpoint-2"


def test_a_missing_shard_makes_it_incomplete(tmp_path: Path) -> None:
    folder = checkpoint(tmp_path, 6, shards=3)
    (folder / "model-00003-of-00003.safetensors").unlink()
    assert checkpoint_problem(folder) == "shard model-00003-of-00003.safetensors is missing"
    assert last_complete_checkpoint(tmp_path) is None


def test_torn_checkpoints_are_renamed_never_deleted(tmp_path: Path) -> None:
    checkpoint(tmp_path, 2)
    checkpoint(tmp_path, 4, state=None)
    assert set_aside_incomplete_checkpoints(tmp_path) == [tmp_path / "incomplete-checkpoint-4"]
    checkpoint(tmp_path, 4, state=None)  # cut short again at the same step
    assert set_aside_incomplete_checkpoints(tmp_path) == [tmp_path / "incomplete-checkpoint-4.2"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint-2", "incomplete-checkpoint-4", "incomplete-checkpoint-4.2"]
    assert (tmp_path / "incomplete-checkpoint-4" / "model.safetensors").is_file()
    assert set_aside_incomplete_checkpoints(tmp_path) == []
