"""The "why is it slow" panel: the doctor's current findings, worst first, each with evidence and fix.

It only draws: the owner (the training screen) feeds it `show(findings)` from the live
diagnoser (`emosum_tui.doctor.live.LiveDiagnoser`) or the preflight. Torch-free.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.markup import escape
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from emosum_tui.doctor.findings import Finding, worst_first
from emosum_tui.i18n import N_, _
from emosum_tui.ui.widgets.live_text import LiveText

if TYPE_CHECKING:
    from emosum_tui.ui.messages import LanguageChanged

STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan", "ok": "green"}
MARK = {"error": "✗", "warning": "!", "info": "·", "ok": "✓"}


def finding_markup(finding: Finding) -> str:
    style = STYLE[finding.severity]
    lines = [f"[{style}]{MARK[finding.severity]} {escape(finding.title)}[/{style}]",
             "  " + _("[dim]evidence:[/dim] {evidence}").format(evidence=escape(finding.evidence))]
    if finding.fix:
        lines.append("  " + _("[dim]fix:[/dim] {fix}").format(fix=escape(finding.fix)))
    return "\n".join(lines)


class DiagnosisPanel(VerticalScroll):
    """Findings as text; `show([])` says that nothing is wrong as far as the doctor can see.
    `title` and `empty` are English (marked with `N_`), translated where drawn."""

    DEFAULT_CSS = """
    DiagnosisPanel { height: auto; max-height: 14; border: round $warning 50%; border-title-color: $warning; padding: 0 1; }
    DiagnosisPanel .diagnosis-finding { margin-bottom: 1; }
    """

    def __init__(self, title: str = N_("why is it slow"), empty: str = N_("nothing the doctor can see slows this run"),
                 **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.title_text = title
        self.border_title = _(title)
        self.empty = empty
        self.findings: list[Finding] = []

    def compose(self) -> ComposeResult:
        yield Static(f"[dim]{escape(_(self.empty))}[/dim]", id="diagnosis-empty")

    def on_language_changed(self, message: LanguageChanged) -> None:
        self.redraw_words()

    def redraw_words(self) -> None:
        """The title, the empty line and each finding's labels, in the interface's language."""
        self.border_title = _(self.title_text)
        self.query_one("#diagnosis-empty", Static).update(f"[dim]{escape(_(self.empty))}[/dim]")
        for widget, finding in zip(self.query(".diagnosis-finding").results(LiveText), self.findings, strict=False):
            widget.show(finding_markup(finding))

    def show(self, findings: Sequence[Finding], *, include_ok: bool = False) -> None:
        """Replace what is shown (a no-op when nothing changed, so a 1 s feed does not flicker)."""
        chosen = worst_first([f for f in findings if include_ok or f.severity != "ok"])
        if chosen == self.findings:
            return
        self.findings = chosen
        shown = list(self.query(".diagnosis-finding").results(LiveText))
        same_kinds = len(shown) == len(chosen) > 0 and all(
            widget.has_class(f"severity-{finding.severity}") for widget, finding in zip(shown, chosen, strict=True)
        )
        if same_kinds:  # the same findings with new figures (a 1 s feed): redraw the words, mount nothing
            for widget, finding in zip(shown, chosen, strict=True):
                widget.show(finding_markup(finding))
            return
        for old in shown:
            old.remove()
        self.query_one("#diagnosis-empty", Static).display = not chosen
        self.mount_all(LiveText(finding_markup(f), classes=f"diagnosis-finding severity-{f.severity}") for f in chosen)

    @property
    def text(self) -> str:
        """What is shown, as plain text (for tests and the clipboard)."""
        return "\n".join(f"{f.severity}: {f.title} | {f.evidence} | {f.fix}" for f in self.findings)
