"""The presets screen's preflight panel: what stands in the way of the selected preset, worst first.

A `DiagnosisPanel` with a waiting state and a border that names the preset and counts the
findings, so "1 error" is read before any scrolling. It owns its work: this machine's facts
(NVML, psutil, torch in a probe subprocess: a few seconds) are gathered once, in a thread worker,
when the panel is mounted; then only the preset's preflight reruns, in a worker, when the
preset shown changes or is edited. Findings are kept in the screen's `FigureStore`; each new
set is announced with `PreflightPanel.Checked`, so a start that waits for it can go on. With
the figures pinned (tests, snapshots) the machine is not asked and preflight checks only the
preset's own files (model, data). Torch-free.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rich.markup import escape
from textual import work
from textual.message import Message
from textual.widgets import Static

from emosum_tui.core.presets import Preset
from emosum_tui.doctor.findings import SEVERITIES, Finding, worst_first
from emosum_tui.i18n import N_, _, ngettext
from emosum_tui.ui import figures
from emosum_tui.ui.preset_figures import FigureStore
from emosum_tui.ui.widgets.diagnosis_panel import DiagnosisPanel

if TYPE_CHECKING:
    from emosum_tui.doctor.facts import MachineFacts
    from emosum_tui.doctor.torch_probe import TorchFacts

CLEAR = N_("nothing the doctor can see stands in the way of this run")
NOT_CHECKED = N_("machine not checked")  # in the border; why is a finding (or: the figures are pinned)


def count_text(severity: str, count: int) -> str:
    """ "1 error", "2 warnings", "6 ok"."""
    if severity == "error":
        text = ngettext("{n} error", "{n} errors", count)
    elif severity == "warning":
        text = ngettext("{n} warning", "{n} warnings", count)
    elif severity == "info":
        text = ngettext("{n} note", "{n} notes", count)
    else:
        text = ngettext("{n} ok", "{n} ok", count)
    return text.format(n=count)


def summary(findings: Sequence[Finding]) -> str:
    """ "1 error · 1 note · 6 ok" (severities with no finding left out)."""
    counts = ((severity, sum(f.severity == severity for f in findings)) for severity in SEVERITIES)
    return " · ".join(count_text(severity, count) for severity, count in counts if count)


@dataclass
class MachineFactsDone(Message, bubble=False):
    """This machine's facts for preflight (None with the reason when they could not be had)."""

    facts: MachineFacts | None
    note: str = ""


@dataclass
class PreflightDone(Message, bubble=False):
    """The doctor's preflight findings of one preset (the very object that was checked)."""

    preset: Preset
    findings: list[Finding]


