"""Every data file is read or explained in one message, and never changed: UTF-16 (what Windows
PowerShell 5's `>` writes) is read; GB18030, a JSON array and an empty file are named, with the
conversion. Output to a console or file in a legacy code page never crashes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from emosum_tui.cli import main
from emosum_tui.core.data import read_pairs
from emosum_tui.trainer.dataset_loading import read_rows
from emosum_tui.trainer.health import BadDataError

ROWS = [
    {"id": i, "case_description": [f"来访者是一名大学生，第{i}次咨询。"], "consultation_process": ["Client: 我最近睡不好。", "Counselor: 能多说一点吗？"],
     "experience_and_reflection": f"咨询师反思：共情与倾听很重要 ({i})。"}
    for i in range(1, 6)
]
TEXT = "".join(json.dumps(row, ensure_ascii=False) + "\r\n" for row in ROWS)  # CRLF, as Windows writes
UTF16 = {
    "UTF-16 LE with BOM": b"\xff\xfe" + TEXT.encode("utf-16-le"),
    "UTF-16 BE with BOM": b"\xfe\xff" + TEXT.encode("utf-16-be"),
    "UTF-16 LE without BOM": TEXT.encode("utf-16-le"),
    "UTF-16 BE without BOM": TEXT.encode("utf-16-be"),
}


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def run_conversion(message: str, cwd: Path) -> None:
    """Run the Python one-liner the message gives, as a user would paste it into a shell."""
    command = message[message.index("python -c"):].replace("python -c", f'"{sys.executable}" -c', 1)
    subprocess.run(command, shell=True, check=True, cwd=cwd)


@pytest.mark.parametrize("encoding", list(UTF16))
def test_utf16_with_and_without_bom_is_read_as_it_is(encoding: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path / "train.jsonl", UTF16[encoding])
    expected = read_pairs(write(tmp_path / "utf8.jsonl", TEXT.encode("utf-8")))
    result = read_pairs(path)
    assert result.ok and result.encoding == encoding
    assert [(p.line, p.row_id, p.source, p.target) for p in result.pairs] == [
        (p.line, p.row_id, p.source, p.target) for p in expected.pairs
    ]
    assert result.pairs[0].target == "咨询师反思：共情与倾听很重要 (1)。"
    assert main(["data", "check", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"{path}: 5 good rows, 0 bad" in out and f"read as {encoding} (the file is left as it is)" in out
    assert path.read_bytes() == UTF16[encoding]


def test_gb18030_is_named_with_the_conversion_which_works(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    raw = TEXT.encode("gb18030")
    path = write(tmp_path / "train.jsonl", raw)
    assert main(["data", "check", str(path)]) == 2
    captured = capsys.readouterr()
    errors = [line for line in captured.err.splitlines() if line.strip()]
    assert len(errors) == 1, "one message for the file, not one per line"
    assert errors[0].startswith(f"error: {path}: looks like GB18030/GBK (the legacy code page of Chinese Windows), not UTF-8")
    assert f"PowerShell: Get-Content '{path}' | Set-Content -Encoding utf8 '{tmp_path / 'train.utf8.jsonl'}'" in errors[0]
    assert "read_text(encoding='gb18030'), encoding='utf-8')" in errors[0]
    assert "undecodable" not in captured.out + captured.err
    assert path.read_bytes() == raw
    run_conversion(errors[0], tmp_path)
    converted = read_pairs(tmp_path / "train.utf8.jsonl")
    assert converted.ok and converted.pairs[0].target == "咨询师反思：共情与倾听很重要 (1)。"
    assert path.read_bytes() == raw


def test_a_few_bad_lines_in_a_utf8_file_are_still_reported_line_by_line(tmp_path: Path) -> None:
    raw = TEXT.encode("utf-8") + "{\"id\": 9, \"x\": \"é\"}\n".encode("cp1252")
    result = read_pairs(write(tmp_path / "mixed.jsonl", raw))
    assert result.file_problem is None and len(result.pairs) == 5
    assert [str(p) for p in result.problems] == [f"{tmp_path / 'mixed.jsonl'}:6: undecodable bytes (not UTF-8) at byte 16"]


@pytest.mark.parametrize("indent", [None, 2], ids=["one-line", "pretty"])
def test_a_json_array_is_named_as_such_with_the_conversion(indent: int | None, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    raw = json.dumps(ROWS, ensure_ascii=False, indent=indent).encode("utf-8")
    path = write(tmp_path / "train.json", raw)
    assert main(["data", "check", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"error: {path}: is a JSON array of 5 items, not JSON Lines; JSON Lines expected: one object per line" in err
    assert path.read_bytes() == raw
    run_conversion(err.strip(), tmp_path)
    assert [p.row_id for p in read_pairs(tmp_path / "train.jsonl").pairs] == [1, 2, 3, 4, 5]


def test_one_pretty_printed_object_is_named(tmp_path: Path) -> None:
    raw = json.dumps(ROWS[0], ensure_ascii=False, indent=2).encode("utf-8")
    result = read_pairs(write(tmp_path / "one.jsonl", raw))
    assert result.file_problem == "is one JSON object spread over 11 lines, not JSON Lines; JSON Lines expected: one object per line"
    assert (tmp_path / "one.jsonl").read_bytes() == raw


@pytest.mark.parametrize(("raw", "said"), [(b"", "is empty (no rows)"), (b"\r\n\n  \n", "is empty (only blank lines, no rows)"),
                                           (b"\xef\xbb\xbf", "is empty (no rows)")], ids=["0-bytes", "blank-lines", "bom-only"])
def test_an_empty_file_is_an_error(raw: bytes, said: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path / "empty.jsonl", raw)
    assert main(["data", "check", str(path)]) == 2
    captured = capsys.readouterr()
    assert f"error: {path}: {said}" in captured.err
    assert "diversity" not in captured.out  # no statistics over zero rows
    assert path.read_bytes() == raw


def test_the_trainer_refuses_an_unreadable_file_with_the_same_message(home: Path) -> None:
    train = home / "gbk-train.jsonl"
    train.write_bytes(TEXT.encode("gb18030"))
    (home / "presets" / "gbk.toml").write_text(f'extends = "demo"\n[data]\ntrain_file = {json.dumps(str(train))}\n', encoding="utf-8")
    from emosum_tui.core.presets import load_preset

    with pytest.raises(BadDataError, match=r"gbk-train\.jsonl: looks like GB18030/GBK"):
        read_rows(load_preset("gbk"), lambda event: None)


def emosum_tui_command() -> list[str]:
    script = Path(sys.executable).with_name("emosum-tui")
    return [str(script)] if script.exists() else [sys.executable, "-m", "emosum_tui"]


@pytest.mark.parametrize("encoding", ["cp936", "ascii"])
@pytest.mark.parametrize("command", [["doctor"], ["presets"]], ids=["doctor", "presets"])
def test_output_to_a_file_in_a_legacy_code_page_never_crashes(encoding: str, command: list[str], home: Path, tmp_path: Path) -> None:
    out, err = tmp_path / "out.txt", tmp_path / "err.txt"
    env = {**os.environ, "PYTHONIOENCODING": encoding, "EMOSUM_HOME": str(home), "HF_HUB_OFFLINE": "1"}
    with out.open("wb") as stdout, err.open("wb") as stderr:
        done = subprocess.run([*emosum_tui_command(), *command], stdout=stdout, stderr=stderr, env=env, cwd=home, timeout=120)
    errors = err.read_text(encoding=encoding, errors="replace")
    assert "Traceback" not in errors and "UnicodeEncodeError" not in errors, errors[-2000:]
    assert done.returncode in (0, 1), errors[-2000:]  # doctor exits 1 when it finds an error on this machine
    text = out.read_bytes().decode(encoding)  # what was written is valid in the stream's encoding
    assert ("This machine" if command == ["doctor"] else "demo") in text
    if command == ["doctor"]:
        assert "?" in text  # the marks it cannot hold are replaced, the report is whole
