"""fit_ner / fit_re / Pipeline on the tiny model: outputs, model card, reproducibility, options."""

from __future__ import annotations

import dataclasses
import json

import pytest

from tradeie.errors import TradeieError
from tradeie.schema import BIO_TAGS, RELATION_CLASSES, allowed_relation


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory, tiny_model, toy_docs):
    """One run folder with ner/ and re/ trained on the toy documents."""
    from tradeie.training.config import NERConfig, REConfig
    from tradeie.training.ner import fit_ner
    from tradeie.training.relation import fit_re

    run = tmp_path_factory.mktemp("runs") / "toy"
    common = dict(
        base_model=str(tiny_model),
        batch_size=8,
        learning_rate=5e-3,
        seeds=[1],
        progress_bars=False,
        device="cpu",
        logging_steps=1000,
        early_stopping_patience=2,
    )
    train, val, test = toy_docs[:5], toy_docs[5:7], toy_docs[7:]
    fit_ner(
        train,
        val,
        NERConfig(epochs=3, max_length=64, stride=8, run_name="toy", **common),
        run / "ner",
        test_docs=test,
        dataset_name="toy",
    )
    fit_re(
        train,
        val,
        REConfig(epochs=2, max_length=96, run_name="toy", **common),
        run / "re",
        test_docs=test,
        ner_dir=run / "ner",
        dataset_name="toy",
    )
    return run


def test_ner_outputs(trained_run, toy_docs):
    ner = trained_run / "ner"
    for name in (
        "model.safetensors",
        "config.json",
        "tokenizer.json",
        "tokenizer_config.json",
        "training_config.json",
        "metrics.json",
        "README.md",
    ):
        assert (ner / name).is_file(), name
    assert not list(trained_run.glob(".*"))  # checkpoints and temp folders are cleaned up
    config = json.loads((ner / "config.json").read_text())
    assert [config["id2label"][str(i)] for i in range(len(BIO_TAGS))] == list(BIO_TAGS)
    assert config["label2id"] == {tag: i for i, tag in enumerate(BIO_TAGS)}
    training = json.loads((ner / "training_config.json").read_text())
    assert training["task"] == "ner" and training["max_length"] == 64 and training["run_name"] == "toy"
    metrics = json.loads((ner / "metrics.json").read_text())
    assert metrics["train_documents"] == [d.id for d in toy_docs[:5]]
    assert metrics["eval_documents"] == [d.id for d in toy_docs[5:7]]
    for key in ("eval", "test"):
        assert set(metrics[key]) >= {"precision", "recall", "f1", "support", "per_label"}
        assert 0 <= metrics[key]["f1"] <= 1
    assert metrics["seeds"][0]["epochs"] <= 3 and metrics["best_seed"] == 1


def test_model_card_has_model_index(trained_run):
    from huggingface_hub import ModelCard

    for task in ("ner", "re"):
        card = ModelCard.load(trained_run / task / "README.md")
        metrics = json.loads((trained_run / task / "metrics.json").read_text())
        results = card.data.eval_results
        assert results, task
        f1 = {(r.dataset_split, r.metric_config): r.metric_value for r in results if r.metric_type == "f1"}
        assert f1[("test", f"{'seqeval' if task == 'ner' else 'relation_f1'}:test")] == round(metrics["test"]["f1"], 4)
        assert card.data.language == "en" and card.data.library_name == "transformers"
        text = card.text
        for section in ("## Intended use", "## Limitations", "## Results", "toy"):
            assert section in text
        labels = BIO_TAGS if task == "ner" else RELATION_CLASSES
        assert all(label in text for label in labels)


def test_re_outputs_and_end_to_end_scores(trained_run):
    re_dir = trained_run / "re"
    config = json.loads((re_dir / "config.json").read_text())
    assert [config["id2label"][str(i)] for i in range(len(RELATION_CLASSES))] == list(RELATION_CLASSES)
    metrics = json.loads((re_dir / "metrics.json").read_text())
    for key in ("eval", "eval_end_to_end", "test", "test_end_to_end"):
        assert 0 <= metrics[key]["f1"] <= 1, key
    assert metrics["train_pairs"]["party_to"] > 0
    from transformers import AutoTokenizer

    from tradeie.data.relcands import marker_tokens

    tokenizer = AutoTokenizer.from_pretrained(re_dir)
    assert set(marker_tokens()) <= set(tokenizer.all_special_tokens)


