"""The rules + classifier hybrid (re-hybrid): its classifier reads the rules' labels, and its links are the
rules' plus the classifier's confident ones."""

from __future__ import annotations

from tradeie.document import Document, Relation, make_entity
from tradeie.systems.transformer_re import HybridConfig, HybridRESystem, hybrid_classifier_config


def test_the_hybrid_classifier_reads_the_rules_as_a_feature():
    config = hybrid_classifier_config(HybridConfig(classifier_epochs=4, pipeline="en_core_web_sm", rule_features=True))
    assert config.features == ["path", "distance", "rules"]
    assert (config.epochs, config.pipeline, config.progress_bars) == (4, "en_core_web_sm", False)
    assert hybrid_classifier_config(HybridConfig(rule_features=False)).features == ["path", "distance"]
    assert HybridRESystem().classifier.config.features == ["path", "distance"]  # the default: no rules feature


class _Fixed:
    """A stand-in relation system predicting fixed relations."""

    def __init__(self, relations):
        self.relations = relations

    def predict(self, docs):
        return [d.with_annotations(d.entities, self.relations) for d in docs]


def test_the_hybrid_adds_confident_classifier_links_to_the_rules():
    text = "India cut tariffs on goods from Japan under the deal."
    ents = tuple(
        make_entity(text, text.index(s), text.index(s) + len(s), label, i)
        for s, label, i in [
            ("India", "ACTOR", "a"),
            ("tariffs", "TARIFF", "t"),
            ("Japan", "ACTOR", "j"),
            ("deal", "AGREEMENT", "g"),
        ]
    )
    doc = Document("d", text, ents)
    hybrid = HybridRESystem(HybridConfig(min_score=0.8))
    hybrid.rules = _Fixed([Relation("a", "t", "imposes", 1.0)])
    hybrid.classifier = _Fixed(
        [
            Relation("a", "t", "imposes", 0.6),  # the rules' link: kept once, with the rules' score
            Relation("t", "j", "targets", 0.95),  # confident: added
            Relation("t", "g", "part_of", 0.7),  # under min_score: left out
        ]
    )
    [out] = hybrid.predict([doc])
    assert out.entities == doc.entities
    assert [(r.head, r.tail, r.label, r.score) for r in out.relations] == [
        ("a", "t", "imposes", 1.0),
        ("t", "j", "targets", 0.95),
    ]


def test_a_second_identical_classifier_fit_reuses_the_first(tiny_train_settings, toy_docs, monkeypatch):
    """Cross-validation fits re-transformer and re-hybrid's classifier on every fold: one training serves both."""
    import dataclasses

    import tradeie.training.relation as relation
    from tradeie.systems.transformer_re import TransformerRESystem, fit_key
    from tradeie.training.config import REConfig

    config = REConfig(**{**tiny_train_settings, "max_length": 96, "features": []})
    calls = []
    real = relation.fit_re
    monkeypatch.setattr(relation, "fit_re", lambda *a, **k: calls.append(1) or real(*a, **k))
    first = TransformerRESystem(config).fit(toy_docs[:2])
    quiet = dataclasses.replace(config, progress_bars=True, logging_steps=5, run_name="other")
    again = TransformerRESystem(quiet).fit(toy_docs[:2])
    assert len(calls) == 1 and again.predictor is first.predictor
    assert again.predict(toy_docs) == first.predict(toy_docs)
    # other documents, another validation set or another setting train anew
    assert fit_key(config, toy_docs[:2], None) == fit_key(quiet, toy_docs[:2], None)
    assert fit_key(config, toy_docs[:2], None) != fit_key(config, toy_docs[:1], None)
    assert fit_key(config, toy_docs[:2], None) != fit_key(config, toy_docs[:2], toy_docs[2:])
    assert fit_key(config, toy_docs[:2], None) != fit_key(dataclasses.replace(config, epochs=3), toy_docs[:2], None)
    relabelled = [toy_docs[0].with_annotations(toy_docs[0].entities, toy_docs[0].relations[1:]), toy_docs[1]]
    assert fit_key(config, toy_docs[:2], None) != fit_key(config, relabelled, None)
    TransformerRESystem(config).fit(toy_docs[:1])
    assert len(calls) == 2


def test_the_hybrid_fits_saves_and_loads_the_same(tiny_train_settings, toy_docs, tmp_path, monkeypatch):
    import tradeie.systems.transformer_re as transformer_re
    from tradeie.systems.base import load_system
    from tradeie.training.config import REConfig

    tiny = REConfig(**{**tiny_train_settings, "max_length": 96, "threshold": 0.0, "seeds": [3]})
    monkeypatch.setattr(transformer_re, "default_re_config", lambda: tiny)
    hybrid = HybridRESystem(HybridConfig(min_score=0.0)).fit(toy_docs[:2])
    assert hybrid.classifier.config.features == ["path", "distance"] and hybrid.classifier.config.list_scope
    before = hybrid.predict(toy_docs)
    # every rule link is kept; with min_score 0 every classifier link is added too
    rules = hybrid.rules.predict(toy_docs)
    model = hybrid.classifier.predict(toy_docs)
    for b, r, m in zip(before, rules, model):
        keys = {(x.head, x.tail) for x in b.relations}
        assert {(x.head, x.tail) for x in r.relations} | {(x.head, x.tail) for x in m.relations} == keys
    hybrid.save(tmp_path / "hybrid")
    assert (tmp_path / "hybrid" / "classifier" / "model.safetensors").is_file()
    again = load_system(tmp_path / "hybrid")
    assert again.name == "re-hybrid" and again.config == hybrid.config
    assert [d.relations for d in again.predict(toy_docs)] == [d.relations for d in before]
