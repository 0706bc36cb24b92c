"""The doctor's preflight on the presets screen, driven like a user: pick presets, edit, press `s`.

The real doctor runs: this machine's facts (NVML, psutil, torch in its probe subprocess) once per
console, then `preflight()` for the selected preset. Where a finding depends on the machine, the
test says which machine it expects; one test replays the user's recorded workstation (an RTX card
next to a CPU-only torch) to check that its error is on screen at 160x50 without scrolling.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from support.pilot import SIZE, wait_for
from textual.pilot import Pilot
from textual.widgets import Input, OptionList

from emosum_tui.core.presets import iter_keys
from emosum_tui.doctor.facts import MachineFacts
from emosum_tui.doctor.torch_probe import TorchFacts
from emosum_tui.monitor.nvml import GpuReading
from emosum_tui.ui import figures
from emosum_tui.ui.app import EmosumApp
from emosum_tui.ui.messages import StartRun
from emosum_tui.ui.screens.confirm_start import ConfirmStartScreen
from emosum_tui.ui.screens.edit_value import EditValueScreen
from emosum_tui.ui.screens.presets import PresetsScreen
from emosum_tui.ui.widgets.preflight_panel import PreflightPanel
from emosum_tui.ui.widgets.preset_table import PresetTable

pytestmark = pytest.mark.anyio

GIB = 2**30
# The user's workstation (as in test_doctor_preflight): an RTX card and a CPU-only wheel of torch.
USER_BOX = MachineFacts(
    torch=TorchFacts(torch_version="2.5.1+cpu", build="cpu", executable="C:\\Users\\me\\venv\\Scripts\\python.exe"),
    gpus=(GpuReading(0, "NVIDIA GeForce RTX 3060", 2.0, int(0.4 * GIB), 12 * GIB, 40.0, 18.0, 170.0),),
    driver_version="552.22", driver_cuda="12.4", ram_free=20 * GIB, ram_total=32 * GIB, disk_free=300 * GIB, cpu_count=16,
    windows=True,
)
TORCH_ON_CPU = {"cpu-only", "cpu-torch-with-gpu", "cuda-unavailable", "cuda-driver-too-old", "torch-missing"}


class RecordingApp(EmosumApp):
    """The console, with each `StartRun` recorded instead of launching a trainer (launching is
    the e2e tests' subject; here the question is whether and when the presets screen starts one)."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.started: list[str] = []

    def on_start_run(self, message: StartRun) -> None:
        message.prevent_default()  # EmosumApp's own handler would launch the trainer
        self.started.append(message.preset.name)


@pytest.fixture
def probes(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Counts the (real) gathering of this machine's facts."""
    calls: list[Path] = []
    real = figures.machine_facts

    def counted(disk_path: Path, torch_facts: TorchFacts | None = None) -> tuple[MachineFacts | None, str]:
        calls.append(disk_path)
        return real(disk_path, torch_facts)

    monkeypatch.setattr(figures, "machine_facts", counted)
    return calls


class Held:
    """A real function of `figures`, held until the test calls `release()`, so that something
    stays "not known yet" for exactly as long as the test needs, however fast this machine is:
    the preflight of a preset, or this machine's facts (the torch probe took ~1 s on CI, sooner
    than a pressed `s` came)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
        self.real = getattr(figures, name)
        self.gate = threading.Event()
        self.asked: list[str] = []  # what each held call was for (a preset's name), in order
        monkeypatch.setattr(figures, name, self)

    def __call__(self, first: object, *rest: object) -> object:
        self.asked.append(getattr(first, "name", str(first)))
        self.gate.wait(timeout=60)
        return self.real(first, *rest)

    def release(self) -> None:
        self.gate.set()

    async def __aenter__(self) -> Held:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.release()  # before the app shuts down: it waits for its worker threads


def holding(monkeypatch: pytest.MonkeyPatch, name: str) -> Iterator[Held]:
    hold = Held(monkeypatch, name)
    try:
        yield hold
    finally:
        hold.release()  # never leave a worker thread waiting after a failed test


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> Iterator[Held]:
    """`figures.preflight_findings`, held."""
    yield from holding(monkeypatch, "preflight_findings")


@pytest.fixture
def held_machine(monkeypatch: pytest.MonkeyPatch) -> Iterator[Held]:
    """`figures.machine_facts`, held."""
    yield from holding(monkeypatch, "machine_facts")


def status_line(screen: PresetsScreen) -> str:
    return str(screen.query_one("#status-line").render())


WAITING = "once its preflight is done"


async def preflight_shown(pilot: Pilot, screen: PresetsScreen, key: str, name: str) -> PreflightPanel:
    """Press `key` to select preset `name` and wait until its preflight is on the panel."""
    await pilot.press(key)
    await wait_for(pilot, checked(screen, name))
    return screen.query_one(PreflightPanel)


async def edit_value(pilot: Pilot, app: EmosumApp, screen: PresetsScreen, key: str, value: str) -> None:
    """`e`, pick `key`, type `value`, enter: back on the presets screen."""
    await pilot.press("e")
    await wait_for(pilot, lambda: isinstance(app.screen, EditValueScreen))
    app.screen.query_one(OptionList).highlighted = [k for k, _ in iter_keys()].index(key)
    await pilot.press("enter")
    app.screen.query_one(Input).value = value
    await pilot.press("enter")
    await wait_for(pilot, lambda: app.screen is screen)

def checked(screen: PresetsScreen, name: str) -> Callable[[], bool]:
    def done() -> bool:
        panel = screen.side.preflight_panel  # mounted after the first frame
        return screen.preset_figures[name].preflight is not None and panel is not None and panel.state == "shown"

    return done


async def test_fast_shows_this_machines_preflight_and_other_presets_reuse_the_facts(console_home: Path, probes: list[Path]):
    app = RecordingApp()
    async with app.run_test(size=SIZE) as pilot:
        screen = app.presets_screen
        panel = await preflight_shown(pilot, screen, "3", "fast")
        assert panel.border_title == "preflight: fast"
        assert panel.machine is not None and panel.machine_note == ""
        codes = [f.code for f in panel.findings]
        if panel.machine.device == "cpu":  # this machine: CPU-only torch, no GPU -> the "CPU training" finding
            assert TORCH_ON_CPU & set(codes), codes
            assert "CPU" in panel.text
        assert "model-not-available" in codes  # mt5-small is not here and the hub is off
        assert [f.severity for f in panel.findings] == sorted((f.severity for f in panel.findings),
                                                               key=("error", "warning", "info", "ok").index)  # worst first
        assert "1 error" in str(panel.border_subtitle) and "ok" in str(panel.border_subtitle)
        assert panel.has_class("has-error")

        await pilot.press("4")  # demo: its own preflight, the same machine facts
        await wait_for(pilot, checked(screen, "demo"))
        assert panel.border_title == "preflight: demo"
        assert "model-not-available" not in [f.code for f in panel.findings]  # demo builds its model from a config
        assert not panel.has_class("has-error")
        assert len(probes) == 1  # gathered once per console
        assert app.started == []


async def test_back_from_the_runs_screen_preflight_reads_the_machine_again_but_not_after_a_dialog(console_home: Path,
                                                                                                  probes: list[Path]):
    """A run writes checkpoints and holds memory: back on the presets, preflight's disk, memory and
    GPU figures are read again (torch's facts are kept: no second probe). A dialog changes nothing."""
    from emosum_tui.ui.screens.runs import RunsScreen

    app = RecordingApp()
    async with app.run_test(size=SIZE) as pilot:
        screen = app.presets_screen
        await preflight_shown(pilot, screen, "4", "demo")
        assert len(probes) == 1
        panel = screen.side.preflight_panel
        first = panel.machine
        assert first is not None
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, EditValueScreen))
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen)
        await pilot.pause(0.2)
        assert len(probes) == 1 and panel.machine is first and screen.preset_figures["demo"].preflight is not None

        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, RunsScreen))
        await pilot.press("p")
        await wait_for(pilot, lambda: app.screen is screen)
        await wait_for(pilot, lambda: panel.machine is not first)
        assert len(probes) == 2
        assert panel.machine is not None and panel.machine.torch is first.torch  # kept, not probed again
        await wait_for(pilot, checked(screen, "demo"))  # findings worked out again with the new reading


