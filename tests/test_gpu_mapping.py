"""The right GPUs: a run's torch devices matched to NVML's readings by UUID, or by its
CUDA_VISIBLE_DEVICES read as CUDA reads it; the resource pane and the live rules show those alone.

The machine is a recorded 4-GPU server (tests/scenarios/four_gpus_two_used.json): the run has
CUDA_VISIBLE_DEVICES=1,3; GPU 0 is another job's, hot and throttling; GPU 2 is idle.
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import pytest
from support.pilot import SIZE, ScreenApp, wait_for

from emosum_tui.core.events import EVENTS_FILE, EventWriter, RunStart, parse_event
from emosum_tui.doctor.live_rules import diagnose
from emosum_tui.doctor.live_window import LiveWindow
from emosum_tui.monitor.gpu_mapping import GpuSelection, visible_gpus
from emosum_tui.monitor.resources import ResourceSample, ResourceSampler, sample_from_dict
from emosum_tui.ui.widgets.resource_pane import resource_text

SCENARIO = Path(__file__).parent / "scenarios" / "four_gpus_two_used.json"


def recorded() -> tuple[list, list[ResourceSample]]:
    body = json.loads(SCENARIO.read_text(encoding="utf-8"))
    return [parse_event(json.dumps(e)) for e in body["events"]], [sample_from_dict(s) for s in body["samples"]]


def start_of(events: list) -> RunStart:
    return next(e for e in events if isinstance(e, RunStart))


def indices(gpus) -> list[int]:
    return [g.index for g in gpus]


def test_cuda_visible_devices_is_read_as_cuda_reads_it() -> None:
    _, samples = recorded()
    gpus = samples[0].gpus
    uuid3 = gpus[3].uuid
    assert indices(visible_gpus(None, gpus)) == [0, 1, 2, 3]  # unset: every GPU
    assert indices(visible_gpus("", gpus)) == []  # empty: none
    assert indices(visible_gpus("1,3", gpus)) == [1, 3]
    assert indices(visible_gpus(" 3 , 1", gpus)) == [3, 1]  # torch's order is the list's: cuda:0 = GPU 3
    assert indices(visible_gpus(f"{uuid3},0", gpus)) == [3, 0]  # a full UUID
    assert indices(visible_gpus(f"{uuid3[:-3]}", gpus)) == []  # a prefix all four share names none
    assert indices(visible_gpus("1,7,3", gpus)) == [1]  # the list ends at the first entry that names no GPU
    assert indices(visible_gpus("2,2,3", gpus)) == [2]  # a repeated GPU ends it too


def test_the_resource_text_has_rows_for_the_runs_two_gpus_only() -> None:
    events, samples = recorded()
    selection = GpuSelection.from_environment(start_of(events).environment)
    text = resource_text(samples[-1], gpus=selection)
    rows = [line for line in text.splitlines() if line.startswith("GPU ")]
    assert [row.split(" NVIDIA")[0] for row in rows] == ["GPU 1 = cuda:0", "GPU 3 = cuda:1"]
    assert all("util [b]9" in row and "33.6 GB / 85.9 GB" in row and "310 W / 400 W" in row for row in rows), rows
    assert "throttled" not in text  # GPU 0's thermal slowdown is another job's
    assert "2 other GPUs on this machine, not this run's" in text
    assert "GPU mem 66.6 GB" in text  # the trainer tree's own, both ranks
    everything = resource_text(samples[-1])  # before the run's start is read: every GPU
    assert [line.split(" NVIDIA")[0] for line in everything.splitlines() if line.startswith("GPU ")] == [f"GPU {i}" for i in range(4)]


def test_the_run_s_throttling_gpu_shows_its_reasons() -> None:
    events, samples = recorded()
    sample = samples[-1]
    hot = replace(sample.gpus[3], throttle_reasons=("power cap",))
    text = resource_text(replace(sample, gpus=(*sample.gpus[:3], hot)), gpus=GpuSelection.from_environment(start_of(events).environment))
    assert next(line for line in text.splitlines() if line.startswith("GPU 3")).endswith("throttled: power cap[/yellow]")


def test_the_live_rules_read_the_runs_gpus() -> None:
    events, samples = recorded()
    mapped = LiveWindow(events=events, samples=samples)
    assert indices(mapped.gpu_readings()[:1]) == [1] and diagnose(mapped) == []
    unmapped = LiveWindow(events=[e for e in events if not isinstance(e, RunStart)], samples=samples)
    assert [f.code for f in diagnose(unmapped)] == ["gpu-throttling"]  # "cuda:0 is GPU 0" blames the other job's GPU
    start = start_of(events)
    by_visible_only = replace(start, environment=replace(start.environment, devices=()))  # an older run: no UUIDs recorded
    window = LiveWindow(events=[by_visible_only, *[e for e in events if e is not start]], samples=samples)
    assert indices(window.gpu_readings()[:1]) == [1] and diagnose(window) == []
    swapped = replace(start, environment=replace(start.environment, devices=start.environment.devices[::-1]))  # fastest first
    window = LiveWindow(events=[swapped, *[e for e in events if e is not start]], samples=samples)
    assert indices(window.gpu_readings()[:1]) == [3]  # the UUID decides, not the visible list's order


def test_the_sampler_counts_the_trainer_trees_gpu_memory() -> None:
    _, samples = recorded()
    gpus = samples[0].gpus
    mine = replace(gpus[1], process_memory=((os.getpid(), 3 * 2**30), (1, 2**30)))
    sampler = ResourceSampler(Path.cwd(), pid=os.getpid())
    try:
        assert sampler._trainer_gpu_memory((gpus[0], mine)) == 3 * 2**30
        assert sampler._trainer_gpu_memory(gpus) is None  # none of this tree's processes on any GPU
    finally:
        sampler.close()


@pytest.mark.anyio
async def test_the_training_screen_shows_the_runs_gpus_from_its_start(tmp_path: Path) -> None:
    """The screen's watcher reads the run's start from the log and sends the mapping with every sample."""
    from emosum_tui.monitor.run_watcher import ResourcesRead
    from emosum_tui.ui.screens.training import TrainingScreen
    from emosum_tui.ui.widgets.live_text import LiveText

    events, samples = recorded()
    run_dir = tmp_path / "run"
    writer = EventWriter(run_dir / EVENTS_FILE)
    for event in events:
        writer.write(event)
    writer.close()
    screen = TrainingScreen(run_dir, sample_resources=False)
    async with ScreenApp(screen).run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: screen.watcher is not None and screen.watcher.gpus.known, timeout=10)
        screen.post_message(ResourcesRead(samples[-1], screen.watcher.gpus))
        await wait_for(pilot, lambda: "cuda:1" in screen.query_one("#resource-text", LiveText).text, timeout=10)
        text = screen.query_one("#resource-text", LiveText).text
    assert "GPU 1 = cuda:0" in text and "GPU 3 = cuda:1" in text
    assert "GPU 0 " not in text and "GPU 2 " not in text
