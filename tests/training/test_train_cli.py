"""`tradeie train ner|re|baseline` from a Hub-ready dataset folder, and `tradeie predict`."""

from __future__ import annotations

import json

import pytest

from tradeie.cli import main

TINY = [
    "epochs=2",
    "learning_rate=5e-3",
    "max_length=64",
    "stride=8",
    "seeds=[1]",
    "progress_bars=false",
    "device=cpu",
    "early_stopping_patience=0",
]


@pytest.fixture(scope="module")
def dataset_dir(tmp_path_factory, toy_docs):
    from tradeie.data.dataset import build_dataset, write_hub_folder

    out = tmp_path_factory.mktemp("dataset") / "ds"
    write_hub_folder(build_dataset(toy_docs), toy_docs, out, guidelines=None)
    return out


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory, dataset_dir, tiny_model, repo_root):
    run = tmp_path_factory.mktemp("cli") / "runs" / "tiny"
    sets = [x for kv in [*TINY, f"base_model={tiny_model}"] for x in ("--set", kv)]
    assert (
        main(
            [
                "train",
                "ner",
                "--config",
                str(repo_root / "training/ner.toml"),
                *sets,
                "--dataset",
                str(dataset_dir),
                "--output",
                str(run),
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "train",
                "re",
                "--config",
                str(repo_root / "training/re.toml"),
                *sets,
                "--set",
                "max_length=96",
                "--dataset",
                str(dataset_dir),
                "--output",
                str(run),
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "train",
                "baseline",
                "--config",
                str(repo_root / "training/baseline.toml"),
                "--dataset",
                str(dataset_dir),
                "--output",
                str(run),
            ]
        )
        == 0
    )
    return run


def test_train_commands_write_models_and_print_metrics(cli_run, dataset_dir, capsys):
    from tradeie.training.runs import load_splits, summary

    splits = load_splits(dataset_dir)
    ner_metrics = json.loads((cli_run / "ner" / "metrics.json").read_text())
    assert ner_metrics["train_documents"] == [d.id for d in splits["train"]]
    assert ner_metrics["eval_documents"] == [d.id for d in splits["validation"]]
    assert ner_metrics["test_documents"] == [d.id for d in splits["test"]]
    assert ner_metrics["dataset"] == str(dataset_dir)
    re_metrics = json.loads((cli_run / "re" / "metrics.json").read_text())
    assert "test_end_to_end" in re_metrics and re_metrics["ner_model"] == str(cli_run / "ner")
    for kind in ("crf", "gazetteer"):
        assert (cli_run / "baselines" / kind / "baseline.json").exists()
    text = summary(cli_run / "re", "re")
    assert "test (gold entities)" in text and "test (predicted entities)" in text
    timing = re_metrics["timing"]
    assert (
        f"  per epoch: evaluation {timing['eval_seconds_per_epoch']:.2f} s, checkpoint "
        f"{timing['save_seconds_per_epoch']:.2f} s ({timing['shares']['eval']:.0%} and "
        f"{timing['shares']['save']:.0%} of the total)"
    ) in text.splitlines()
    text = summary(cli_run / "baselines", "baseline")
    assert "crf baseline, test" in text and "gazetteer baseline, validation" in text


