"""What the model writes: sample predictions at each evaluation, the Samples pane, Try and Evaluate screens.

The fast tests draw recorded run dirs (the real event writer) with the real screens. The slow
ones train the real demo once (`emosum-tui train` in a subprocess, 40 steps, eval every 10, 16 new
tokens so samples are quick), then read its events, watch it again in a new console, stream a
reflection on the Try screen and evaluate it from the runs screen, all against the real model.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.pilot import SIZE, ScreenApp, wait_for
from support.project import copy_project, write_preset
from support.recorded_runs import T0, write_finished_run

from emosum_tui.core.data import PairFields, read_pairs
from emosum_tui.core.events import EVENTS_FILE, EvalResult, EventWriter, SamplePrediction, read_events
from emosum_tui.ui.screens.training import TrainingScreen
from emosum_tui.ui.widgets.samples_pane import SamplesPane

pytestmark = pytest.mark.anyio

ROWS = (("7", "Client: I failed my exam."), ("19", "Client: My dog died."), ("33", "Client: I moved to a new city."))


def record_samples(run_dir: Path, predictions_by_step: dict[int, list[str]]) -> None:
    """Sample events as the trainer writes them: the same three rows at every evaluation."""
    writer = EventWriter(run_dir / EVENTS_FILE)
    for step, predictions in predictions_by_step.items():
        for index, ((row_id, source), prediction) in enumerate(zip(ROWS, predictions, strict=True)):
            writer.write(SamplePrediction(t=T0 + step, step=step, index=index, row_id=row_id, source=source,
                                          reference=f"reference of row {row_id}", prediction=prediction, seconds=0.5))
    writer.close()


def pane_text(screen: TrainingScreen) -> str:
    """What the pane shows, as plain text (its Rich content printed to a recording console)."""
    from rich.console import Console

    console = Console(width=150, record=True, file=io.StringIO())
    for static in screen.query_one(SamplesPane).query("Static"):
        console.print(static.content)
    return " ".join(console.export_text().split())


# ---------------------------------------------------------------------------------------------
# Fast: recorded runs.


def test_sample_rows_are_spread_evenly_and_the_same_every_time() -> None:
    from emosum_tui.core.data import Pair
    from emosum_tui.trainer.samples import choose_sample_rows, row_label

    pairs = [Pair(line=n + 1, row_id=n * 10, source=f"s{n}", target=f"t{n}") for n in range(40)]
    chosen = choose_sample_rows(pairs, 3)
    assert [p.row_id for p in chosen] == [0, 130, 260] and chosen == choose_sample_rows(list(pairs), 3)
    assert choose_sample_rows(pairs[:2], 3) == pairs[:2] and choose_sample_rows(pairs, 0) == []
    assert row_label(pairs[1]) == "10" and row_label(Pair(line=5, row_id=None, source="s", target="t")) == "line 5"


async def test_the_samples_pane_steps_back_one_evaluation(tmp_path: Path) -> None:
    run_dir = write_finished_run(tmp_path / "run", steps=40)
    record_samples(run_dir, {20: ["first try", "the template", "x"], 40: ["second try", "the template", "y"]})
    screen = TrainingScreen(run_dir, sample_resources=False)
    async with ScreenApp(screen).run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: screen.history_loaded)
        pane = screen.query_one(SamplesPane)
        assert not pane.display
        await pilot.press("m")
        await wait_for(pilot, lambda: pane.display and pane.shown_step == 40)
        assert not screen.query_one("#training-middle").display  # the pane takes the plots' place
        text = pane_text(screen)
        assert "evaluation 2 of 2 at step 40" in text and "second try" in text and "reference of row 19" in text
        assert "changed since step 20" in text and "unchanged since step 20" in text
        await pilot.press("left")
        await wait_for(pilot, lambda: pane.shown_step == 20)
        text = pane_text(screen)
        assert "evaluation 1 of 2 at step 20" in text and "first try" in text and "second try" not in text
        await pilot.press("right")
        await wait_for(pilot, lambda: pane.shown_step == 40 and pane.position is None)  # back to following the latest
        await pilot.press("m")
        await wait_for(pilot, lambda: not pane.display and screen.query_one("#training-middle").display)


async def test_a_run_from_before_samples_says_it_has_none(tmp_path: Path) -> None:
    run_dir = write_finished_run(tmp_path / "run", steps=40)  # no sample events: an older run dir
    screen = TrainingScreen(run_dir, sample_resources=False)
    async with ScreenApp(screen).run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: screen.history_loaded)
        await pilot.press("m")
        pane = screen.query_one(SamplesPane)
        await wait_for(pilot, lambda: pane.display)
        assert pane.shown_step is None and "No sample predictions in this run" in pane_text(screen)
        await pilot.press("left")  # nothing to step through: no error
        assert screen.query_one("#loss-plot") is not None


# ---------------------------------------------------------------------------------------------
# Slow: the real demo, trained once.

DEMO_WITH_SAMPLES = """extends = "demo"
description = "the demo on 160 rows (40 steps), an evaluation every 10 steps with samples of 16 tokens"
[data]
train_samples = 160
[eval]
steps = 10
generation_max_tokens = 16
samples = 3
"""


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = copy_project(tmp_path_factory.mktemp("samples") / "home")
    write_preset(root, "samples", DEMO_WITH_SAMPLES)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EMOSUM_HOME", str(root))
        patch.setenv("EMOSUM_CACHE", str(root / ".cache"))
        patch.setenv("HF_HUB_OFFLINE", "1")
        yield root


@pytest.fixture(scope="module")
def demo_run(home: Path) -> Path:
    """`emosum-tui train samples --headless` to the end, once for this module."""
    run_dir = home / "runs" / "samples-run"
    done = subprocess.run([sys.executable, "-m", "emosum_tui", "train", "samples", "--headless", "--run-dir", str(run_dir)],
                          cwd=home, env=dict(os.environ), capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return run_dir


@pytest.mark.slow
def test_a_demo_run_records_samples_at_each_evaluation(home: Path, demo_run: Path) -> None:
    from emosum_tui.core.presets import load_preset
    from emosum_tui.core.sampling import subsample_indices
    from emosum_tui.trainer.samples import choose_sample_rows, row_label

    events = read_events(demo_run / EVENTS_FILE)
    eval_steps = [e.step for e in events if isinstance(e, EvalResult)]
    samples = [e for e in events if isinstance(e, SamplePrediction)]
    assert len(eval_steps) >= 2
    assert sorted({s.step for s in samples}) == sorted(set(eval_steps))
    preset = load_preset("samples")
    validation = read_pairs(preset.validation_file, PairFields.from_preset(preset)).pairs
    view = [validation[i] for i in subsample_indices(len(validation), preset["data.validation_samples"], 1.0, preset["data.seed"])]
    expected = choose_sample_rows(view, 3)
    for step in eval_steps:
        at_step = sorted((s for s in samples if s.step == step), key=lambda s: s.index)
        assert [s.row_id for s in at_step] == [row_label(p) for p in expected]
        assert [s.reference for s in at_step] == [p.target for p in expected]
        assert all(expected[s.index].source.startswith(s.source) and s.seconds > 0 for s in at_step)
    assert any(s.prediction for s in samples if s.step == eval_steps[-1])  # the trained demo writes something


@pytest.mark.slow
async def test_samples_survive_a_console_restart(demo_run: Path) -> None:
    """A new console watching the finished run (`emosum-tui watch RUN`) reads the samples from the log."""
    from emosum_tui.ui.app import EmosumApp

    logged = [e for e in read_events(demo_run / EVENTS_FILE) if isinstance(e, SamplePrediction)]
    steps = sorted({s.step for s in logged})
    app = EmosumApp(watch=demo_run)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, TrainingScreen) and app.screen.history_loaded)
        screen = app.screen
        await pilot.press("m")
        pane = screen.query_one(SamplesPane)
        await wait_for(pilot, lambda: pane.shown_step == steps[-1])
        assert pane.history.steps == steps
        assert [s.prediction for s in pane.history.rows_at(steps[-1])] == [s.prediction for s in logged if s.step == steps[-1]]
        await pilot.press("left")
        await wait_for(pilot, lambda: pane.shown_step == steps[-2])


@pytest.mark.slow
async def test_the_try_screen_streams_a_reflection_from_the_runs_screen(home: Path, demo_run: Path) -> None:
    from textual.widgets import TextArea

    from emosum_tui.ui.screens.runs import RunsScreen
    from emosum_tui.ui.screens.try_screen import TryScreen

    runs = RunsScreen(root=home / "runs")
    async with ScreenApp(runs).run_test(size=SIZE) as pilot:  # type: ignore[arg-type]
        await wait_for(pilot, lambda: runs.loaded and runs.selected() is not None)
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, TryScreen))
        screen = pilot.app.screen
        await wait_for(pilot, lambda: screen.ready is not None, timeout=120)
        await pilot.press("ctrl+n")  # the first validation row
        assert screen.query_one(TextArea).text == screen.pairs[0].source
        await pilot.press("ctrl+g")
        await wait_for(pilot, lambda: screen.tokens_seen >= 1, timeout=120)
        await wait_for(pilot, lambda: screen.request is None, timeout=120)
        assert screen.answer.strip()
        assert "reference (validation row)" in str(screen.query_one("#try-reference").render())
        client = screen.client
        await pilot.press("escape")
        await wait_for(pilot, lambda: pilot.app.screen is runs)
        await wait_for(pilot, lambda: client is not None and not client.running, timeout=30)  # no worker outlives the screen


@pytest.mark.slow
async def test_a_finished_run_is_evaluated_from_the_runs_screen(home: Path, demo_run: Path) -> None:
    from emosum_tui.ui.screens.evaluate_screen import EvaluateScreen
    from emosum_tui.ui.screens.runs import RunsScreen

    runs = RunsScreen(root=home / "runs")
    async with ScreenApp(runs).run_test(size=SIZE) as pilot:  # type: ignore[arg-type]
        await wait_for(pilot, lambda: runs.loaded and runs.selected() is not None)
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, EvaluateScreen))
        screen = pilot.app.screen
        await wait_for(pilot, lambda: screen.ended is not None, timeout=300)
        assert screen.ended.ok, screen.ended.text
        assert "ROUGE-1 F1" in screen.ended.text and "baseline" in screen.ended.text and "40 rows" in screen.ended.text
        from textual.widgets import ProgressBar

        assert screen.query_one(ProgressBar).progress == screen.query_one(ProgressBar).total == 40
    predictions = home / "model" / "samples" / "final" / "predictions.jsonl"
    assert len(predictions.read_text(encoding="utf-8").splitlines()) == 40
    assert set(json.loads(predictions.read_text(encoding="utf-8").splitlines()[0])) == {"id", "prediction", "reference"}
