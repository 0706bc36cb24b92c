"""A finding of the doctor: what is wrong (or fine), the numbers that show it, and the fix.

Preflight checks, live rules and failure advice all speak in `Finding`s, so the CLI, the
presets screen, the "why is it slow" panel and the run's diagnosis log show the same thing.
A finding keeps its words as `Phrase`s (English templates and their values): `title`,
`evidence` and `fix` are drawn in the interface's language when read, so a language switch
reaches findings made before it; `to_dict` and `to_event` (`--json`, `diagnosis.jsonl`) are English.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from emosum_tui.core.events import Diagnosis
from emosum_tui.i18n import N_
from emosum_tui.i18n.phrase import Phrase, english, shown

# Worst first: the order findings are shown in.
SEVERITIES = ("error", "warning", "info", "ok")


@dataclass(frozen=True, init=False)
class Finding:
    """One check's verdict. `evidence` holds the numbers; `fix` is the concrete change ("" when none is needed).

    `Finding(code, severity, title, evidence, fix="", changes=())`: each text is a `Phrase`, or a
    plain message (a constant marked with `N_`, or English read back from a log)."""

    code: str
    severity: str  # one of SEVERITIES
    title_words: Phrase | str
    evidence_words: Phrase | str
    fix_words: Phrase | str = ""
    changes: tuple[tuple[str, Any], ...] = ()  # preset edits that apply the fix (one key in the console)

    def __init__(self, code: str, severity: str, title: Phrase | str, evidence: Phrase | str, fix: Phrase | str = "",
                 changes: tuple[tuple[str, Any], ...] = ()) -> None:
        if severity not in SEVERITIES:
            raise ValueError(f"severity {severity!r} is not one of {SEVERITIES}")
        for name, value in (("code", code), ("severity", severity), ("title_words", title), ("evidence_words", evidence),
                            ("fix_words", fix), ("changes", changes)):
            object.__setattr__(self, name, value)

    @property
    def title(self) -> str:
        return shown(self.title_words)

    @property
    def evidence(self) -> str:
        return shown(self.evidence_words)

    @property
    def fix(self) -> str:
        return shown(self.fix_words)

    @property
    def rank(self) -> int:
        return SEVERITIES.index(self.severity)

    def to_dict(self) -> dict[str, Any]:
        """The finding for `--json`: English, whatever the interface's language."""
        return {"code": self.code, "severity": self.severity, "title": english(self.title_words),
                "evidence": english(self.evidence_words), "fix": english(self.fix_words), "changes": self.changes}

    def to_event(self) -> Diagnosis:
        return Diagnosis(code=self.code, severity=self.severity, message=english(self.title_words),
                         evidence=english(self.evidence_words), fix=english(self.fix_words))

    @classmethod
    def from_event(cls, event: Diagnosis) -> Finding:
        """A logged finding: its English words, shown through the catalog (a fixed title reads translated)."""
        severity = event.severity if event.severity in SEVERITIES else "info"
        return cls(event.code, severity, event.message, event.evidence, event.fix)


def worst_first(findings: list[Finding]) -> list[Finding]:
    """Errors, then warnings, then notes; the order within one severity is kept (rules list the likeliest cause first)."""
    return sorted(findings, key=lambda f: f.rank)


def same_batch_fix(batch: int, accum: int, effective: int) -> Phrase:
    """The micro-batch change that keeps the effective batch (and so the optimizer's steps), as a fix says it."""
    return Phrase(N_("train.batch_size = {batch} with train.grad_accum = {accum} (same effective batch {effective})"),
                  batch=batch, accum=accum, effective=effective)


def gib(value: float | None) -> str:
    """Bytes for evidence text: "7.6 GiB", or "58 MiB" below a GiB; '?' when unknown."""
    if value is None:
        return "?"
    if abs(value) < 2**30:
        return f"{value / 2**20:.0f} MiB"
    return f"{value / 2**30:.1f} GiB"
