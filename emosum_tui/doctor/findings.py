"""A finding of the doctor: what is wrong (or fine), the numbers that show it, and the fix.

Preflight checks, live rules and failure advice all speak in `Finding`s, so the CLI, the
presets screen, the "why is it slow" panel and the run's diagnosis log show the same thing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from emosum_tui.core.events import Diagnosis

# Worst first: the order findings are shown in.
SEVERITIES = ("error", "warning", "info", "ok")


@dataclass(frozen=True)
class Finding:
    """One check's verdict. `evidence` holds the numbers; `fix` is the concrete change ("" when none is needed)."""

    code: str
    severity: str  # one of SEVERITIES
    title: str
    evidence: str
    fix: str = ""
    changes: tuple[tuple[str, Any], ...] = ()  # preset edits that apply the fix (one key in the console)

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity {self.severity!r} is not one of {SEVERITIES}")

    @property
    def rank(self) -> int:
        return SEVERITIES.index(self.severity)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_event(self) -> Diagnosis:
        return Diagnosis(code=self.code, severity=self.severity, message=self.title, evidence=self.evidence, fix=self.fix)

    @classmethod
    def from_event(cls, event: Diagnosis) -> Finding:
        severity = event.severity if event.severity in SEVERITIES else "info"
        return cls(code=event.code, severity=severity, title=event.message, evidence=event.evidence, fix=event.fix)


def worst_first(findings: list[Finding]) -> list[Finding]:
    """Errors, then warnings, then notes; the order within one severity is kept (rules list the likeliest cause first)."""
    return sorted(findings, key=lambda f: f.rank)


def gib(value: float | None) -> str:
    """Bytes for evidence text: "7.6 GiB", or "58 MiB" below a GiB; '?' when unknown."""
    if value is None:
        return "?"
    if abs(value) < 2**30:
        return f"{value / 2**20:.0f} MiB"
    return f"{value / 2**30:.1f} GiB"
