"""Reading and validating JSON-lines datasets with the standard library.

The console (torch-free) and the trainer read rows the same way, so a row the console calls
good is a row the trainer trains on. A preset says how a row becomes a pair: the source is one
or more fields joined with spaces (a list field is joined too, as the user's scripts did) and
the target is one field. Files are only ever read: problems are reported as `file:line: reason`.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emosum_tui.core.data_encoding import UTF8_BOM, decode_data, shape_problem
from emosum_tui.i18n import N_
from emosum_tui.i18n.phrase import Translatable, shown

if TYPE_CHECKING:
    from emosum_tui.core.presets import Preset

BOM = UTF8_BOM  # the name other readers (core.source_rows) strip


@dataclass(frozen=True)
class PairFields:
    """How a row becomes a (source, target) pair."""

    source_fields: tuple[str, ...] = ("case_description", "consultation_process")
    target_field: str = "experience_and_reflection"
    id_field: str = "id"
    source_prefix: str = ""

    @classmethod
    def from_preset(cls, preset: Preset) -> PairFields:
        return cls(
            source_fields=tuple(preset["data.source_fields"]),
            target_field=preset["data.target_field"],
            id_field=preset["data.id_field"],
            source_prefix=preset["data.source_prefix"],
        )


@dataclass(frozen=True)
class Pair:
    """One good row: where it came from and the texts the model sees."""

    line: int
    row_id: Any
    source: str
    target: str


@dataclass(frozen=True)
class Problem:
    """A bad or repeated row. `reason` is English (--json, the event log) and, where core made it,
    a Translatable: `shown()` is the line in the interface's language."""

    path: Path
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"

    def shown(self) -> str:
        return f"{self.path}:{self.line}: {shown(self.reason)}"


@dataclass
class ReadResult:
    """Every good pair of a file and every problem, with the line each came from."""

    path: Path
    pairs: list[Pair] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    blank_lines: int = 0
    duplicates: list[Problem] = field(default_factory=list)  # warnings: rows kept, but repeated
    encoding: str = "UTF-8"  # what the file was read as (core.data_encoding), in words
    file_problem: str | None = None  # the whole file cannot be read as JSON Lines (empty, an array, GB18030): why

    @property
    def ok(self) -> bool:
        return not self.problems and self.file_problem is None

    def file_error(self) -> str:
        """`path: why` for a file that cannot be read at all ("" when it can): English, a Translatable."""
        return Translatable("{path}: {problem}", path=self.path, problem=self.file_problem) if self.file_problem else ""


def _join(value: Any) -> str:
    if isinstance(value, list):
        return " ".join(str(item).strip() for item in value)
    return str(value).strip()


def _empty_field(name: str) -> str:
    return Translatable(N_("empty field '{name}'"), name=name)


def _field_problem(row: dict[str, Any], name: str, allow_list: bool) -> str | None:
    if name not in row:
        return Translatable(N_("missing field '{name}'"), name=name)
    value = row[name]
    if isinstance(value, str):
        return None if value.strip() else _empty_field(name)
    if allow_list and isinstance(value, list):
        if not value:
            return _empty_field(name)
        if not all(isinstance(item, str) for item in value):
            return Translatable(N_("wrong type in field '{name}': a list must hold only strings"), name=name)
        return None if any(item.strip() for item in value) else _empty_field(name)
    if allow_list:
        return Translatable(N_("wrong type in field '{name}': {type}, expected a string or a list of strings"),
                            name=name, type=type(value).__name__)
    return Translatable(N_("wrong type in field '{name}': {type}, expected a string"), name=name, type=type(value).__name__)


