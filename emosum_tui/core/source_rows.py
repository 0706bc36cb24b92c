"""Rows to generate for: the model's input text of a JSON-lines row that may have no target.

The rule: a row with a non-empty string `source` field is that text; otherwise the preset's
source fields are joined exactly as training joined them (`core.data`: lists joined with
spaces, fields joined with spaces). The preset's source prefix is put in front unless the text
already starts with it, so the model sees what it was trained on. A bad row is a `Problem`
naming file:line and the reason, never an exception. Torch-free.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emosum_tui.core.data import BOM, PairFields, Problem, invalid_json_reason, not_object_reason, undecodable_reason
from emosum_tui.i18n import N_
from emosum_tui.i18n.phrase import Translatable

SOURCE_FIELD = "source"


@dataclass(frozen=True)
class SourceRow:
    """One row to generate for: its line, its id (the row's, else the line number) and its text."""

    line: int
    row_id: Any
    source: str


@dataclass
class SourceRead:
    """Every usable row of an input and every problem, in input order."""

    label: str  # the file name, or "<stdin>"
    rows: list[SourceRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def _text(value: Any) -> str | None:
    """A string, or a list of strings joined with spaces; None for anything else or nothing."""
    if isinstance(value, str):
        text = value.strip()
    elif isinstance(value, list) and value and all(isinstance(item, str) for item in value):
        text = " ".join(item.strip() for item in value).strip()
    else:
        return None
    return text or None


def source_of(row: dict[str, Any], fields: PairFields) -> tuple[str | None, str | None]:
    """(source, None) for a usable row, (None, reason) otherwise."""
    plain = row.get(SOURCE_FIELD)
    if isinstance(plain, str) and plain.strip():
        text = plain.strip()
    else:
        parts = []
        for name in fields.source_fields:
            if name not in row:
                return None, Translatable(N_("no '{source}' field and missing field '{name}'"), source=SOURCE_FIELD, name=name)
            part = _text(row[name])
            if part is None:
                return None, Translatable(N_("field '{name}' is empty or not a string / list of strings"), name=name)
            parts.append(part)
        text = " ".join(parts)
    prefix = fields.source_prefix
    return (text if not prefix or text.startswith(prefix.strip()) else prefix + text), None


def read_sources(lines: Iterable[bytes], label: str, fields: PairFields | None = None) -> SourceRead:
    """Parse JSON-lines input (BOM, CRLF and blank lines are fine) into rows and problems."""
    fields = fields or PairFields()
    result = SourceRead(label=label)
    path = Path(label)
    for number, raw in enumerate(lines, start=1):
        if number == 1 and raw.startswith(BOM):
            raw = raw[len(BOM):]
        raw = raw.rstrip(b"\r\n")
        if not raw.strip():
            continue
        try:
            row = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            result.problems.append(Problem(path, number, undecodable_reason(exc)))
            continue
        except json.JSONDecodeError as exc:
            result.problems.append(Problem(path, number, invalid_json_reason(exc)))
            continue
        if not isinstance(row, dict):
            result.problems.append(Problem(path, number, not_object_reason(row)))
            continue
        source, reason = source_of(row, fields)
        if source is None:
            result.problems.append(Problem(path, number, reason or Translatable(N_("bad row"))))
            continue
        row_id = row.get(fields.id_field, number)
        result.rows.append(SourceRow(number, row_id if not isinstance(row_id, (dict, list)) else number, source))
    return result
