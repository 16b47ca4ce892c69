"""The whole pipeline, stage by stage through the CLI, on the committed seeds and gold (tiny model)."""

from __future__ import annotations

import json
import shutil

import pytest

from tradeie.cli import main


@pytest.fixture()
def workspace(tmp_path, repo_root, monkeypatch):
    """A copy of the project's committed inputs, as a fresh clone would have them."""
    for folder in ("seeds", "corpus/articles", "corpus/heldout", "annotations/gold"):
        shutil.copytree(repo_root / folder, tmp_path / folder)
    shutil.copy(repo_root / "annotations" / "GUIDELINES.md", tmp_path / "annotations" / "GUIDELINES.md")
    shutil.copytree(repo_root / "training", tmp_path / "training", ignore=shutil.ignore_patterns("runs"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_seeds_to_report(workspace, tiny_model, capsys):
    fast = [
        "--set",
        f"base_model={tiny_model}",
        "--set",
        "epochs=1",
        "--set",
        "run_name=wf",
        "--set",
        "progress_bars=false",
    ]
    assert main(["corpus", "build"]) == 0
    assert main(["annotations", "validate"]) == 0
    assert "0 errors" in capsys.readouterr().out
    assert main(["dataset", "build", "--out", "dist/dataset"]) == 0
    assert main(["dataset", "stats", "dist/dataset"]) == 0
    assert (workspace / "dist/dataset/README.md").exists()
    assert sorted(p.name for p in (workspace / "dist/dataset/data").iterdir()) == ["documents", "ner", "relations"]
    assert main(["train", "ner", *fast]) == 0
    assert main(["train", "re", *fast]) == 0
    assert main(["train", "baseline", "--set", "run_name=wf"]) == 0
    run = workspace / "training/runs/wf"
    for part in ("ner", "re"):
        config = json.loads((run / part / "config.json").read_text())
        assert config["id2label"] and (run / part / "model.safetensors").exists()
        assert (run / part / "README.md").read_text().startswith("---")
    capsys.readouterr()
    assert main(["predict", "--model", str(run), "seeds", "--output", "preds.jsonl"]) == 0
    rows = [json.loads(line) for line in (workspace / "preds.jsonl").read_text().splitlines()]
    assert len(rows) == 4 and all({"id", "text", "entities", "relations"} <= set(r) for r in rows)
    assert (
        main(["evaluate", "--model", str(run), "--dataset", "dist/dataset", "--resamples", "20", "--out", "eval/wf"])
        == 0
    )
    for name in ("metrics.json", "report.md", "report.html", "per_label_f1.png", "confusion_matrix.png"):
        assert (workspace / "eval/wf" / name).stat().st_size > 0, name
    metrics = json.loads((workspace / "eval/wf/metrics.json").read_text())
    assert {"ner_f1", "ner_partial_f1", "re_f1", "re_fact_f1", "re_gold_entities_fact_f1"} <= set(metrics["headline"])
    assert metrics["headline"]["ner_f1"]["support"] == 908 + 212 + 253  # the test split's gold entities (20 documents)
