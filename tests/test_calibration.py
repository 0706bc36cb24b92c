"""Calibration probes: real subprocesses, real timings of the demo's shape, cancel, cache."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from emosum_tui.core import calibration as cal
from emosum_tui.core.calibration import CalibrationJob
from emosum_tui.core.cost_model import estimate
from emosum_tui.core.presets import load_preset
from emosum_tui.core.probe_job import ProbeJob, ProbeProgress


@pytest.fixture(scope="module")
def demo_calibration(project: Path) -> tuple[CalibrationJob, list[ProbeProgress]]:
    seen: list[ProbeProgress] = []
    job = CalibrationJob(load_preset("demo"), use_cache=False, on_progress=seen.append).start()
    job.wait(timeout=300)
    return job, seen


def test_demo_calibration_measures_real_steps(demo_calibration: tuple[CalibrationJob, list[ProbeProgress]]) -> None:
    job, seen = demo_calibration
    result = job.result
    assert result is not None, job.error
    assert not job.from_cache
    assert result.micro_batch_seconds > 0 and result.update_seconds > 0 and result.eval_batch_seconds > 0
    assert result.step_seconds == pytest.approx(1 * result.micro_batch_seconds + result.update_seconds)  # demo: grad-accum 1
    assert result.startup_seconds > 0  # spawn to "model built", measured by the launcher
    assert result.micro_flops > 0 and result.micro_batches >= 1
    whats = [p.what for p in seen]
    assert "model built" in whats and "micro-batch" in whats
    steps = [p.done for p in seen if p.what == "micro-batch"]
    assert steps == sorted(steps) and len(steps) >= 2  # warm-up + at least one measured


def test_a_calibration_is_cached_per_machine_and_shape(project: Path, demo_calibration: tuple[CalibrationJob, list[ProbeProgress]],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    job, _ = demo_calibration
    again = CalibrationJob(load_preset("demo")).start()
    assert again.from_cache and again.done
    assert again.wait() == job.result
    body = json.loads((project / ".cache" / "calibration.json").read_text(encoding="utf-8"))
    assert any(key.startswith("calibration|" + cal.machine_key()) for key in body)
    # Another shape (batch 4 instead of 8) is not that calibration ...
    from emosum_tui.core.presets import with_values

    other = with_values(load_preset("demo"), {"train.batch_size": 4})
    assert cal.cached_calibration(cal.spec_for(other)) is None
    # ... and neither is another machine.
    monkeypatch.setattr(cal, "machine_key", lambda: "another-host|another cpu||2.0|8")
    assert cal.cached_calibration(cal.spec_for(load_preset("demo"))) is None


def test_a_calibrated_estimate_uses_the_measurement(demo_calibration: tuple[CalibrationJob, list[ProbeProgress]]) -> None:
    job, _ = demo_calibration
    result = estimate(load_preset("demo"), calibration=job.result)
    assert result.seconds_per_step == pytest.approx(job.result.step_seconds, rel=0.25)  # rescaled by this data's padding
    assert result.basis["seconds_per_step"].startswith("calibrated on")
    # Start-up = the probe's measured start and first-step warm-up, plus set-up and tokenising.
    assert result.startup_seconds > job.result.startup_seconds + job.result.warmup_seconds
    assert result.basis["startup_seconds"].startswith("calibrated")


def test_cancel_ends_the_probe(project: Path) -> None:
    """mt5-small at 128/128 takes many seconds per micro-batch on a CPU: cancel it while it runs."""
    seen: list[ProbeProgress] = []
    job = CalibrationJob(load_preset("fast"), use_cache=False, on_progress=seen.append).start()
    deadline = time.monotonic() + 120
    while not seen and time.monotonic() < deadline:
        time.sleep(0.1)
    assert seen, "the probe reported no progress"
    job.cancel()
    assert job.wait(timeout=30) is None
    assert job.done and job.error == "cancelled"
    assert job._probe is not None and job._probe._process is not None
    assert job._probe._process.poll() is not None  # the subprocess is gone


def test_a_failing_probe_is_an_error_value(project: Path, tmp_path: Path) -> None:
    probe = ProbeJob("emosum_tui.probe.calibrate", [str(tmp_path / "no-such-spec.json")]).start()
    assert probe.wait(timeout=120)
    assert probe.result is None
    assert "no-such-spec.json" in (probe.error or "")


def test_device_prior_is_measured_once(project: Path) -> None:
    profile = cal.measure_device(timeout=120)
    assert profile is not None
    assert profile.matmul_flops > 1e8 and profile.memory_bps > 1e7 and profile.disk_bps > 1e5
    assert cal.cached_device_profile() == profile
    prior = estimate(load_preset("demo"), device=profile)
    assert "matmul probe" in prior.basis["seconds_per_step"]


def test_launcher_modules_do_not_import_torch() -> None:
    code = (
        "import sys; import emosum_tui.core.calibration, emosum_tui.core.probe_job, emosum_tui.core.cost_model, emosum_tui.core.decompose, "
        "emosum_tui.core.estimate_record, emosum_tui.core.model_shapes, emosum_tui.commands.estimate_cmd; "
        "heavy = [m for m in ('torch', 'transformers', 'datasets') if m in sys.modules]; print(heavy); sys.exit(bool(heavy))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_generation_is_calibrated_when_the_preset_generates(project: Path) -> None:
    """predict_with_generate: the probe times real decoding steps, and the eval price uses them."""
    from emosum_tui.core.presets import with_values

    preset = with_values(load_preset("demo"), {"eval.predict_with_generate": True, "eval.generation_max_tokens": 32})
    job = CalibrationJob(preset, use_cache=False).start()
    result = job.wait(timeout=300)
    assert result is not None, job.error
    assert result.decode_token_seconds > 0 and result.generate_fixed_seconds > 0
    priced = estimate(preset, calibration=result)
    loss_only = estimate(with_values(load_preset("demo"), {"eval.generation_max_tokens": 32}), calibration=result)  # same samples
    assert "calibrated decode step" in priced.basis["eval_seconds"]
    assert priced.eval_seconds > loss_only.eval_seconds