def parse_row(raw: bytes, fields: PairFields) -> tuple[dict[str, Any] | None, str | None]:
    """(row, None) for a good line, (None, reason) for a bad one."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, undecodable_reason(exc)
    try:
        row = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, invalid_json_reason(exc)
    if not isinstance(row, dict):
        return None, not_object_reason(row)
    for name in fields.source_fields:
        problem = _field_problem(row, name, allow_list=True)
        if problem:
            return None, problem
    problem = _field_problem(row, fields.target_field, allow_list=False)
    if problem:
        return None, problem
    return row, None


def undecodable_reason(exc: UnicodeDecodeError) -> str:
    return Translatable(N_("undecodable bytes (not UTF-8) at byte {offset}"), offset=exc.start)


def invalid_json_reason(exc: json.JSONDecodeError) -> str:
    """The parser's own words (Python's, in English) stay as they are inside the sentence."""
    return Translatable(N_("invalid JSON: {error} at column {column}"), error=exc.msg, column=exc.colno)


def not_object_reason(row: Any) -> str:
    return Translatable(N_("not a JSON object (a {type})"), type=type(row).__name__)


def read_pairs(path: Path, fields: PairFields = PairFields()) -> ReadResult:
    """Read a JSON-lines file: good rows become pairs, bad ones problems. BOM, CRLF, blank lines
    and UTF-16 are fine; repeated ids and repeated (source, target) pairs are reported as
    warnings. A file that is not JSON Lines as a whole (empty, an array, a legacy code page)
    gets one `file_problem` and no rows."""
    path = Path(path)
    decoded = decode_data(path.read_bytes(), path)
    problem = decoded.problem or shape_problem(decoded.body, path)
    result = ReadResult(path=path, encoding=decoded.encoding, file_problem=problem)
    if problem:
        return result
    data = decoded.body
    line_ends = data.count(b"\n")
    seen_ids: dict[Any, int] = {}
    seen_pairs: dict[int, int] = {}
    for number, raw in enumerate(data.split(b"\n"), start=1):
        raw = raw.rstrip(b"\r")
        if not raw.strip():
            # The split leaves one empty piece after a final newline; it is not a blank line.
            result.blank_lines += number <= line_ends
            continue
        row, reason = parse_row(raw, fields)
        if row is None:
            result.problems.append(Problem(path, number, reason or Translatable(N_("bad row"))))
            continue
        source = fields.source_prefix + " ".join(_join(row[name]) for name in fields.source_fields)
        pair = Pair(line=number, row_id=row.get(fields.id_field), source=source, target=_join(row[fields.target_field]))
        if pair.row_id is not None and not isinstance(pair.row_id, (dict, list)):
            if pair.row_id in seen_ids:
                result.duplicates.append(Problem(path, number, Translatable(N_("id {id} repeats line {line}"),
                                                                            id=repr(pair.row_id), line=seen_ids[pair.row_id])))
            else:
                seen_ids[pair.row_id] = number
        key = hash((pair.source, pair.target))
        if key in seen_pairs:
            same = Translatable(N_("same source and target as line {line}"), line=seen_pairs[key])
            result.duplicates.append(Problem(path, number, same))
        else:
            seen_pairs[key] = number
        result.pairs.append(pair)
    return result


def ids_shared(train: ReadResult, validation: ReadResult) -> list[Problem]:
    """Validation rows whose id also appears in training (a leak, or an id clash)."""
    train_ids: dict[Any, int] = {}
    for pair in train.pairs:
        if pair.row_id is not None and not isinstance(pair.row_id, (dict, list)):
            train_ids.setdefault(pair.row_id, pair.line)
    return [
        Problem(validation.path, p.line, Translatable(N_("id {id} also in {file} line {line}"), id=repr(p.row_id),
                                                      file=train.path.name, line=train_ids[p.row_id]))
        for p in validation.pairs
        if p.row_id in train_ids and not isinstance(p.row_id, (dict, list))
    ]


def texts_shared(train: ReadResult, validation: ReadResult) -> list[Problem]:
    """Validation rows whose source also appears in training word for word."""
    train_sources = {p.source: p.line for p in train.pairs}
    return [
        Problem(validation.path, p.line, Translatable(N_("same source as {file} line {line}"), file=train.path.name,
                                                      line=train_sources[p.source]))
        for p in validation.pairs
        if p.source in train_sources
    ]


def file_digest(path: Path) -> str:
    """A content hash for caches keyed by data (token statistics, the demo tokenizer)."""
    import hashlib

    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def count_by_reason(problems: list[Problem]) -> Counter[str]:
    """'invalid JSON: …' and 'missing field …' grouped by the words before the detail."""
    return Counter(p.reason.split(":")[0].split(" at ")[0] for p in problems)
