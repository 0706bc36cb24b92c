"""Gradient accumulation does not inflate the loss (or the gradient) of an mT5 step.

transformers 5.x treats a model whose `forward` takes `**kwargs` as one that normalises its
loss by `num_items_in_batch`, and then skips the division by `gradient_accumulation_steps`.
MT5's forward takes `**kwargs` but returns a plain mean, so uncorrected a 4 x 2 step would
report (and back-propagate) the *sum* of two micro-batch means: twice the 8 x 1 loss.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from support.project import short_demo_toml, write_preset

from emosum_tui.core.events import EVENTS_FILE, StepEnd, read_events
from emosum_tui.core.presets import load_preset


@pytest.fixture
def home(home: Path) -> Path:
    """The shared project home plus the two shapes of one effective batch."""
    for batch, accum in ((8, 1), (4, 2)):
        write_preset(home, f"b{batch}x{accum}", short_demo_toml(16, save_steps=1000, train={"batch_size": batch, "grad_accum": accum}))
    return home


def first_loss(home: Path, name: str) -> float:
    from emosum_tui.trainer.run import run_training

    run_dir = home / "runs" / name
    assert run_training(load_preset(name), run_dir, headless=True) == 0
    steps = [e for e in read_events(run_dir / EVENTS_FILE) if isinstance(e, StepEnd)]
    assert [s.step for s in steps] == [1, 2]
    assert steps[0].samples_per_second > 0
    return steps[0].loss


def test_same_effective_batch_same_first_step_loss(home: Path) -> None:
    whole = first_loss(home, "b8x1")
    accumulated = first_loss(home, "b4x2")
    # Same initial weights and the same 8 rows; only how they are split (and padded) differs.
    assert accumulated == pytest.approx(whole, rel=0.15)