async def test_an_edit_reruns_preflight_for_the_edited_preset(console_home: Path):
    app = RecordingApp()
    async with app.run_test(size=SIZE) as pilot:
        screen = app.presets_screen
        await pilot.press("4")
        await wait_for(pilot, checked(screen, "demo"))
        assert not any(f.code.startswith("data-missing") for f in screen.preset_figures["demo"].preflight)
        await edit_value(pilot, app, screen, "data.train_file", "data/train/nowhere.jsonl")
        await wait_for(pilot, checked(screen, "demo*"))
        panel = screen.query_one(PreflightPanel)
        assert panel.border_title == "preflight: demo*"
        assert panel.findings[0].code == "data-missing-train" and panel.findings[0].severity == "error"
        assert "nowhere.jsonl" in panel.findings[0].evidence
        await pilot.press("d")  # discard: back to the saved preset's findings
        await wait_for(pilot, checked(screen, "demo"))
        assert not any(f.code.startswith("data-missing") for f in panel.findings)


async def test_start_asks_first_when_preflight_has_an_error_and_the_default_is_no(console_home: Path):
    app = RecordingApp()
    async with app.run_test(size=SIZE) as pilot:
        screen = app.presets_screen
        await pilot.press("3")
        await wait_for(pilot, checked(screen, "fast"))
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmStartScreen))
        dialog = app.screen
        assert "the model is not here and the hub is switched off" in dialog.text
        assert "google/mt5-small" in " ".join(f.evidence for f in dialog.errors)
        await pilot.press("enter")  # the focused button is "cancel"
        await wait_for(pilot, lambda: app.screen is screen)
        assert app.started == []
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmStartScreen))
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen)
        assert app.started == []
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmStartScreen))
        await pilot.press("y")
        await wait_for(pilot, lambda: app.started == ["fast"])