class PreflightPanel(DiagnosisPanel):
    """Preflight findings of one preset; passed checks are counted in the border, not listed."""

    @dataclass
    class Checked(Message):
        """The preflight of `preset` is known (and kept in the store): `findings`, worst first."""

        preset: Preset
        findings: list[Finding]

    def __init__(self, store: FigureStore, check_machine: bool, disk_path: Path, **kwargs: object) -> None:
        """`check_machine` False: the figures are pinned, this machine is not asked; `disk_path`
        is where the run would write (the free disk it has)."""
        super().__init__(title=N_("preflight"), empty=CLEAR, **kwargs)
        self.store = store
        self.check_machine = check_machine
        self.disk_path = disk_path
        self.preset: Preset | None = None  # the preset shown
        self.state = "waiting"  # waiting | shown (for tests)
        self.machine: MachineFacts | None = None
        self.machine_known = False  # the facts arrived, failed, or are not to be gathered
        self.machine_note = ""  # what preflight could not check ("" when the machine was checked)
        self.machine_error = ""  # why the machine's facts could not be had (a finding says it)

    def on_mount(self) -> None:
        if self.check_machine:
            self.gather_machine(self.disk_path)
        else:
            self.machine_known, self.machine_note = True, NOT_CHECKED

    # ---- what is shown --------------------------------------------------------------------------

    def show_preset(self, preset: Preset | None) -> None:
        """Show `preset`'s findings, or that they are being worked out (and start that work).
        Called once the panel is mounted."""
        self.preset = preset
        if preset is None:
            return
        known = self.store[preset.name]
        if known.preflight is None and self.machine_known and known.preflight_asked is not preset:
            known.preflight_asked = preset
            self.check_preset(preset)
        if known.preflight is not None:
            self.show_findings(preset.name, known.preflight, self.machine_note)
        elif not self.machine_known:
            self.waiting(preset.name, _("checking this machine: torch build, GPU, memory, disk…"))
        else:
            self.waiting(preset.name, _("checking…"))

    def redraw_words(self) -> None:
        super().redraw_words()
        if self.preset is not None:
            self.show_preset(self.preset)  # the border, the counts, the waiting line

    def _title(self, preset: str, note: str = "") -> None:
        if note:
            self.border_title = _("preflight: {preset} ({note})").format(preset=preset, note=_(note))
        else:
            self.border_title = _("preflight: {preset}").format(preset=preset)

    def waiting(self, preset: str, text: str) -> None:
        """Nothing to show yet for `preset`: say what is being checked."""
        self.state = "waiting"
        self._title(preset)
        self.border_subtitle = ""
        super().show([])
        self.query_one("#diagnosis-empty", Static).update(f"[dim italic]{escape(text)}[/dim italic]")

    def show_findings(self, preset: str, findings: Sequence[Finding], note: str = "") -> None:
        """The findings of `preset`; `note` says what was not checked (e.g. the machine)."""
        self.state = "shown"
        self._title(preset, note)
        self.border_subtitle = summary(findings)
        self.query_one("#diagnosis-empty", Static).update(f"[dim]{escape(_(self.empty))}[/dim]")
        self.set_class(any(f.severity == "error" for f in findings), "has-error")
        super().show(findings)

    def refresh_machine(self, disk_path: Path) -> None:
        """Back from a run or the runs list: checkpoints have taken disk, a live run holds memory
        and VRAM. NVML, psutil and the disk are read again (milliseconds); torch's facts cannot
        have changed and are kept, so no probe subprocess runs."""
        if self.machine is None:
            return  # never gathered (figures pinned), or it could not be: nothing to refresh
        self.gather_machine(disk_path, self.machine.torch)

    # ---- workers --------------------------------------------------------------------------------

    @work(thread=True, group="machine", exclusive=True)
    def gather_machine(self, disk_path: Path, torch_facts: TorchFacts | None = None) -> None:
        facts, note = figures.machine_facts(disk_path, torch_facts)
        self.post_message(MachineFactsDone(facts, note))

    @work(thread=True, group="preflight")
    def check_preset(self, preset: Preset) -> None:
        findings = figures.preflight_findings(preset, self.machine)
        if self.machine_error:
            not_checked = Finding("machine-not-checked", "warning", _("this machine could not be checked (torch, GPU, memory, disk)"),
                                  self.machine_error)
            findings = worst_first([not_checked, *findings])
        self.post_message(PreflightDone(preset, findings))

    def on_machine_facts_done(self, message: MachineFactsDone) -> None:
        self.machine, self.machine_known = message.facts, True
        self.machine_note = "" if message.facts is not None else NOT_CHECKED
        self.machine_error = "" if message.facts is not None else message.note
        self.store.forget_preflights()  # anything checked before is redone with the machine's facts
        self.show_preset(self.preset)

    def on_preflight_done(self, message: PreflightDone) -> None:
        preset = message.preset
        known = self.store[preset.name]
        if known.preflight_asked is not preset:
            return  # an edit or the machine's facts superseded this check
        known.preflight = message.findings
        if self.preset is not None and self.preset.name == preset.name:
            self.show_preset(self.preset)
        self.post_message(self.Checked(preset, message.findings))
