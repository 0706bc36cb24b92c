"""The presets screen's preflight: the doctor's findings for the selected preset, and a start
that asks first when they hold an error.

This machine's facts (NVML, psutil, torch in a probe subprocess: a few seconds) are gathered once
per console in a thread worker after the first frame; then only `preflight()` reruns, in a
worker, when the selection or an edit changes the preset (findings are kept per preset name; an
edit or a calibration forgets them). With the figures pinned (tests, snapshots) the machine is
not asked and preflight checks only the preset's own files (model, data).

A mixin of `PresetsScreen` (it uses the screen's `current`, `background`, `_status` and the
`#preflight-panel` it composes), so the screen module keeps to the presets and their figures.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import work
from textual.message import Message

from emosum_tui.core.presets import Preset
from emosum_tui.ui import figures

if TYPE_CHECKING:
    from emosum_tui.doctor.facts import MachineFacts
    from emosum_tui.doctor.findings import Finding
    from emosum_tui.ui.widgets.preflight_panel import PreflightPanel

NOT_CHECKED = "machine not checked"  # in the panel's border; why is a finding (or: the figures are pinned)


class MachineFactsDone(Message):
    """This machine's facts for preflight (None with the reason when they could not be had)."""

    def __init__(self, facts: MachineFacts | None, note: str = "") -> None:
        super().__init__()
        self.facts = facts
        self.note = note


class PreflightDone(Message):
    """The doctor's preflight findings of one preset (the very object that was checked)."""

    def __init__(self, preset: Preset, findings: list[Finding]) -> None:
        super().__init__()
        self.preset = preset
        self.findings = findings


