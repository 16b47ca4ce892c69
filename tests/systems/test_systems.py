"""The System interface, the rule and CRF NER systems, and the comparison, on a blank spaCy pipeline."""

from __future__ import annotations

import json

import pytest

from tradeie.evaluation.compare import compare_systems, render_markdown
from tradeie.errors import TradeieError
from tradeie.systems.base import load_system, system_class, system_names
from tradeie.systems.crf import CRFConfig, CRFSystem
from tradeie.systems.rules import RulesConfig, RuleSystem, propagate_actors
from tradeie.text.tokens import tokenize


def spans(doc):
    return {(doc.text[e.start : e.end], e.label) for e in doc.entities}


def test_registry_lists_every_system():
    assert {"rules", "crf", "crf-rules", "transformer", "re-rules", "re-transformer", "re-hybrid"} <= set(
        system_names()
    )
    assert system_class("crf").task == "ner" and system_class("re-rules").task == "re"
    with pytest.raises(TradeieError, match="unknown system 'nope'"):
        system_class("nope")


def test_rules_find_gazetteer_actors_and_head_nouns(blank_pipeline, toy_docs, make_doc):
    system = RuleSystem(RulesConfig(pipeline=blank_pipeline)).fit(toy_docs)
    text = "Britain and Japan signed a pact; U.S. tariffs and the deal stayed."
    [pred] = system.predict([make_doc("x", text, [])])
    assert spans(pred) == {
        ("Britain", "ACTOR"),
        ("Japan", "ACTOR"),
        ("pact", "AGREEMENT"),
        ("U.S.", "ACTOR"),
        ("tariffs", "TARIFF"),
        ("deal", "AGREEMENT"),
    }
    assert all(pred.text[e.start : e.end] == e.text for e in pred.entities)


def test_rules_know_the_d18_and_d22_nouns(blank_pipeline, toy_docs, make_doc):
    system = RuleSystem(RulesConfig(pipeline=blank_pipeline)).fit(toy_docs)
    [pred] = system.predict([make_doc("x", "Ottawa kept its surtax; the bargain held.", [])])
    assert {("surtax", "TARIFF"), ("bargain", "AGREEMENT")} <= spans(pred)
    [pred] = system.predict([make_doc("x", "Brasilia paid the surcharge; Brussels took the undertaking.", [])])
    assert {("surcharge", "TARIFF"), ("undertaking", "AGREEMENT")} <= spans(pred)


def test_rules_leave_tariff_modifiers_and_statistics_out(blank_pipeline, toy_docs, make_doc):
    system = RuleSystem(RulesConfig(pipeline=blank_pipeline)).fit(toy_docs)
    [pred] = system.predict([make_doc("x", "Tariff relief came; the average tariff fell; duty-free goods grew.", [])])
    assert [e for e in pred.entities if e.label == "TARIFF"] == []


def test_crf_spans_take_the_pre_modifiers_of_a_rule_match_with_the_same_end():
    from tradeie.systems.crf import _widen_to_rules

    crf = [(4, 8, "TARIFF"), (20, 24, "AGREEMENT"), (30, 34, "ACTOR")]
    rules = [(0, 8, "TARIFF"), (16, 23, "AGREEMENT"), (26, 34, "ACTOR")]
    assert _widen_to_rules(crf, rules) == [(0, 8, "TARIFF"), (20, 24, "AGREEMENT"), (30, 34, "ACTOR")]
    actor_first = [(0, 8, "ACTOR"), (9, 19, "AGREEMENT")]
    assert _widen_to_rules(actor_first, [(0, 19, "AGREEMENT")]) == actor_first  # never over another span


def test_propagation_marks_other_mentions_of_a_name():
    text = "Xi Jinping met Trump. Later Xi spoke."
    sentences = [tokenize(text[:21]), tokenize(text[22:], offset=22)]
    assert propagate_actors(text, sentences, [(0, 10, "ACTOR")]) == [(0, 10, "ACTOR"), (28, 30, "ACTOR")]


