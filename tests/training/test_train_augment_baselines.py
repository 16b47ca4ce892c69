"""Mention-replacement augmentation and the CRF / gazetteer baselines."""

from __future__ import annotations

import random

import pytest

from tradeie.corpus import sentences_of
from tradeie.errors import TradeieError
from tradeie.text.tokens import bio_tags, sentence_tokens
from tradeie.training.augment import augment_documents, is_augmented, mention_bank, replace_mentions
from tradeie.training.baselines import CRFBaseline, GazetteerBaseline, fit_baseline, load_baseline, train_baselines
from tradeie.training.config import BaselineConfig
from tradeie.evaluation.experiments import strip_annotations
from tradeie.training.ner import score_entities


def test_mention_bank_from_given_docs_only(toy_docs):
    bank = mention_bank(toy_docs[:2])
    seen = {(e.label, e.text) for d in toy_docs[:2] for e in d.entities}
    assert {(label, t) for label, texts in bank.items() for t in texts} == seen
    assert all(texts == sorted(texts) for texts in bank.values())


def test_augmented_copies_preserve_labels_relations_and_alignment(toy_docs):
    train = toy_docs[:4]
    bank = mention_bank(train)
    aug = augment_documents(train, copies=2, prob=1.0, seed=3)
    assert len(aug) == 8 and all(is_augmented(d) for d in aug)
    originals = {d.id: d for d in train}
    for doc in aug:
        src = originals[doc.meta["augmented_from"]]
        assert doc.id.startswith(src.id + "#aug")
        assert doc.text != src.text
        assert [(e.id, e.label) for e in doc.entities] == [(e.id, e.label) for e in src.entities]
        assert doc.relations == src.relations  # same ids: relation labels preserved
        for ent in doc.entities:
            assert doc.text[ent.start : ent.end] == ent.text
            assert ent.text in bank[ent.label]
        # sentence offsets moved with the edits: every span still aligns with tokens
        tokens = sentence_tokens(doc.text, sentences_of(doc))
        assert sum(len(t) for t in tokens) > 0
        for toks in tokens:
            bio_tags(toks, doc.entities, doc.id)
        assert sum(tag.startswith("B-") for toks in tokens for tag in bio_tags(toks, doc.entities)) == len(doc.entities)
    assert augment_documents(train, copies=2, prob=1.0, seed=3) == aug  # deterministic


def test_context_outside_mentions_is_unchanged(marked_doc):
    doc = marked_doc("d", "[India|ACTOR|a] cut [tariffs|TARIFF|t] . Then [Japan|ACTOR|j] spoke .")
    bank = {"ACTOR": ["United States", "India", "Japan"], "TARIFF": ["duties", "tariffs"]}
    out = replace_mentions(doc, bank, random.Random(0), prob=1.0)
    assert out is not None
    rebuilt = out.text
    for ent in reversed(out.entities):
        rebuilt = rebuilt[: ent.start] + "#" + rebuilt[ent.end :]
    original = doc.text
    for ent in reversed(doc.entities):
        original = original[: ent.start] + "#" + original[ent.end :]
    assert rebuilt == original
    assert len(sentences_of(out)) == 2
    assert replace_mentions(doc, {}, random.Random(0), prob=1.0) is None  # nothing to replace with


def test_gazetteer_longest_match_and_precision_filter(marked_doc):
    train = [
        marked_doc("a", "[New Delhi|ACTOR|a] and [Washington|ACTOR|b] signed the [trade deal|AGREEMENT|c] ."),
        marked_doc("b", "The deal was not discussed in New Delhi . The [trade deal|AGREEMENT|c] holds ."),
    ]
    gaz = GazetteerBaseline.fit(train, min_precision=0.6)
    assert gaz.entries[("Washington",)] == ("ACTOR", 1.0)
    assert gaz.entries[("trade", "deal")] == ("AGREEMENT", 1.0)
    assert ("New", "Delhi") not in gaz.entries  # annotated 1 of 2 occurrences: 0.5 < 0.6
    [pred] = gaz.predict([marked_doc("t", "Washington backed the trade deal with New Delhi .")])
    assert [(e.text, e.label) for e in pred.entities] == [("Washington", "ACTOR"), ("trade deal", "AGREEMENT")]
    assert all(e.score == 1.0 for e in pred.entities)
    loose = GazetteerBaseline.fit(train, min_precision=0.5)
    assert loose.entries[("New", "Delhi")] == ("ACTOR", 0.5)


def test_baselines_learn_and_round_trip(toy_docs, tmp_path):
    train, test = toy_docs[:6], toy_docs[6:]
    for kind in ("crf", "gazetteer"):
        model = fit_baseline(kind, train)
        assert model.kind == kind
        on_train = score_entities(train, model.predict(strip_annotations(train)))["f1"]
        on_test = score_entities(test, model.predict(strip_annotations(test)))["f1"]
        assert on_train > 0.9 and on_test > 0.6, (kind, on_train, on_test)
        preds = model.predict(test)
        assert all(not p.relations for p in preds)
        assert all(e.text == p.text[e.start : e.end] for p in preds for e in p.entities)
        loaded = load_baseline(model.save(tmp_path / kind))
        assert type(loaded) is type(model)
        assert [p.entities for p in loaded.predict(test)] == [p.entities for p in preds]
    assert isinstance(fit_baseline("crf", train), CRFBaseline)
    with pytest.raises(TradeieError, match="unknown baseline"):
        fit_baseline("svm", train)


def test_train_baselines_writes_scores(toy_docs, tmp_path):
    out = train_baselines(
        toy_docs[:6], toy_docs[6:7], BaselineConfig(kinds=["gazetteer"]), tmp_path / "b", test_docs=toy_docs[7:]
    )
    assert (out / "gazetteer" / "baseline.json").exists()
    import json

    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["train_documents"] == [d.id for d in toy_docs[:6]]
    assert metrics["test_documents"] == [toy_docs[7].id]
    assert 0 < metrics["gazetteer"]["eval"]["f1"] <= 1 and 0 < metrics["gazetteer"]["test"]["f1"] <= 1