class PresetsPreflight:
    """Preflight state, workers and the start that consults it (mixed into `PresetsScreen`)."""

    # Provided by the screen this is mixed into.
    current: Preset | None
    background: bool
    app: Any
    query_one: Any
    post_message: Any
    call_later: Any
    _status: Any

    def init_preflight(self) -> None:
        self.machine: MachineFacts | None = None
        self.machine_known = False  # the facts arrived, failed, or are not to be gathered
        self.machine_note = ""  # what preflight could not check ("" when the machine was checked)
        self.machine_error = ""  # why the machine's facts could not be had (a finding says it)
        self.preflights: dict[str, list[Finding]] = {}  # preset name -> findings, worst first
        self.preflight_asked: dict[str, Preset] = {}  # preset name -> the preset object being checked
        self.start_waiting: Preset | None = None  # `s` pressed before its preflight was known
        self.preflight_panel: PreflightPanel | None = None  # mounted after the first frame

    def start_preflight(self, check_machine: bool) -> None:
        """After the first frame: mount the panel (its import costs ~20 ms that the first frame
        need not wait for) and gather this machine's facts (or note that they are not gathered)."""
        if check_machine:
            self.gather_machine(self.current.output_dir if self.current else Path.cwd())
        else:
            self.machine_known, self.machine_note = True, NOT_CHECKED
        self.call_later(self._mount_preflight_panel)

    async def _mount_preflight_panel(self) -> None:
        from emosum_tui.ui.widgets.preflight_panel import PreflightPanel

        side = self.query_one("#presets-side")
        if not side.is_attached:
            return  # the app quit before its first frame settled
        panel = PreflightPanel(id="preflight-panel")
        await side.mount(panel, before=0)
        self.preflight_panel = panel
        self._draw_preflight()

    def forget_preflight(self, name: str) -> None:
        """The preset called `name` changed (an edit, a calibration): check it again when shown."""
        self.preflights.pop(name, None)
        self.preflight_asked.pop(name, None)

    def _draw_preflight(self) -> None:
        preset = self.current
        if preset is None:
            return
        known = preset.name in self.preflights
        if not known and self.machine_known and self.background and self.preflight_asked.get(preset.name) is not preset:
            self.preflight_asked[preset.name] = preset
            self.check_preset(preset)
        panel = self.preflight_panel
        if panel is None:
            return
        if known:
            panel.show_findings(preset.name, self.preflights[preset.name], self.machine_note)
        elif not self.machine_known:
            panel.waiting(preset.name, "checking this machine: torch build, GPU, memory, disk…")
        else:
            panel.waiting(preset.name, "checking…")

    def refresh_machine(self) -> None:
        """Back from a run or the runs list: checkpoints have taken disk, a live run holds memory
        and VRAM. NVML, psutil and the disk are read again (milliseconds); torch's facts cannot
        have changed and are kept, so no probe subprocess runs."""
        if self.machine is None:
            return  # never gathered (figures pinned), or it could not be: nothing to refresh
        self.gather_machine(self.current.output_dir if self.current else Path.cwd(), self.machine.torch)

    # ---- workers --------------------------------------------------------------------------------

    @work(thread=True, group="machine", exclusive=True)
    def gather_machine(self, disk_path: Path, torch_facts: Any = None) -> None:
        facts, note = figures.machine_facts(disk_path, torch_facts)
        self.post_message(MachineFactsDone(facts, note))

    @work(thread=True, group="preflight")
    def check_preset(self, preset: Preset) -> None:
        findings = figures.preflight_findings(preset, self.machine)
        if self.machine_error:
            from emosum_tui.doctor.findings import Finding, worst_first

            findings = worst_first([Finding("machine-not-checked", "warning", "this machine could not be checked (torch, GPU, memory, disk)",
                                            self.machine_error), *findings])
        self.post_message(PreflightDone(preset, findings))

    def on_machine_facts_done(self, message: MachineFactsDone) -> None:
        self.machine, self.machine_known = message.facts, True
        self.machine_note = "" if message.facts is not None else NOT_CHECKED
        self.machine_error = "" if message.facts is not None else message.note
        self.preflights.clear()  # anything checked before is redone with the machine's facts
        self.preflight_asked.clear()
        self._draw_preflight()

    def on_preflight_done(self, message: PreflightDone) -> None:
        preset = message.preset
        if self.preflight_asked.get(preset.name) is not preset:
            return  # an edit or the machine's facts superseded this check
        self.preflights[preset.name] = message.findings
        if self.current is not None and self.current.name == preset.name:
            self._draw_preflight()
        waiting = self.start_waiting
        if waiting is not None and waiting.name == preset.name:
            self.start_waiting = None
            self._status("")
            self._start_checked(waiting, message.findings)

    # ---- starting a run -------------------------------------------------------------------------

    def start_after_preflight(self, saved: Preset) -> None:
        """`s`: start `saved` when its preflight has no error, ask first when it has one, and wait
        for it when it is not known yet (`s` again starts without waiting). Before the first
        frame (`--start` on the command line) the user asked for it at once: no wait."""
        if not self.background:
            self._start(saved)
            return
        findings = self.preflights.get(saved.name)  # an edit drops its preset's findings
        if findings is not None:
            self._start_checked(saved, findings)
        elif self.start_waiting is saved:
            self.start_waiting = None
            self._status("")
            self._start(saved)
        else:
            self.start_waiting = saved
            self._status(f"starting {saved.name} once its preflight is done…   (s again: start without waiting)")
            self._draw_preflight()

    def _forget_waiting_start(self) -> None:
        """A start that waited for its preflight is dropped when the user moves on (or edits)."""
        if self.start_waiting is not None:
            self.start_waiting = None
            self._status("")

    def _start_checked(self, saved: Preset, findings: list[Finding]) -> None:
        """Start at once, or first ask when preflight found an error (naming it)."""
        errors = [f for f in findings if f.severity == "error"]
        if not errors:
            self._start(saved)
            return
        from emosum_tui.ui.screens.confirm_start import ConfirmStartScreen

        def answered(yes: bool | None) -> None:
            if yes:
                self._start(saved)

        self.app.push_screen(ConfirmStartScreen(saved.name, errors), answered)

    def _start(self, saved: Preset) -> None:
        start = getattr(self.app, "start_run", None)
        if start is not None:
            start(str(saved.path))
