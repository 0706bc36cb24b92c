"""`estimate PRESET --tune`: micro-batch sizes at the same effective batch, measured, the fastest that fits offered.

The candidates and the choice are checked on figures given here; the command is run for real on the
demo (one tuning probe subprocess) and must list every candidate with a measured s/step and a pick.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from emosum_tui.core.presets import load_preset
from emosum_tui.core.tuning import Candidate, candidate_shapes, choose, tuned_preset_text

GIB = 1 << 30


def test_candidates_keep_the_effective_batch() -> None:
    assert candidate_shapes(2, 4) == [(1, 8), (2, 4), (4, 2), (8, 1)]
    assert candidate_shapes(1, 8) == [(1, 8), (2, 4), (4, 2), (8, 1)]
    many = candidate_shapes(1, 64)
    assert len(many) == 6 and (1, 64) in many and all(b * ga == 64 for b, ga in many)


def test_the_pick_is_the_fastest_that_fits_with_a_margin(home: Path) -> None:
    full = load_preset("full")  # 2 x 4
    measured = [Candidate(1, 8, 4.0, 100.0, 10 * GIB, 80 * GIB, "H100"), Candidate(2, 4, 2.4, 170.0, 14 * GIB, 80 * GIB, "H100"),
                Candidate(4, 2, 1.2, 340.0, 30 * GIB, 80 * GIB, "H100"), Candidate(8, 1, 0.8, 500.0, 70 * GIB, 80 * GIB, "H100")]
    result = choose(full, measured)
    assert not measured[3].fits  # 70 of 80 GiB is past the 80% headroom
    assert (result.pick.batch_size, result.pick.grad_accum) == (4, 2) and not result.flat
    assert result.changes == {"train.batch_size": 4, "train.grad_accum": 2}
    text = tuned_preset_text(full, result)
    assert 'extends = "full"' in text and "batch_size = 4" in text and "grad_accum = 2" in text
    flat = choose(full, [Candidate(1, 8, 2.0, device="cpu"), Candidate(2, 4, 1.95, device="cpu"), Candidate(4, 2, 1.9, device="cpu")])
    assert flat.flat and flat.changes == {} and flat.verdict.startswith("flat")


@pytest.mark.slow
def test_tune_the_demo_for_real(home: Path) -> None:
    env = {**os.environ, "EMOSUM_HOME": str(home), "EMOSUM_CACHE": str(home / ".cache")}
    done = subprocess.run([sys.executable, "-m", "emosum_tui", "estimate", "demo", "--tune", "--json"], cwd=home, env=env,
                          capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    body = json.loads(done.stdout)
    candidates = body["candidates"]
    assert len(candidates) >= 3 and all(c["batch_size"] * c["grad_accum"] == body["effective_batch"] == 8 for c in candidates)
    assert all(c["step_seconds"] > 0 and c["tokens_per_second"] > 0 and c["peak_memory_bytes"] > 0 for c in candidates)
    assert body["pick"]["step_seconds"] == min(c["step_seconds"] for c in candidates if c["fits"])
    assert not (home / "presets" / "demo-tuned.toml").exists()  # offered, never written by --json
