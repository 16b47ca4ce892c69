"""``tradeie evaluate`` and ``tradeie cv`` from the command line."""

from __future__ import annotations

import json
import shutil

import pytest

from tradeie.cli import main


def _files(folder):
    return {p.name for p in folder.iterdir() if not p.name.startswith(".")}


def test_evaluate_predictions_against_gold(tmp_path, eval_data, capsys):
    out = tmp_path / "eval" / "golden"
    rc = main(
        [
            "evaluate",
            "--predictions",
            str(eval_data / "preds.jsonl"),
            "--gold",
            str(eval_data / "gold.jsonl"),
            "--out",
            str(out),
            "--resamples",
            "100",
            "--baseline",
            f"copy={eval_data / 'preds.jsonl'}",
        ]
    )
    assert rc == 0
    assert {
        "metrics.json",
        "errors.csv",
        "report.md",
        "report.html",
        "per_label_f1.png",
        "confusion_matrix.png",
    } <= _files(out)
    stdout = capsys.readouterr().out
    assert stdout.startswith("| Metric | preds | copy |")
    assert f"report: {out / 'report.html'}" in stdout
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["system"]["name"] == "preds" and metrics["bootstrap"]["resamples"] == 100
    assert metrics["baselines"]["copy"]["headline"] == metrics["headline"]


def test_evaluate_label_studio_gold(tmp_path, eval_data, golden_gold):
    from tradeie.labelstudio.format import to_tasks

    export = tmp_path / "export.json"
    export.write_text(json.dumps(to_tasks(golden_gold)), encoding="utf-8")
    out = tmp_path / "ls"
    assert (
        main(
            [
                "-q",
                "evaluate",
                "--predictions",
                str(eval_data / "preds.jsonl"),
                "--gold",
                str(export),
                "--out",
                str(out),
                "--resamples",
                "20",
            ]
        )
        == 0
    )
    assert json.loads((out / "metrics.json").read_text())["counts"]["gold_entities"] == sum(
        len(d.entities) for d in golden_gold
    )


@pytest.mark.parametrize(
    "argv, message",
    [
        (["evaluate", "--predictions", "p.jsonl"], "--predictions needs --gold"),
        (["evaluate", "--predictions", "p.jsonl", "--gold", "g.jsonl", "--model", "run"], "either --model"),
        (["evaluate"], "either --model"),
        (["evaluate", "--predictions", "missing.jsonl", "--gold", "missing-gold.jsonl"], "not found"),
        (["cv", "--gold", "missing.jsonl", "--systems", "crf"], "not found"),
        (["cv", "--gold", "x.jsonl", "--systems", "bert"], "unknown system"),
    ],
)
def test_user_errors_exit_2_with_one_line(tmp_path, monkeypatch, capsys, argv, message):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("tradeie: error:") and message in err and "\n" not in err


def test_mismatched_prediction_text_is_reported(tmp_path, eval_data, capsys):
    rows = [json.loads(line) for line in (eval_data / "preds.jsonl").read_text(encoding="utf-8").splitlines()]
    rows[0]["text"] = rows[0]["text"].replace("Ambassador", "ambassador")
    rows[0]["entities"], rows[0]["relations"] = [], []
    bad = tmp_path / "bad.jsonl"
    bad.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    assert (
        main(
            [
                "evaluate",
                "--predictions",
                str(bad),
                "--gold",
                str(eval_data / "gold.jsonl"),
                "--out",
                str(tmp_path / "o"),
            ]
        )
        == 2
    )
    assert "predicted text differs from the gold text at offset 3" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_cv_command_with_baselines_and_learning_curve(tmp_path, toy_docs, capsys):
    gold = tmp_path / "gold.jsonl"
    gold.write_text("".join(json.dumps(d.to_dict()) + "\n" for d in toy_docs), encoding="utf-8")
    out = tmp_path / "cv"
    rc = main(
        [
            "cv",
            "--gold",
            str(gold),
            "--folds",
            "2",
            "--systems",
            "gazetteer,crf",
            "--learning-curve",
            "1,2",
            "--resamples",
            "50",
            "--out",
            str(out),
        ]
    )
    assert rc == 0
    assert "learning_curve.png" in _files(out)
    stdout = capsys.readouterr().out
    assert "gazetteer: NER F1" in stdout and "crf: NER F1" in stdout and "over 2 folds" in stdout
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["cv"]["folds"] == 2 and set(metrics["cv"]["systems"]) == {"gazetteer", "crf"}
    assert [p["n_train"] for p in metrics["cv"]["learning_curve"]["gazetteer"]][:2] == [1, 2]
    assert metrics["system"]["name"] == "gazetteer" and "crf" in metrics["baselines"]
    md = (out / "report.md").read_text(encoding="utf-8")
    crf = metrics["cv"]["systems"]["crf"]["summary"]["ner_f1"]
    per_fold = ", ".join(f"{v:.3f}" for v in crf["values"])
    assert "## Cross-validation (2 folds" in md
    assert f"| ner_f1 | crf | {crf['mean']:.3f} | {crf['sd']:.3f} | {per_fold} |" in md
    html = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="cv"' in html and "data:image/png;base64," in html


def test_evaluate_trained_model_on_gold_file(tmp_path, trained_run, toy_docs, capsys):
    gold = tmp_path / "gold.jsonl"
    gold.write_text("".join(json.dumps(d.to_dict()) + "\n" for d in toy_docs[4:]), encoding="utf-8")
    out = tmp_path / "eval-model"
    rc = main(
        [
            "evaluate",
            "--model",
            str(trained_run),
            "--gold",
            str(gold),
            "--baselines",
            "none",
            "--out",
            str(out),
            "--resamples",
            "20",
        ]
    )
    assert rc == 0
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["system"]["relations"] is True
    assert {"end_to_end", "gold_entities"} <= set(metrics["re"])
    assert "re_gold_entities_f1" in metrics["headline"]
    assert capsys.readouterr().out.startswith("| Metric | tiny |")


def test_evaluate_trained_model_on_dataset_split(tmp_path, trained_run, toy_docs, tiny_bert, capsys):
    from tradeie.data.dataset import build_dataset, write_hub_folder

    assignment = {d.id: "train" for d in toy_docs[:4]} | {toy_docs[4].id: "validation", toy_docs[5].id: "test"}
    dataset = tmp_path / "dataset"
    write_hub_folder(
        build_dataset(toy_docs, assignment=assignment), toy_docs, dataset, guidelines=None, tokenizer=str(tiny_bert)
    )
    run = tmp_path / "runs" / "tiny"
    shutil.copytree(trained_run, run)  # --update-card rewrites the card: work on a copy
    readme = run / "ner" / "README.md"
    before = readme.read_text(encoding="utf-8")
    out = tmp_path / "eval" / "tiny"
    rc = main(
        [
            "evaluate",
            "--model",
            str(run),
            "--dataset",
            str(dataset),
            "--split",
            "test",
            "--out",
            str(out),
            "--resamples",
            "20",
            "--update-card",
        ]
    )
    assert rc == 0
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["documents"] == [toy_docs[5].id]
    assert set(metrics["baselines"]) == {"crf", "gazetteer"}  # trained on the train split
    assert "trained on" in metrics["baselines"]["crf"]["system"]["source"]
    after = readme.read_text(encoding="utf-8")
    assert after != before and "model-index" in after and "token-classification" in after
    assert "text-classification" not in after  # relation results go to the re/ card
    assert "text-classification" in (run / "re" / "README.md").read_text(encoding="utf-8")
    assert f"model card updated: {readme}" in capsys.readouterr().out
