"""Generation from a trained model: which folder is meant, the worker's protocol, and the commands.

The fast tests build folders by hand (the resolver reads files only). The slow ones train the
real demo once (`emosum-tui train demo --headless`) and then run `evaluate`, `generate` and
`try` on it as a user would, and talk to the worker through `GenerationClient`.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.project import CHECKOUT, copy_project

from emosum_tui.core.data import PairFields
from emosum_tui.core.generation_client import GenerationClient, Prediction, Ready, Token, WorkerError, parse_event
from emosum_tui.core.model_dir import ModelDirError, resolve_model_dir
from emosum_tui.core.source_rows import read_sources

REAL_ITEMS = CHECKOUT.parent / "shared" / "data" / "longemotion_es_eval150.jsonl"


def fake_model(path: Path, config: dict | None = None, tokenizer: bool = True) -> Path:
    """A folder that looks like a saved seq2seq model to the resolver (it reads files, not weights)."""
    path.mkdir(parents=True)
    (path / "config.json").write_text(json.dumps(config or {"model_type": "mt5", "is_encoder_decoder": True}))
    (path / "model.safetensors").write_bytes(struct.pack("<Q", 2) + b"{}")  # a whole (empty) safetensors file
    (path / "trainer_state.json").write_text("{}")
    if tokenizer:
        (path / "tokenizer.json").write_text("{}")
    return path


def fake_run(run_dir: Path, output_dir: Path, done_final: Path | None = None) -> Path:
    run_dir.mkdir(parents=True)
    (run_dir / "status.json").write_text(json.dumps({"state": "stopped", "preset": "demo", "output_dir": str(output_dir)}))
    if done_final is not None:
        done = {"v": 1, "kind": "done", "seq": 0, "t": time.time(), "reason": "completed", "final_path": str(done_final)}
        (run_dir / "events.jsonl").write_text(json.dumps(done) + "\n")
    return run_dir


# ---------------------------------------------------------------------------------------------
# Which model (fast).


def test_a_model_folder_is_used_as_it_is(tmp_path: Path) -> None:
    model = fake_model(tmp_path / "m")
    resolved = resolve_model_dir(model)
    assert resolved.model_dir == model and resolved.kind == "model" and resolved.note == ""


def test_a_run_dir_means_its_final_model(tmp_path: Path) -> None:
    output = tmp_path / "model" / "demo"
    final = fake_model(output / "final")
    fake_model(output / "checkpoint-20")
    resolved = resolve_model_dir(fake_run(tmp_path / "run", output, done_final=final))
    assert resolved.model_dir == final and resolved.kind == "final" and resolved.run_dir == tmp_path / "run"


def test_a_run_without_a_final_model_means_its_latest_checkpoint_and_says_so(tmp_path: Path) -> None:
    output = tmp_path / "model" / "demo"
    for step in (5, 40, 100):
        fake_model(output / f"checkpoint-{step}")
    fake_model(output / "checkpoint-120")
    (output / "checkpoint-120" / "trainer_state.json").unlink()  # a save cut short: never the model to use
    resolved = resolve_model_dir(fake_run(tmp_path / "run", output))
    assert resolved.model_dir == output / "checkpoint-100" and resolved.kind == "checkpoint" and resolved.step == 100
    assert "no final model" in resolved.note and "checkpoint-100" in resolved.note


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda p: p.mkdir(), "not a model folder (no config.json)"),
        (lambda p: fake_model(p, {"model_type": "bert", "architectures": ["BertModel"]}), "not an encoder-decoder"),
        (lambda p: fake_model(p, tokenizer=False), "no tokenizer"),
        (lambda p: None, "no such folder"),
    ],
)
def test_a_folder_that_is_no_model_is_one_clear_message(tmp_path: Path, make, words: str) -> None:
    path = tmp_path / "folder"
    make(path)
    with pytest.raises(ModelDirError) as caught:
        resolve_model_dir(path)
    assert words in str(caught.value) and str(path) in str(caught.value)


def test_a_non_model_folder_exits_2_with_its_name(tmp_path: Path) -> None:
    (tmp_path / "notes").mkdir()
    for command in ("evaluate", "generate", "try"):
        done = subprocess.run([sys.executable, "-m", "emosum_tui", command, str(tmp_path / "notes")], input="",
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 2, (command, done.stderr)
        assert f"{tmp_path / 'notes'}: not a model folder" in done.stderr and done.stdout == ""


def test_source_rows_from_data_rows_or_a_plain_source() -> None:
    lines = [
        json.dumps({"id": 7, "case_description": ["A.", "B."], "consultation_process": ["Client: hi"]}).encode(),
        b'{"source": "Client: \\u6211\\u5f88\\u96be\\u8fc7"}',
        b"not json",
        b'{"id": 9, "case_description": ["A."]}',
        b"",
    ]
    read = read_sources(lines, "rows.jsonl", PairFields(source_prefix="summarize: "))
    assert [(r.line, r.row_id, r.source) for r in read.rows] == [
        (1, 7, "summarize: A. B. Client: hi"), (2, 2, "summarize: Client: 我很难过")]
    assert [(p.line, p.reason.split(":")[0]) for p in read.problems] == [(3, "invalid JSON"), (4, "no 'source' field and missing field 'consultation_process'")]


def test_protocol_lines_become_typed_events() -> None:
    assert parse_event('{"type": "token", "id": 3, "text": " the"}') == Token(3, " the")
    assert parse_event('{"type": "prediction", "id": "a", "prediction": "x", "tokens": 2}') == Prediction("a", "x", 2, 0.0)
    assert parse_event('{"type": "error", "message": "line 2: bad", "line": 2}') == WorkerError("line 2: bad", None, 2)
    assert parse_event("Loading weights 100%") is None and parse_event('{"type": "ready"}') is None


# ---------------------------------------------------------------------------------------------
# The real demo model (slow).


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private project home (presets/ and data/ copied): runs, models and caches stay in tmp."""
    return copy_project(tmp_path_factory.mktemp("generation") / "home")


