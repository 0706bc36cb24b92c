"""Live diagnosis rules on recorded scenarios: each rule fires on its scenario, with the numbers it saw."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from emosum_tui.core.events import parse_event, read_events
from emosum_tui.doctor.live import DIAGNOSIS_FILE, LiveDiagnoser, read_diagnoses
from emosum_tui.doctor.live_rules import diagnose
from emosum_tui.doctor.live_window import LiveWindow
from emosum_tui.monitor.resources import sample_from_dict

SCENARIOS = Path(__file__).parent / "scenarios"


def load(name: str) -> tuple[LiveWindow, dict]:
    body = json.loads((SCENARIOS / f"{name}.json").read_text(encoding="utf-8"))
    events = [parse_event(json.dumps(e)) for e in body["events"]]
    assert all(e is not None for e in events), "every recorded event parses with the shared schema"
    window = LiveWindow(events=events, samples=[sample_from_dict(s) for s in body["samples"]], **body["window"])
    return window, body["expect"]


ALL = sorted(p.stem for p in SCENARIOS.glob("*.json"))


@pytest.mark.parametrize("name", ALL)
def test_scenario(name: str) -> None:
    window, expect = load(name)
    findings = diagnose(window)
    codes = [f.code for f in findings]
    if "codes" in expect:
        assert codes == expect["codes"]
    if "first" in expect:
        assert codes and codes[0] == expect["first"], codes
        first = findings[0]
        for text in expect.get("evidence", []):
            assert text in first.evidence + " " + first.fix, (text, first.evidence, first.fix)
        for text in expect.get("fix", []):
            assert text in first.fix, (text, first.fix)
        assert first.fix, "every finding says what to do"
    for code in expect.get("absent", []):
        assert code not in codes


def test_every_rule_has_a_scenario() -> None:
    from emosum_tui.doctor.live_rules import RULES

    windows = [load(name)[0] for name in ALL]
    silent = [rule.__name__ for rule in RULES if not any(rule(w) is not None for w in windows)]
    assert silent == []


def test_the_users_story_names_the_cpu_build_first() -> None:
    """NVML sees an RTX-class GPU, torch trains on the CPU at ~100 s/step: that is the first thing said."""
    window, _ = load("rtx_gpu_cpu_torch")
    first = diagnose(window)[0]
    assert first.severity == "error" and first.code == "cpu-while-gpu-idle"
    assert "CUDA build" in first.fix and "download.pytorch.org" in first.fix


def test_a_step_still_running_counts(tmp_path: Path) -> None:
    """A 100 s step is visible while it runs: the open step's elapsed time joins the step times."""
    window, _ = load("rtx_gpu_cpu_torch")
    from emosum_tui.core.events import StepBegin

    last = window.samples[-1]
    running = StepBegin(t=last.t - 90.0, step=4)
    live = LiveWindow(events=[*window.events, running], samples=window.samples)
    assert len(live.step_seconds()) == len(window.step_seconds())  # 90 s < the finished 106 s: not longer than them all
    running = StepBegin(t=last.t - 300.0, step=4)
    live = LiveWindow(events=[*window.events, running], samples=window.samples)
    assert max(live.step_seconds()) == pytest.approx(300.0)


def test_diagnoser_logs_each_finding_once(tmp_path: Path) -> None:
    window, _ = load("rtx_gpu_cpu_torch")
    diagnoser = LiveDiagnoser(tmp_path)
    diagnoser.add_events(window.events)
    for sample in window.samples:
        diagnoser.add_sample(sample)
    first = diagnoser.update()
    again = diagnoser.update()
    diagnoser.close()
    assert [f.code for f in first] == [f.code for f in again] == ["cpu-while-gpu-idle"]
    logged = read_diagnoses(tmp_path)
    assert [f.code for f in logged] == ["cpu-while-gpu-idle"]
    assert logged[0].evidence == first[0].evidence
    assert [e.kind for e in read_events(tmp_path / DIAGNOSIS_FILE)] == ["diagnosis"]


def test_after_the_users_4945_steps_the_diagnoser_still_knows_the_run_is_on_the_cpu(tmp_path: Path) -> None:
    """A long run's step begins, heartbeats and evals do not push the run start and the train plan
    out of the diagnoser's memory (at 5,000 kept events they did, and the finding went away)."""
    from emosum_tui.core.events import EvalResult, Heartbeat, StepBegin, StepEnd

    window, _ = load("rtx_gpu_cpu_torch")
    diagnoser = LiveDiagnoser(tmp_path)
    diagnoser.add_events(window.events)
    for sample in window.samples:
        diagnoser.add_sample(sample)
    t, first = window.events[-1].t, max(e.step for e in window.steps) + 1
    for step in range(first, 4946):
        t += 1.0
        later = [StepBegin(t=t, step=step), Heartbeat(t=t + 0.5, step=step), StepEnd(t=t + 0.9, step=step, loss=2.0, step_seconds=0.9)]
        diagnoser.add_events(later + ([EvalResult(t=t + 1, step=step, metrics={"eval_loss": 2.1})] if step % 1000 == 0 else []))
    findings = diagnoser.update()
    diagnoser.close()
    assert findings[0].code == "cpu-while-gpu-idle" and "device = cpu (train plan)" in findings[0].evidence
    assert "over 4945 steps" in findings[0].evidence


