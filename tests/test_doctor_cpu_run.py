"""A real demo run on this CPU, sampled live, is diagnosed as CPU training; the panel shows it."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from support.project import short_demo_toml, write_preset

from emosum_tui.core.events import EVENTS_FILE, EventReader, StepEnd
from emosum_tui.doctor.findings import Finding
from emosum_tui.doctor.live import LiveDiagnoser, read_diagnoses
from emosum_tui.monitor.resources import ResourceSampler


@pytest.fixture
def home(home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The shared project home as the working directory, plus `short`: the demo cut to 4 steps, no eval."""
    write_preset(home, "short", short_demo_toml(32))
    monkeypatch.chdir(home)
    return home


@pytest.mark.slow
def test_real_cpu_run_is_diagnosed_as_cpu_training(home: Path) -> None:
    from emosum_tui.core.rundir import launch_trainer, new_run_dir

    run_dir = new_run_dir("short", root=home / "runs")
    process = launch_trainer(home / "presets" / "short.toml", run_dir, env={"EMOSUM_FAULT": "sleep@2:2"})  # a slower step, so samples land in training
    sampler = ResourceSampler(home, pid=process.pid)
    reader = EventReader(run_dir / EVENTS_FILE)
    diagnoser = LiveDiagnoser(run_dir)
    findings: list[Finding] = []
    try:
        deadline = time.time() + 300
        while process.poll() is None and time.time() < deadline:
            diagnoser.add_events(reader.poll())
            diagnoser.add_sample(sampler.sample())
            findings = diagnoser.update() or findings
            time.sleep(0.5)
        diagnoser.add_events(reader.poll())
        findings = diagnoser.update() or findings
    finally:
        sampler.close()
        diagnoser.close()
        if process.poll() is None:
            process.kill()
    assert process.wait(timeout=30) == 0
    assert any(isinstance(e, StepEnd) for e in diagnoser.window().events)
    cpu = next(f for f in findings if f.code == "cpu-training")
    assert "trainer device = cpu" in cpu.evidence and "no NVIDIA GPU" in cpu.evidence
    assert "s/step over" in cpu.evidence and "trainer CPU" in cpu.evidence
    assert "cpu-training" in [f.code for f in read_diagnoses(run_dir)]  # logged beside the run's events


@pytest.mark.anyio
async def test_diagnosis_panel_shows_findings_worst_first() -> None:
    from textual.app import App, ComposeResult

    from emosum_tui.ui.widgets.diagnosis_panel import DiagnosisPanel

    class Host(App):
        def compose(self) -> ComposeResult:
            yield DiagnosisPanel(id="why")

    async with Host().run_test() as pilot:
        panel = pilot.app.query_one(DiagnosisPanel)
        assert panel.query_one("#diagnosis-empty").display
        panel.show([
            Finding("cpu-training", "info", "training on the CPU", "median 1.0 s/step", "expected"),
            Finding("loss-nan", "error", "the loss is NaN", "loss = nan at step 7", "set precision"),
            Finding("precision-ok", "ok", "precision fp32", "fp32"),
        ])
        await pilot.pause()
        assert [f.code for f in panel.findings] == ["loss-nan", "cpu-training"]  # "ok" is not a reason for slowness
        assert not panel.query_one("#diagnosis-empty").display
        rendered = [str(w.render()) for w in panel.query(".diagnosis-finding")]
        assert "the loss is NaN" in rendered[0] and "loss = nan at step 7" in rendered[0] and "set precision" in rendered[0]
        panel.show([])
        await pilot.pause()
        assert panel.query_one("#diagnosis-empty").display and not panel.query(".diagnosis-finding")