def test_show_config_and_config_errors(capsys, tmp_path, repo_root):
    assert main(["train", "ner", "--show-config"]) == 0
    assert "label_all_subtokens" in capsys.readouterr().out
    assert (
        main(
            [
                "train",
                "ner",
                "--config",
                str(repo_root / "training/ner.toml"),
                "--set",
                "epoch=3",
                "--dataset",
                str(tmp_path),
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown key 'epoch'" in err and "Traceback" not in err
    assert (
        main(["train", "ner", "--config", str(repo_root / "training/ner.toml"), "--dataset", str(tmp_path / "missing")])
        == 2
    )
    assert "not a dataset folder" in capsys.readouterr().err


def test_predict_txt_dir_and_jsonl(cli_run, tmp_path, capsys):
    texts = tmp_path / "texts"
    texts.mkdir()
    (texts / "a.txt").write_text(
        "India and Japan signed the trade deal.\r\nThe US cut tariffs on goods from China.", encoding="utf-8"
    )
    (texts / "b.txt").write_text("Officials met for talks.", encoding="utf-8")
    jsonl = tmp_path / "more.jsonl"
    jsonl.write_text(
        json.dumps({"id": "j1", "text": "Washington cut duties."})
        + "\n"
        + json.dumps({"text": "China and India signed a pact."})
        + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "pred.jsonl"
    assert main(["predict", "--model", str(cli_run), str(texts), str(jsonl), "-o", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["a", "b", "j1", "more-2"]
    raw = (texts / "a.txt").read_bytes().decode("utf-8")
    assert rows[0]["text"] == raw  # offsets index the input text exactly as given (CRLF kept)
    for row in rows:
        assert list(row) == ["id", "text", "entities", "relations"]
        ids = {e["id"] for e in row["entities"]}
        for ent in row["entities"]:
            assert row["text"][ent["start"] : ent["end"]] == ent["text"]
        for rel in row["relations"]:
            assert rel["head"] in ids and rel["tail"] in ids
    # standard output by default
    assert main(["predict", "--model", str(cli_run), str(texts / "b.txt")]) == 0
    assert json.loads(capsys.readouterr().out)["id"] == "b"


def test_predict_labelstudio_tasks(cli_run, tmp_path):
    src = tmp_path / "a.txt"
    src.write_text("India and Japan signed the trade deal. The US cut tariffs on goods from China.", encoding="utf-8")
    out = tmp_path / "tasks.json"
    assert main(["predict", "--model", str(cli_run), str(src), "--format", "labelstudio", "-o", str(out)]) == 0
    tasks = json.loads(out.read_text(encoding="utf-8"))
    assert len(tasks) == 1 and tasks[0]["data"]["text"] == src.read_text(encoding="utf-8")
    [prediction] = tasks[0]["predictions"]
    assert prediction["model_version"] == "tiny"


def test_predict_errors(cli_run, tmp_path, capsys):
    (tmp_path / "in.txt").write_text("India cut tariffs.", encoding="utf-8")
    assert main(["predict", "--model", str(tmp_path / "nope"), str(tmp_path / "in.txt")]) == 2
    assert "model folder not found" in capsys.readouterr().err
    assert main(["predict", "--model", str(cli_run), str(tmp_path / "empty")]) == 2
    assert "file not found" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    bad.write_text("x", encoding="utf-8")
    assert main(["predict", "--model", str(cli_run), str(bad)]) == 2
    assert "unsupported input" in capsys.readouterr().err
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"id": "x"}\n', encoding="utf-8")
    assert main(["predict", "--model", str(cli_run), str(rows)]) == 2
    assert "rows.jsonl:1: expected an object with a 'text' string" in capsys.readouterr().err
    dup = tmp_path / "dup"
    dup.mkdir()
    (dup / "a.txt").write_text("x", encoding="utf-8")
    assert main(["predict", "--model", str(cli_run), str(dup), str(dup / "a.txt")]) == 2
    assert "duplicate document ids" in capsys.readouterr().err


def test_train_system_lists_fits_saves_and_refuses_to_overwrite(dataset_dir, tmp_path, capsys):
    import spacy

    blank = tmp_path / "blank"
    spacy.blank("en").to_disk(blank)
    assert main(["train", "system"]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert listing[0] == "crf (ner): sklearn-crfsuite CRF over spaCy features and rule matches (all labels)."
    assert "re-rules (re): Rule-based relation extraction over the documents' own entities" in listing[3]
    assert main(["train", "system", "--list"]) == 0
    assert "max_iterations" in capsys.readouterr().out
    command = ["train", "system", "rules", "--set", f"pipeline={blank}", "--dataset", str(dataset_dir)]
    assert main([*command, "--output", str(tmp_path / "run")]) == 0
    assert capsys.readouterr().out == f"saved rules (ner) to {tmp_path / 'run' / 'ner'}\n"
    saved = json.loads((tmp_path / "run" / "ner" / "system.json").read_text())
    assert saved["system"] == "rules" and saved["config"]["pipeline"] == str(blank)
    assert main([*command, "--output", str(tmp_path / "run")]) == 2
    assert "already exists (a trained model); refusing to replace it" in capsys.readouterr().err
    assert main([*command, "--output", str(tmp_path / "run"), "--overwrite"]) == 0