async def test_s_while_the_machine_is_checked_waits_for_the_preflight_then_starts(console_home: Path,
                                                                                    held_machine: Held):
    app = RecordingApp()
    async with app.run_test(size=SIZE) as pilot:
        try:
            screen = app.presets_screen
            await pilot.press("4")  # demo: no error finding on any machine
            await wait_for(pilot, lambda: screen.background)
            await pilot.press("s")
            assert screen.start_waiting is not None and screen.start_waiting.name == "demo"
            await pilot.pause(0.2)
            assert app.started == [] and not screen.side.preflight_panel.machine_known  # mounted by now
            held_machine.release()  # the real machine's facts, then demo's real preflight
            await wait_for(pilot, lambda: app.started == ["demo"])
            assert screen.preset_figures["demo"].preflight is not None and screen.start_waiting is None
            assert not isinstance(app.screen, ConfirmStartScreen)
        finally:
            held_machine.release()  # before the app shuts down: it waits for its worker threads


async def test_the_users_workstation_error_is_on_screen_at_160x50_without_scrolling(console_home: Path,
                                                                                  monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(figures, "machine_facts", lambda disk_path, torch_facts=None: (USER_BOX, ""))
    app = RecordingApp()
    async with app.run_test(size=SIZE) as pilot:
        screen = app.presets_screen
        await pilot.press("2")  # full: mt5-base, the user's plan
        await wait_for(pilot, checked(screen, "full"))
        await pilot.pause(0.3)
        panel = screen.query_one(PreflightPanel)
        first = panel.findings[0]
        assert first.code == "cpu-torch-with-gpu" and first.severity == "error"
        assert "RTX 3060" in first.evidence
        shown = panel.query(".diagnosis-finding").first()
        assert screen.query_one("#presets-side").scroll_y == 0 and panel.scroll_y == 0
        visible = panel.content_region.intersection(screen.region)
        title_line = shown.region.y  # the finding's first line: "✗ torch is a CPU-only build, ..."
        assert visible.y <= title_line < visible.bottom and shown.region.height >= 1
        assert panel.region.right <= SIZE[0] and panel.region.bottom <= SIZE[1] - 1  # above the footer
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmStartScreen))
        assert "torch is a CPU-only build, but this machine has an NVIDIA GPU" in app.screen.text


async def test_pinned_figures_check_only_the_presets_files_and_the_alarm_section_is_in_the_table(console_home: Path,
                                                                                               probes: list[Path]):
    app = RecordingApp(s_per_step=1.0)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.presets_screen
        await wait_for(pilot, checked(screen, "original"))
        panel = screen.query_one(PreflightPanel)
        assert probes == []  # nothing machine-dependent when the figures are pinned
        assert panel.border_title == "preflight: original (machine not checked)"
        assert [f.code for f in panel.findings] == ["model-not-available"]
        table = screen.query_one(PresetTable)
        assert str(table.get_cell("[alarm]", "parameter")) == "[alarm]"
        assert str(table.get_cell("alarm.stall_after_seconds", "parameter")).strip() == "stall_after_seconds"
        assert str(table.get_cell("alarm.stall_after_seconds", "fast")) == "auto"  # 0 means automatic


async def test_start_on_the_command_line_does_not_wait_for_preflight(console_home: Path):
    app = RecordingApp(preset="fast", start=True)  # `emosum-tui --preset fast --start`: asked for at once
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.started == ["fast"], timeout=30)
        assert not isinstance(app.screen, ConfirmStartScreen)
        assert app.presets_screen.start_waiting is None