def test_crf_trains_saves_loads_and_predicts_the_same(blank_pipeline, toy_docs, tmp_path):
    system = CRFSystem(CRFConfig(pipeline=blank_pipeline, max_iterations=50)).fit(toy_docs)
    bare = [d.with_annotations((), ()) for d in toy_docs]
    before = system.predict(bare)
    assert spans(before[0]) == spans(toy_docs[0])
    system.save(tmp_path / "crf")
    meta = json.loads((tmp_path / "crf" / "system.json").read_text())
    assert meta["system"] == "crf" and meta["task"] == "ner" and meta["config"]["pipeline"] == blank_pipeline
    again = load_system(tmp_path / "crf").predict(bare)
    assert [d.entities for d in again] == [d.entities for d in before]


def test_load_system_refuses_a_folder_without_system_json(tmp_path):
    with pytest.raises(TradeieError, match="not a saved system"):
        load_system(tmp_path)


def test_compare_scores_every_system_on_the_chosen_split(blank_pipeline, toy_docs):
    splits = {"train": toy_docs[:2], "validation": toy_docs[2:], "test": []}
    comp = compare_systems(
        splits,
        ["rules", "crf"],
        split="validation",
        n_resamples=10,
        overrides={"rules": [f"pipeline={blank_pipeline}"], "crf": [f"pipeline={blank_pipeline}", "max_iterations=20"]},
    )
    assert [r.name for r in comp.runs] == ["rules", "crf"] and comp.documents == ["t3"]
    rules = comp.runs[0].metrics["ner"]["seqeval"]["strict"]["micro"]
    assert (rules["support"], rules["predicted"], rules["matched"]) == (5, 5, 5)
    text = render_markdown(comp)
    assert "| rules | 1.000" in text and "scored on the **validation** split: 1 documents (t3)" in text


def test_compare_scores_only_the_documents_of_the_chosen_origins(blank_pipeline, toy_docs):
    import dataclasses

    held = dataclasses.replace(toy_docs[2], id="h1", meta={**toy_docs[2].meta, "origin": "written-held-out"})
    splits = {"train": toy_docs[:2], "validation": [], "test": [toy_docs[2], held]}
    comp = compare_systems(
        splits,
        ["rules"],
        split="test",
        n_resamples=10,
        overrides={"rules": [f"pipeline={blank_pipeline}"]},
        origins=["written-held-out"],
    )
    assert comp.documents == ["h1"]
    with pytest.raises(TradeieError, match="the test split has no document of origin real-news"):
        compare_systems(
            splits, ["rules"], split="test", overrides={"rules": [f"pipeline={blank_pipeline}"]}, origins=["real-news"]
        )


def test_compare_scores_only_the_documents_matching_the_id_patterns(blank_pipeline, toy_docs):
    import dataclasses

    later = [dataclasses.replace(toy_docs[2], id=f"h0{n}_x") for n in (4, 5, 6)]
    splits = {"train": toy_docs[:2], "validation": [], "test": [toy_docs[2], *later]}
    overrides = {"rules": [f"pipeline={blank_pipeline}"]}
    comp = compare_systems(
        splits, ["rules"], split="test", n_resamples=10, overrides=overrides, documents=["h0[5-8]_*", "t3"]
    )
    assert comp.documents == ["t3", "h05_x", "h06_x"]
    with pytest.raises(TradeieError, match="has no document matching h09_"):
        compare_systems(splits, ["rules"], split="test", overrides=overrides, documents=["h09_*"])


def test_transformer_re_system_fits_saves_and_loads_the_same(tiny_train_settings, toy_docs, tmp_path):
    from tradeie.systems.transformer_re import TransformerRESystem
    from tradeie.training.config import REConfig

    system = TransformerRESystem(REConfig(**{**tiny_train_settings, "max_length": 96}))
    with pytest.raises(TradeieError, match="not trained"):
        system.predict(toy_docs)
    system.fit(toy_docs[:2], toy_docs[2:])
    assert system.classifier is system.predictor and system.classifier is not None
    before = system.predict(toy_docs)
    assert [d.entities for d in before] == [d.entities for d in toy_docs]
    system.save(tmp_path / "re")
    assert {"system.json", "model.safetensors", "config.json", "metrics.json"} <= {
        p.name for p in (tmp_path / "re").iterdir()
    }
    again = load_system(tmp_path / "re")
    assert again.name == "re-transformer" and again.task == "re"
    assert [d.relations for d in again.predict(toy_docs)] == [d.relations for d in before]
