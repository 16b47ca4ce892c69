"""`tradeie evaluate` as library calls: typed results, the gold source named, the model card filled."""

from __future__ import annotations

import logging
import shutil

import pytest

from tradeie.errors import TradeieError
from tradeie.evaluation.runs import evaluate_model, evaluate_predictions


def test_evaluate_predictions_result(tmp_path, eval_data, golden_metrics):
    preds, gold = eval_data / "preds.jsonl", eval_data / "gold.jsonl"
    result = evaluate_predictions(
        preds, gold, baseline_files=[("copy", str(preds))], n_resamples=200, seed=7, out=tmp_path / "e"
    )
    assert result.out == tmp_path / "e" and result.updated_cards == []
    assert result.metrics["system"] == {
        "name": "preds",
        "predictions": str(preds),
        "gold": str(gold),
        "relations": True,
    }
    assert result.metrics["headline"] == golden_metrics["headline"]
    assert list(result.baselines) == ["copy"]
    lines = result.summary().splitlines()
    assert lines[0] == "| Metric | preds | copy |"
    assert lines[-1] == f"report: {tmp_path / 'e' / 'report.html'} (summary {tmp_path / 'e' / 'report.md'}, " + (
        f"metrics {tmp_path / 'e' / 'metrics.json'})"
    )


def test_evaluate_model_on_the_default_dataset(tmp_path, project, trained_run, monkeypatch, caplog):
    run = tmp_path / "tiny"
    shutil.copytree(trained_run, run)
    monkeypatch.chdir(project)
    with caplog.at_level(logging.INFO, logger="tradeie.evaluation"):
        result = evaluate_model(run, baselines=["gazetteer"], update_card=True, n_resamples=10, out=tmp_path / "e")
    assert "evaluate: no --gold or --dataset given: using dist/dataset (test)" in caplog.messages
    assert "evaluate: baselines trained on the train split of dist/dataset (no --dataset given)" in caplog.messages
    system = result.metrics["system"]
    assert (system["dataset"], system["split"], system["relations"]) == ("dist/dataset", "test", True)
    assert result.metrics["documents"] == ["t5"]
    assert result.baselines["gazetteer"]["system"]["source"] == "trained on dist/dataset (train)"
    assert result.updated_cards == [run / "ner" / "README.md", run / "re" / "README.md"]
    assert "# Evaluation report: tiny on dist/dataset (test)" in (tmp_path / "e" / "report.md").read_text()


def test_unknown_baseline_fails_before_predicting(tmp_path):
    with pytest.raises(TradeieError, match="--baselines: unknown baseline\\(s\\) bert"):
        evaluate_model(tmp_path / "no-run", baselines=["crf", "bert"])
