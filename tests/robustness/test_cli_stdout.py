"""`--output -`: every single-file output can go to standard output (and parses there); folder outputs
refuse `-` with one line and exit 2; every command's --help lists the exit codes."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET

import pytest

from robustness.helpers import cli_error
from robustness.toy_runs import build_toy_dataset, toy_documents
from tradeie.cli import main

FOLDER_REFUSAL = "is a folder and cannot be written to standard output"


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    """A dataset folder, a blank spaCy pipeline, a `rules` run on it, gold and corpus JSONL, a text file."""
    import spacy

    from tradeie.io.jsonl import write_documents

    root = tmp_path_factory.mktemp("stdout")
    dataset = build_toy_dataset(root / "ds")
    blank = root / "blank"
    spacy.blank("en").to_disk(blank)
    run = root / "run"
    argv = ["-q", "train", "system", "rules", "--dataset", dataset, "--set", f"pipeline={blank}", "--output", run]
    assert main([str(a) for a in argv]) == 0
    docs = toy_documents()
    gold = write_documents(root / "gold.jsonl", docs)
    corpus = write_documents(root / "corpus.jsonl", [d.with_annotations((), ()) for d in docs], "corpus")
    text = root / "d0.txt"
    text.write_text(docs[0].text, encoding="utf-8")
    return {"root": root, "dataset": dataset, "blank": blank, "run": run, "gold": gold, "corpus": corpus, "text": text}


def stdout_of(capsys, argv) -> tuple[str, str]:
    """Run ``tradeie ARGV`` (exit 0 expected): its standard output and standard error."""
    capsys.readouterr()
    assert main([str(a) for a in argv]) == 0
    captured = capsys.readouterr()
    return captured.out, captured.err


def jsonl(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_corpus_build_writes_jsonl_to_stdout(capsys, seeds, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out, err = stdout_of(capsys, ["corpus", "build", "--seeds", seeds, "--articles", "", "--heldout", "", "--out", "-"])
    [row] = jsonl(out)
    assert row["id"] == "good" and row["text"].startswith("India and the U.S.")
    assert "wrote 1 documents to standard output" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["seeds"]  # no file written besides


def test_annotations_config_and_agreement_to_stdout(capsys, tmp_path):
    from tradeie.labelstudio.format import to_tasks
    from tradeie.schema import labeling_config

    out, _ = stdout_of(capsys, ["annotations", "config", "--output", "-"])
    assert out == labeling_config() and ET.fromstring(out).tag == "View"

    export = tmp_path / "a.json"
    export.write_text(json.dumps(to_tasks(toy_documents())), encoding="utf-8")
    out, _ = stdout_of(capsys, ["annotations", "agreement", export, export, "--output", "-"])
    figures = json.loads(out)  # the JSON alone: no tables
    assert figures["token_kappa"] == pytest.approx(1.0) and len(figures["documents"]) == 3


def test_dataset_stats_and_conll_export_to_stdout(capsys, toy, tiny_model):
    out, _ = stdout_of(capsys, ["dataset", "stats", toy["dataset"], "--tokenizer", tiny_model, "--output", "-"])
    stats = json.loads(out)
    assert stats["total"]["documents"] == 3

    out, _ = stdout_of(
        capsys, ["dataset", "export", toy["dataset"], "--format", "conll", "--split", "test", "--output", "-"]
    )
    lines = out.splitlines()
    assert lines[0] == "-DOCSTART- -X- O O"
    tags = [line.split()[-1] for line in lines[1:] if line.strip()]
    labels = {"O", *(f"{p}-{t}" for p in "BI" for t in ("ACTOR", "AGREEMENT", "TARIFF"))}
    assert "B-ACTOR" in tags and set(tags) <= labels


def test_predict_writes_predictions_or_facts_to_stdout(capsys, toy, tmp_path):
    out, err = stdout_of(capsys, ["predict", "--model", toy["run"], toy["text"], "--output", "-"])
    [row] = jsonl(out)
    assert row["id"] == "d0" and any(e["label"] == "ACTOR" for e in row["entities"])

    preds = tmp_path / "preds.jsonl"
    out, err = stdout_of(capsys, ["predict", "--model", toy["run"], toy["text"], "--output", preds, "--facts", "-"])
    header = next(csv.reader(io.StringIO(out)))
    assert header == ["document_id", "head", "relation", "tail", "score", "mentions"]
    assert "facts to standard output" in err and jsonl(preds.read_text(encoding="utf-8"))[0]["id"] == "d0"

    line = cli_error(capsys, ["predict", "--model", toy["run"], toy["text"], "--output", "-", "--facts", "-"])
    assert "only one of them can go to standard output" in line


def test_evaluate_cv_and_compare_write_their_metrics_json_to_stdout(capsys, toy, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out, err = stdout_of(capsys, ["evaluate", "--predictions", toy["gold"], "--gold", toy["gold"], "--out", "-"])
    metrics = json.loads(out)
    assert metrics["headline"]["ner_f1"]["value"] == 1.0 and metrics["headline"]["ner_f1"]["support"] == 24
    assert "metrics.json written to standard output" in err

    rules = f"rules.pipeline={toy['blank']}"
    cv = ["cv", "--dataset", toy["dataset"], "--systems", "rules", "--set", rules, "--re-config", "none"]
    out, err = stdout_of(capsys, [*cv, "--folds", "3", "--resamples", "10", "--output", "-"])
    metrics = json.loads(out)
    assert metrics["cv"]["folds"] == 3 and "rules" in metrics["cv"]["systems"]
    assert "rules: NER F1" in err

    compare = ["compare", "--dataset", toy["dataset"], "--ner", "rules", "--set", rules, "--resamples", "10"]
    out, err = stdout_of(capsys, [*compare, "--output", "-"])
    comparison = json.loads(out)
    assert comparison["split"] == "validation" and [r["name"] for r in comparison["runs"]] == ["rules"]
    assert "| rules |" in err  # the tables go to standard error
    assert list(tmp_path.iterdir()) == []  # no report folder written anywhere


def test_ls_pull_writes_its_report_to_stdout(capsys, toy, tmp_path, monkeypatch):
    import tradeie.labelstudio.client as client
    from tradeie.labelstudio.format import to_tasks
    from tradeie.schema import labeling_config

    class Project:
        id = 7
        label_config = labeling_config()

    class Connection:
        url = "http://127.0.0.1:1"

        def project_url(self, project_id):
            return f"{self.url}/projects/{project_id}"

    tasks = to_tasks(toy_documents())
    monkeypatch.setattr(client, "connect", lambda: Connection())
    monkeypatch.setattr(client, "require_project", lambda conn, title: Project())
    monkeypatch.setattr(client, "export_project", lambda conn, project_id: tasks)
    monkeypatch.setattr(client, "user_names", lambda conn: {})
    gold = tmp_path / "gold"
    argv = ["ls", "pull", "--project", "P", "--gold", gold, "--corpus", toy["corpus"], "--report", "-"]
    out, err = stdout_of(capsys, argv)
    report = json.loads(out)
    assert report and isinstance(report, dict) and "pulled 3 tasks from project 'P'" in err
    assert len(list(gold.glob("*.json"))) == 3


@pytest.mark.parametrize(
    "argv",
    [
        ["dataset", "build", "--out", "-"],
        ["train", "ner", "--output", "-"],
        ["train", "re", "--out", "-"],
        ["train", "system", "rules", "--output", "-"],
        ["annotations", "markup", "x.ann", "--texts", "texts", "--out", "-"],
        ["dataset", "export", "dist/dataset", "--format", "spacy", "--out", "-"],
        ["push", "model", "training/runs/demo", "--repo-id", "me/model", "--keep", "-"],
        ["ls", "pull", "--project", "P", "--gold", "-"],
    ],
    ids=lambda argv: " ".join(argv[:2]),
)
def test_folder_outputs_refuse_stdout_with_one_line(capsys, argv):
    line = cli_error(capsys, argv)
    assert FOLDER_REFUSAL in line and "(fix: give a folder path for" in line


def test_every_command_help_lists_the_exit_codes_and_folder_outputs_say_so():
    from tradeie.cli import _every_parser, build_parser

    parsers = list(_every_parser(build_parser()))
    assert len(parsers) > 20
    for parser in parsers:
        text = parser.format_help()
        assert "exit codes:" in text, parser.prog
        for code in ("0", "1", "2", "130"):
            assert f"\n  {code} " in text, (parser.prog, code)
    by_prog = {p.prog: " ".join(p.format_help().split()) for p in parsers}
    for prog in ("tradeie dataset build", "tradeie train ner", "tradeie train system", "tradeie annotations markup"):
        assert "a folder, so `-` (standard output) is refused" in by_prog[prog], prog
    for prog in ("tradeie predict", "tradeie corpus build", "tradeie annotations config", "tradeie evaluate"):
        assert "standard output" in by_prog[prog], prog