def test_cpu_is_known_from_the_trainer_environment_before_the_plan() -> None:
    """Seconds after start (model still loading), RunStart's environment already says torch has no CUDA."""
    from emosum_tui.core.events import Environment, RunStart, TrainPlan

    window, _ = load("rtx_gpu_cpu_torch")
    start = RunStart(t=window.samples[0].t, environment=Environment(torch="2.5.1+cpu", cuda_available=False))
    early = LiveWindow(events=[start], samples=window.samples[:3])
    (finding,) = diagnose(early)
    assert finding.code == "cpu-while-gpu-idle" and "device = cpu (trainer environment)" in finding.evidence
    assert "no step finished yet" in finding.evidence
    late = LiveWindow(events=[start, *[e for e in window.events if isinstance(e, TrainPlan)]], samples=window.samples[:3])
    assert "(train plan)" in diagnose(late)[0].evidence


def test_a_stop_and_resume_after_a_save_is_not_a_checkpoint_spike() -> None:
    """The stop's checkpoint, minutes of pause, then a resume: the pause is not the save's cost."""
    from emosum_tui.core.events import CheckpointSaved, RunStart, StepBegin, StepEnd

    t, events = 1_790_000_000.0, []
    for step in range(1, 6):
        events += [StepBegin(t=t, step=step), StepEnd(t=t + 0.5, step=step, total_steps=10, step_seconds=0.5)]
        t += 0.5
    events.append(CheckpointSaved(t=t + 0.2, step=5, path="checkpoint-5", bytes=3 * 2**20, seconds=0.2))
    paused = [RunStart(t=t + 300.0, pid=2, resumed_from="checkpoint-5"), StepBegin(t=t + 310.0, step=6),
              StepEnd(t=t + 310.5, step=6, total_steps=10, step_seconds=0.5)]
    window = LiveWindow(events=[*events, *paused], samples=[])
    assert "checkpoint-spikes" not in [f.code for f in diagnose(window)]
    slow_save = [StepBegin(t=t + 300.0, step=6), StepEnd(t=t + 300.5, step=6, total_steps=10, step_seconds=0.5)]
    window = LiveWindow(events=[*events, *slow_save], samples=[])
    assert "checkpoint-spikes" in [f.code for f in diagnose(window)]  # the same gap with no restart is the save's


def test_the_doctor_runs_less_often_as_its_passes_grow_dearer() -> None:
    """The rules read every kept step: over 10,000 steps a pass costs the trainer's machine ~100x one
    over 50, so it waits longer for the next; never longer than MAX_WAIT, and a short run's doctor
    keeps up with the plots (redrawn every 2 s)."""
    from emosum_tui.core.events import Environment, RunStart, StepBegin, StepEnd, TrainPlan

    def diagnoser_after(steps: int) -> LiveDiagnoser:
        t = 1_790_000_000.0
        events: list = [RunStart(t=t, environment=Environment(cuda_available=False)), TrainPlan(t=t, total_steps=steps, device="cpu")]
        for step in range(1, steps + 1):
            events += [StepBegin(t=t + step, step=step), StepEnd(t=t + step + 0.9, step=step, loss=3.0 - step / steps, step_seconds=0.9)]
        diagnoser = LiveDiagnoser(None)
        diagnoser.add_events(events)
        return diagnoser

    short, long = diagnoser_after(50), diagnoser_after(LiveDiagnoser.MAX_STEPS)
    for diagnoser in (short, long):
        assert diagnoser.due(now=0.0)  # the first pass is never held back
        assert any(f.code == "cpu-training" for f in diagnoser.update(now=0.0))
    short_wait, long_wait = short.next_pass, long.next_pass
    assert short.due(now=2.0), f"50 steps: the next pass waits {short_wait:.3f} s"
    assert long_wait > 5 * short_wait and not long.due(now=2.0), f"10,000 steps: the next pass waits {long_wait:.3f} s"
    assert long_wait <= LiveDiagnoser.MAX_WAIT and long.due(now=LiveDiagnoser.MAX_WAIT)
