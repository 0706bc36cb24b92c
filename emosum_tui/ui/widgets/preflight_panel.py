"""The presets screen's preflight panel: what stands in the way of the selected preset, worst first.

A `DiagnosisPanel` with a waiting state (the machine facts take a few seconds to gather) and a
border that names the preset and counts the findings, so "1 error" is read before any scrolling.
It only draws: the presets screen feeds it `waiting(...)` and `show_findings(...)`. Torch-free.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.markup import escape
from textual.widgets import Static

from emosum_tui.doctor.findings import SEVERITIES, Finding
from emosum_tui.ui.widgets.diagnosis_panel import DiagnosisPanel

NOUNS = {"error": ("error", "errors"), "warning": ("warning", "warnings"), "info": ("note", "notes"), "ok": ("ok", "ok")}
CLEAR = "nothing the doctor can see stands in the way of this run"


def summary(findings: Sequence[Finding]) -> str:
    """ "1 error · 1 note · 6 ok" (severities with no finding left out)."""
    parts = []
    for severity in SEVERITIES:
        count = sum(f.severity == severity for f in findings)
        if count:
            one, many = NOUNS[severity]
            parts.append(f"{count} {one if count == 1 else many}")
    return " · ".join(parts)


class PreflightPanel(DiagnosisPanel):
    """Preflight findings of one preset; passed checks are counted in the border, not listed."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(title="preflight", empty=CLEAR, **kwargs)
        self.state = "waiting"  # waiting | shown (for tests)

    def _title(self, preset: str, note: str = "") -> None:
        self.border_title = f"preflight: {preset}" + (f" ({note})" if note else "")

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
        self.query_one("#diagnosis-empty", Static).update(f"[dim]{escape(self.empty)}[/dim]")
        self.set_class(any(f.severity == "error" for f in findings), "has-error")
        super().show(findings)