def test_pipeline_end_to_end(trained_run, toy_docs):
    from tradeie import Pipeline
    from tradeie.predict import prediction_row

    pipe = Pipeline.load(trained_run)
    assert pipe.name == "toy" and pipe.relation is not None
    doc = pipe("India and Japan signed the trade deal on Monday. Washington cut tariffs on goods from China.")
    for ent in doc.entities:
        assert doc.text[ent.start : ent.end] == ent.text and 0 < ent.score <= 1
    index = doc.entity_index()
    for rel in doc.relations:
        assert allowed_relation(rel.label, index[rel.head].label, index[rel.tail].label)
    row = prediction_row(doc)
    assert list(row) == ["id", "text", "entities", "relations"]
    assert all(list(e) == ["id", "start", "end", "label", "text", "score"] for e in row["entities"])
    assert all(list(r) == ["head", "tail", "label", "score"] for r in row["relations"])
    # gold entities: relations are predicted between the documents' own entities
    preds = pipe.predict_documents(toy_docs[7:], gold_entities=True)
    assert preds[0].entities == toy_docs[7].entities
    ids = {e.id for e in toy_docs[7].entities}
    assert all(r.head in ids and r.tail in ids for r in preds[0].relations)
    # the ner/ folder alone also loads (no relations then)
    only_ner = Pipeline.load(trained_run / "ner")
    assert only_ner.relation is None and only_ner(doc.text).relations == ()
    with pytest.raises(TradeieError, match="relation model"):
        only_ner.predict_documents(toy_docs[:1], gold_entities=True)


def test_same_seed_same_metrics(tmp_path, ner_config, toy_docs):
    from tradeie.training.ner import fit_ner

    runs = []
    for name in ("a", "b"):
        out = fit_ner(toy_docs[:5], toy_docs[5:7], ner_config, tmp_path / name / "ner", test_docs=toy_docs[7:])
        metrics = json.loads((out / "metrics.json").read_text())
        runs.append((metrics["eval"], metrics["test"], metrics["seeds"][0]["steps"]))
    assert runs[0] == runs[1]
    from safetensors.torch import load_file

    wa, wb = (load_file(tmp_path / n / "ner" / "model.safetensors") for n in ("a", "b"))
    assert all((wa[k] == wb[k]).all() for k in wa)


def test_several_seeds_and_low_resource_options(tmp_path, ner_config, toy_docs):
    from tradeie.training.ner import fit_ner

    config = dataclasses.replace(
        ner_config,
        seeds=[1, 2],
        augment=True,
        augment_copies=1,
        class_weights=True,
        balanced_sampling=True,
        gazetteer_ensemble=True,
        gazetteer_min_precision=0.5,
        epochs=1,
    )
    out = fit_ner(toy_docs[:5], toy_docs[5:7], config, tmp_path / "ner")
    metrics = json.loads((out / "metrics.json").read_text())
    assert [s["seed"] for s in metrics["seeds"]] == [1, 2]
    f1s = [s["eval"]["f1"] for s in metrics["seeds"]]
    assert metrics["eval_f1_best"] == max(f1s) and metrics["eval_f1_mean"] == pytest.approx(sum(f1s) / 2)
    assert metrics["eval"] == metrics["seeds"][[1, 2].index(metrics["best_seed"])]["eval"]
    assert metrics["augmented_documents"] == 5
    assert metrics["train_windows"] > sum(1 for d in toy_docs[:5] for _ in d.meta["sentences"])
    assert (out / "gazetteer" / "baseline.json").exists()
    from tradeie.training.ner import NERTagger

    assert NERTagger.load(out).gazetteer is not None


def test_re_options_and_no_eval(tmp_path, re_config, toy_docs):
    from tradeie.training.relation import fit_re

    config = dataclasses.replace(
        re_config,
        negative_ratio=1.0,
        class_weights=True,
        balanced_sampling=True,
        augment=True,
        window=0,
        epochs=1,
        seeds=[3, 4],
    )
    out = fit_re(toy_docs[:5], None, config, tmp_path / "re")
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["eval"] is None and len(metrics["seeds"]) == 1  # no eval: only the first seed
    pairs = metrics["train_pairs"]
    assert pairs["no_relation"] <= sum(v for k, v in pairs.items() if k != "no_relation")


def test_training_errors(tmp_path, ner_config, toy_docs):
    from tradeie.training.ner import fit_ner

    bare = [d.with_annotations([], []) for d in toy_docs[:2]]
    with pytest.raises(TradeieError, match="no entities"):
        fit_ner(bare, None, ner_config, tmp_path / "x")
    with pytest.raises(TradeieError, match="exceeds the model's limit"):
        fit_ner(toy_docs[:2], None, dataclasses.replace(ner_config, max_length=1024), tmp_path / "x")
    with pytest.raises(TradeieError, match="stride"):
        fit_ner(toy_docs[:2], None, dataclasses.replace(ner_config, stride=1000), tmp_path / "x")
    assert not (tmp_path / "x").exists()
