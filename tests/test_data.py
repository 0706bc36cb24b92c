"""The data layer reads real and broken files, reports each bad line, and never writes."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from support.project import SAMPLE_DATA

from emosum_tui.cli import main
from emosum_tui.core.data import PairFields, ids_shared, read_pairs
from emosum_tui.core.diversity import target_diversity
from emosum_tui.core.presets import load_preset
from emosum_tui.core.sampling import quantile, subsample_indices
from emosum_tui.core.token_stats import approx_tokens, token_report

CHECKOUT = Path(__file__).resolve().parents[1]

BROKEN_LINES = [
    (b'{"id": 1, "case_description": "a"}', "missing field 'consultation_process'"),
    (b"not json", "invalid JSON"),
    (b"[1, 2]", "not a JSON object (a list)"),
    (b'{"id": 2, "case_description": [], "consultation_process": ["x"], "experience_and_reflection": "y"}', "empty field 'case_description'"),
    (b"\xff\xfe{}", "undecodable bytes (not UTF-8)"),
    (b'{"id": 3, "case_description": "a", "consultation_process": "b", "experience_and_reflection": 5}', "wrong type in field 'experience_and_reflection'"),
    (b'{"id": 4, "case_description": "a", "consultation_process": [1], "experience_and_reflection": "t"}', "wrong type in field 'consultation_process'"),
    (b'{"id": 5, "case_description": "a", "consultation_process": "b", "experience_and_reflection": "   "}', "empty field 'experience_and_reflection'"),
]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_real_items_read_as_pairs(real_items: Path) -> None:
    result = read_pairs(real_items)
    assert result.ok and len(result.pairs) == 150
    first = json.loads(real_items.read_text(encoding="utf-8").splitlines()[0])
    assert result.pairs[0].source == " ".join(s.strip() for s in first["case_description"] + first["consultation_process"])
    assert result.pairs[0].target == first["experience_and_reflection"].strip()


def test_each_broken_line_is_reported_and_file_untouched(real_items: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with real_items.open("ab") as handle:
        for raw, _ in BROKEN_LINES:
            handle.write(raw + b"\n")
    before = digest(real_items)
    result = read_pairs(real_items)
    assert len(result.pairs) == 150
    assert [(p.line, p.reason.split(":")[0].split(" at ")[0].split(" (")[0]) for p in result.problems] == [
        (151 + i, reason.split(":")[0].split(" (")[0]) for i, (_, reason) in enumerate(BROKEN_LINES)
    ]
    for problem, (_, reason) in zip(result.problems, BROKEN_LINES, strict=True):
        assert reason in problem.reason
        assert str(problem).startswith(f"{real_items}:{problem.line}: ")
    assert main(["data", "check", str(real_items)]) == 1
    out = capsys.readouterr().out
    assert "150 good rows, 8 bad" in out
    assert f"{real_items}:152: invalid JSON" in out
    assert digest(real_items) == before


def test_bom_crlf_and_blank_lines_are_fine(tmp_path: Path) -> None:
    row = {"id": 1, "case_description": ["中文 描述"], "consultation_process": ["Client: hi"], "experience_and_reflection": "反思"}
    path = tmp_path / "crlf.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(row, ensure_ascii=False).encode() + b"\r\n\r\n" + json.dumps({**row, "id": 2}).encode() + b"\r\n")
    result = read_pairs(path)
    assert result.ok and [p.row_id for p in result.pairs] == [1, 2]
    assert result.blank_lines == 1
    assert result.pairs[0].source == "中文 描述 Client: hi"


def test_duplicates_and_ids_shared_across_files(tmp_path: Path) -> None:
    row = {"id": 7, "case_description": ["a"], "consultation_process": ["b"], "experience_and_reflection": "c"}
    train, validation = tmp_path / "train.jsonl", tmp_path / "validation.jsonl"
    train.write_text(json.dumps(row) + "\n" + json.dumps(row) + "\n", encoding="utf-8")
    validation.write_text(json.dumps({**row, "experience_and_reflection": "d"}) + "\n", encoding="utf-8")
    train_result = read_pairs(train)
    reasons = [d.reason for d in train_result.duplicates]
    assert "id 7 repeats line 1" in reasons and "same source and target as line 1" in reasons
    shared = ids_shared(train_result, read_pairs(validation))
    assert [str(p) for p in shared] == [f"{validation}:1: id 7 also in train.jsonl line 1"]


def test_other_layouts_work_by_naming_fields(tmp_path: Path) -> None:
    path = tmp_path / "cs.jsonl"
    path.write_text('{"content": "long text", "summary": "short"}\n{"content": "x"}\n', encoding="utf-8")
    result = read_pairs(path, PairFields(source_fields=("content",), target_field="summary"))
    assert [(p.source, p.target) for p in result.pairs] == [("long text", "short")]
    assert [str(p) for p in result.problems] == [f"{path}:2: missing field 'summary'"]


def test_subsample_is_a_seeded_view_that_keeps_the_distribution(real_items: Path) -> None:
    pairs = read_pairs(real_items).pairs
    first = subsample_indices(len(pairs), fraction=0.8, seed=42)
    assert first == subsample_indices(len(pairs), fraction=0.8, seed=42)
    assert first != subsample_indices(len(pairs), fraction=0.8, seed=7)
    assert len(first) == 120 and first == sorted(first)
    for text in ("source", "target"):
        every = [len(getattr(p, text)) for p in pairs]
        kept = [every[i] for i in first]
        for q in (0.25, 0.5, 0.75):
            assert quantile(kept, q) == pytest.approx(quantile(every, q), rel=0.15)
    assert subsample_indices(10, count=3, seed=1) == subsample_indices(10, count=3, seed=1)
    assert subsample_indices(10, count=30) == list(range(10))


def test_data_check_with_preset_reports_view_tokens_and_truncation(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = sorted((home / "data").rglob("*.jsonl"))
    before = [digest(f) for f in files]
    assert main(["data", "check", "--preset", "demo", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [f["good_rows"] for f in report["files"]] == [400, 100]
    assert report["shared_ids"] == []
    tokens = report["tokens"]
    assert tokens["exact"] and "tokenizer" in tokens["basis"]
    assert tokens["max_target_tokens"] == 128 and tokens["target_rows_cut"] > 0.9
    assert 0 < tokens["target_tokens_cut"] < 1
    assert report["view"]["rows_used"] == 400
    assert report["files"][0]["diversity"]["low"] is True
    assert [digest(f) for f in files] == before


def test_token_stats_without_tokenizer_say_they_are_approximate(home: Path) -> None:
    report = token_report(load_preset("fast"))
    assert not report.exact and "approximate" in report.basis and "chars/token" in report.basis
    assert 100 < report.source_stats.p50 < 200
    assert approx_tokens("abcd" * 10) == 11 and approx_tokens("我一直在想") == 5


def test_token_stats_are_cached_by_content(home: Path) -> None:
    preset = load_preset("demo")
    first = token_report(preset)
    cached = list((home / ".cache" / "token_lengths").glob("*.json"))
    assert len(cached) == 2
    cached[0].write_text("{torn", encoding="utf-8")  # a damaged cache is rebuilt, not trusted
    assert token_report(preset).train.source == first.train.source


def test_low_target_diversity_is_flagged_only_for_templates(real_items: Path) -> None:
    real = target_diversity([p.target for p in read_pairs(real_items).pairs])
    assert not real.low and real.constant_rouge2 < 0.3
    sample = target_diversity([p.target for p in read_pairs(SAMPLE_DATA / "train" / "Emotion_Summary.jsonl").pairs])
    assert sample.low and sample.constant_rouge1 > 0.6
    assert "LOW target diversity" in sample.message()


def test_missing_file_is_a_clear_error(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "check", str(home / "nope.jsonl")]) == 2
    assert f"{home / 'nope.jsonl'}: no such file" in capsys.readouterr().err


def test_sample_data_script_reproduces_the_bundled_files(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(CHECKOUT / "scripts" / "make_sample_data.py"), "--root", str(tmp_path)], check=True)
    for part in ("train", "validation"):
        made = tmp_path / part / "Emotion_Summary.jsonl"
        assert made.read_bytes() == (SAMPLE_DATA / part / "Emotion_Summary.jsonl").read_bytes()
    rows = [json.loads(line) for line in made.read_text(encoding="utf-8").splitlines()]
    assert any("来访者" in r["experience_and_reflection"] for r in rows)