def env_for(home: Path) -> dict[str, str]:
    return {**os.environ, "EMOSUM_HOME": str(home), "EMOSUM_CACHE": str(home / ".cache"), "HF_HUB_OFFLINE": "1"}


@pytest.fixture(scope="module")
def demo_run(home: Path) -> Path:
    """`emosum-tui train demo --headless` to the end, once for this module."""
    run_dir = home / "runs" / "demo-run"
    done = subprocess.run([sys.executable, "-m", "emosum_tui", "train", "demo", "--headless", "--run-dir", str(run_dir)],
                          cwd=home, env=env_for(home), capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return run_dir


def emosum(home: Path, *args: str, stdin: str = "", timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "emosum_tui", *args], cwd=home, env=env_for(home), input=stdin,
                          capture_output=True, text=True, timeout=timeout)


@pytest.mark.slow
def test_evaluate_reports_the_model_beside_the_baseline(home: Path, demo_run: Path) -> None:
    done = emosum(home, "evaluate", str(demo_run), "--limit", "8", "--json")
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert body["rows"] == 8
    for side in ("model", "baseline"):
        assert {"rouge1", "rouge2", "rougeL"} <= set(body[side])
        assert all(0.0 <= body[side][k] <= 1.0 for k in ("rouge1", "rouge2", "rougeL"))
    assert body["baseline"]["rouge1"] > 0.5  # the validation targets are one template
    assert 0 < body["model"]["distinct_share"] <= 1 and body["model"]["mean_generated_tokens"] > 0
    predictions = Path(body["predictions"])
    assert predictions == home / "model" / "demo" / "final" / "predictions.jsonl"
    rows = [json.loads(line) for line in predictions.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 8 and set(rows[0]) == {"id", "prediction", "reference"}
    assert "predicted 8/8" in done.stderr


@pytest.mark.slow
def test_evaluate_reads_the_official_items_and_counts_bad_rows(home: Path, demo_run: Path, tmp_path: Path) -> None:
    if not REAL_ITEMS.exists():
        pytest.skip(f"{REAL_ITEMS} is not beside this checkout")
    data = tmp_path / "eval.jsonl"
    lines = REAL_ITEMS.read_text(encoding="utf-8").splitlines()[:2]
    data.write_text("\n".join([lines[0], '{"id": 99}', lines[1]]) + "\n", encoding="utf-8")
    out = tmp_path / "predictions.jsonl"
    done = emosum(home, "evaluate", str(demo_run), "--data", str(data), "--out", str(out), "--max-new-tokens", "16", "--json")
    assert done.returncode == 1, done.stderr  # a bad row was skipped
    assert f"{data}:2: missing field 'case_description'" in done.stderr
    body = json.loads(done.stdout)
    assert body["rows"] == 2 and body["skipped_rows"] == 1 and out.exists()
    refused = emosum(home, "evaluate", str(demo_run), "--data", str(data), "--out", str(data))
    assert refused.returncode == 2 and "never overwrite" in refused.stderr


@pytest.mark.slow
def test_generate_prints_one_json_line_per_row(home: Path, demo_run: Path) -> None:
    row = (home / "data" / "validation" / "Emotion_Summary.jsonl").read_text(encoding="utf-8").splitlines()[0]
    done = emosum(home, "generate", str(demo_run), "--max-new-tokens", "24", stdin=row + "\n")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 1
    body = json.loads(lines[0])
    assert body["id"] == json.loads(row)["id"] and body["prediction"].strip()


@pytest.mark.slow
def test_try_streams_a_reflection_for_piped_text(home: Path, demo_run: Path) -> None:
    done = emosum(home, "try", str(demo_run), "--max-new-tokens", "16", stdin="Client: I lost my job.\nCounselor: Tell me more.\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() and "tokens," in done.stderr


@pytest.mark.slow
def test_the_client_streams_tokens_and_survives_a_bad_line(demo_run: Path, tmp_path: Path) -> None:
    model = resolve_model_dir(demo_run).model_dir
    stderr = tmp_path / "worker.stderr.log"
    with GenerationClient(model, max_new_tokens=12, stderr_path=stderr).start() as client:
        ready = client.wait_ready()
        assert isinstance(ready, Ready) and ready.device in ("cpu", "cuda") and ready.max_new_tokens == 12
        client.send_line("this is not JSON")
        client.send_line('{"id": "no source"}')
        request = client.send("Client: I feel nervous about my exams.", stream=True)
        seen = []
        for event in client.events(timeout=300):
            seen.append(event)
            if isinstance(event, Prediction):
                break
        errors = [e for e in seen if isinstance(e, WorkerError)]
        assert [e.line for e in errors] == [1, 2] and "invalid JSON" in errors[0].message
        tokens = [e for e in seen if isinstance(e, Token)]
        assert tokens and all(t.id == request for t in tokens)
        prediction = seen[-1]
        assert prediction.id == request and prediction.prediction.strip()
        assert "".join(t.text for t in tokens).strip() == prediction.prediction
        assert client.running
    assert not client.running and client.exited is not None and client.exited.code == 0


@pytest.mark.slow
def test_a_killed_client_leaves_no_worker(demo_run: Path, tmp_path: Path) -> None:
    client = GenerationClient(resolve_model_dir(demo_run).model_dir, stderr_path=tmp_path / "err.log").start()
    client.kill()
    assert not client.running
    events = list(client.events(timeout=30))
    assert events and events[-1] == client.exited and client.exited.code != 0