async def test_a_machine_that_cannot_be_asked_is_a_finding_and_the_files_are_still_checked(console_home: Path,
                                                                                         monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(figures, "machine_facts", lambda disk_path, torch_facts=None: (None, "PermissionError: /proc/meminfo"))
    app = RecordingApp()
    async with app.run_test(size=SIZE) as pilot:
        screen = app.presets_screen
        panel = await preflight_shown(pilot, screen, "3", "fast")
        assert panel.border_title == "preflight: fast (machine not checked)"
        codes = {f.code: f for f in panel.findings}
        assert "/proc/meminfo" in codes["machine-not-checked"].evidence
        assert "model-not-available" in codes


async def test_s_twice_before_the_preflight_is_known_starts_without_waiting(console_home: Path,
                                                                            held_machine: Held):
    app = RecordingApp()
    async with app.run_test(size=SIZE) as pilot:
        screen = app.presets_screen
        await pilot.press("3")
        await wait_for(pilot, lambda: screen.background)
        await pilot.press("s")
        assert screen.start_waiting is not None and "s again" in str(screen.query_one("#status-line").render())
        await pilot.press("s")
        assert app.started == ["fast"] and screen.start_waiting is None
        held_machine.release()
        await wait_for(pilot, checked(screen, "fast"))
        await pilot.pause(0.2)
        assert app.started == ["fast"] and not isinstance(app.screen, ConfirmStartScreen)


async def s_waits_for_demos_held_preflight(pilot: Pilot, screen: PresetsScreen, held: Held) -> None:
    """Select demo, let its preflight begin (held at the gate), press `s`: the start waits."""
    await pilot.press("4")
    await wait_for(pilot, lambda: "demo" in held.asked)
    assert screen.preset_figures["demo"].preflight is None
    await pilot.press("s")
    assert screen.start_waiting is not None and screen.start_waiting.name == "demo"
    assert WAITING in status_line(screen)


# Pinned figures (s_per_step): the machine is not probed (a torch subprocess: seconds of CPU), so the
# held preflight is the one thing a start waits for; the waiting and dropping are the same either way.


async def test_a_waiting_start_starts_when_its_preflight_arrives(console_home: Path, held: Held):
    app = RecordingApp(s_per_step=1.0)
    async with app.run_test(size=SIZE) as pilot, held:
        screen = app.presets_screen
        await s_waits_for_demos_held_preflight(pilot, screen, held)
        await pilot.pause(0.2)
        assert app.started == []  # still waiting: the preflight is held
        held.release()
        await wait_for(pilot, lambda: app.started == ["demo"])
        assert screen.start_waiting is None and WAITING not in status_line(screen)
        assert not isinstance(app.screen, ConfirmStartScreen)


async def test_moving_to_another_preset_drops_a_start_that_waits_for_its_preflight(console_home: Path,
                                                                                  held: Held):
    app = RecordingApp(s_per_step=1.0)
    async with app.run_test(size=SIZE) as pilot, held:
        screen = app.presets_screen
        await s_waits_for_demos_held_preflight(pilot, screen, held)
        await pilot.press("3")  # the user moves on to fast
        assert screen.start_waiting is None
        assert WAITING not in status_line(screen)
        held.release()
        await wait_for(pilot, lambda: screen.preset_figures["demo"].preflight is not None and screen.preset_figures["fast"].preflight is not None)
        await pilot.pause(0.3)
        assert app.started == []  # demo's preflight arrived, and started nothing
        assert not isinstance(app.screen, ConfirmStartScreen) and app.screen is screen
        assert not (console_home / "runs").exists() or not any((console_home / "runs").iterdir())


async def test_an_edit_drops_a_start_that_waits_for_its_preflight(console_home: Path, held: Held):
    app = RecordingApp(s_per_step=1.0)
    async with app.run_test(size=SIZE) as pilot, held:
        screen = app.presets_screen
        await s_waits_for_demos_held_preflight(pilot, screen, held)
        await edit_value(pilot, app, screen, "train.epochs", "7")
        assert screen.start_waiting is None and WAITING not in status_line(screen)
        await pilot.press("d")  # discard: demo as saved again, its preflight asked again
        held.release()
        await wait_for(pilot, checked(screen, "demo"))
        await pilot.pause(0.3)
        assert app.started == []  # the saved demo's preflight arrived after the edit, and started nothing
