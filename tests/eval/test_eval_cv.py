"""Grouped K-fold cross-validation and learning curves, with a fake system and the real ones."""

from __future__ import annotations

import statistics

import pytest

from tradeie.corpus import sentences_of
from tradeie.evaluation.experiments import BaselineSystem, TransformerSystem, run_cv
from tradeie.document import Entity, Relation
from tradeie.evaluation.evaluate import evaluate_documents
from tradeie.data.splits import group_kfold


class MemoryPredictor:
    """Tags every occurrence of a mention seen in training; links ACTOR -> AGREEMENT in a sentence."""

    def __init__(self, lexicon: dict[str, str], seen: list) -> None:
        self.lexicon = lexicon
        self.seen = seen

    def _relations(self, doc, entities):
        rels = []
        for s, e in sentences_of(doc):
            inside = [x for x in entities if s <= x.start < e]
            rels += [
                Relation(h.id, t.id, "party_to")
                for h in inside
                for t in inside
                if h.label == "ACTOR" and t.label == "AGREEMENT"
            ]
        return rels

    def predict(self, docs):
        out = []
        for doc in docs:
            assert not doc.entities and not doc.relations, "gold annotations leaked into prediction"
            self.seen.append(doc.id)
            ents = []
            for surface, label in sorted(self.lexicon.items()):
                start = doc.text.find(surface)
                while start >= 0:
                    ents.append(Entity(start, start + len(surface), label, f"p{start}", surface))
                    start = doc.text.find(surface, start + 1)
            ents = [
                e
                for e in sorted(ents)
                if not any(
                    o is not e and o.start <= e.start and e.end <= o.end and (o.end - o.start) > (e.end - e.start)
                    for o in ents
                )
            ]
            out.append(doc.with_annotations(ents, self._relations(doc, ents)))
        return out

    def predict_relations(self, docs):
        for doc in docs:
            assert not doc.relations, "gold relations leaked into prediction"
        return [d.with_annotations(d.entities, self._relations(d, d.entities)) for d in docs]


class MemorySystem:
    name = "memory"
    relations = True

    def __init__(self) -> None:
        self.fits: list[list[str]] = []
        self.seen: list[str] = []

    def fit(self, train_docs, work_dir):
        self.fits.append(sorted(d.id for d in train_docs))
        return MemoryPredictor({e.text: e.label for d in train_docs for e in d.entities}, self.seen)


@pytest.fixture(scope="module")
def memory_cv(toy_docs):
    system = MemorySystem()
    result = run_cv(toy_docs, [system], k=3, seed=13, learning_curve=[1, 2, 3, 99], n_resamples=100)
    return system, result


def test_folds_are_grouped_and_cover_every_document_once(memory_cv, toy_docs):
    _, result = memory_cv
    group = {d.id: d.meta["near_duplicate_group"] for d in toy_docs}
    tested = [i for a in result.assignments for i in a["test"]]
    assert sorted(tested) == sorted(d.id for d in toy_docs)
    for a in result.assignments:
        assert not {group[i] for i in a["train"]} & {group[i] for i in a["test"]}
    assert [(a["train"], a["test"]) for a in result.assignments] == [tuple(f) for f in group_kfold(toy_docs, 3, 13)]


def test_systems_train_only_on_training_folds(memory_cv):
    system, result = memory_cv
    main_fits = [f for f in system.fits if len(f) > 3]
    assert main_fits == [sorted(a["train"]) for a in result.assignments]


def test_mean_and_sd_over_folds(memory_cv):
    _, result = memory_cv
    data = result.systems["memory"]
    assert len(data["per_fold"]) == 3
    for key in ("ner_f1", "re_f1", "re_gold_entities_f1", "ner_f1/ACTOR"):
        values = [fold[key] for fold in data["per_fold"]]
        summary = data["summary"][key]
        assert summary["values"] == values
        assert summary["mean"] == pytest.approx(statistics.fmean(values))
        assert summary["sd"] == pytest.approx(statistics.stdev(values))
    assert 0 < data["summary"]["ner_f1"]["mean"] <= 1


def test_pooled_scores_are_the_out_of_fold_predictions(memory_cv):
    _, result = memory_cv
    pooled = result.pooled["memory"]
    preds = result.predictions["memory"]
    again = evaluate_documents(
        result.gold,
        preds["entities_and_relations"],
        pred_gold_entities=preds["gold_entities"],
        n_resamples=100,
        seed=13,
    )
    assert pooled["headline"] == again["headline"]
    assert pooled["headline"]["ner_f1"]["ci_low"] is not None
    assert pooled["system"] == {"name": "memory", "relations": True}


def test_learning_curve(memory_cv):
    _, result = memory_cv
    curve = result.learning_curve["memory"]
    sizes = [p["n_train"] for p in curve]
    assert sizes == [1, 2, 3, 4]  # 99 is larger than any training fold; 4 (every fold's full size) is added
    assert all(p["ner_f1"]["n"] >= 1 and 0 <= p["ner_f1"]["mean"] <= 1 for p in curve)
    full = {len(a["train"]) for a in result.assignments}
    for point in curve:
        if point["n_train"] in full:
            assert point["ner_f1"]["n"] == sum(len(a["train"]) == point["n_train"] for a in result.assignments)


def test_cv_is_deterministic(toy_docs, memory_cv):
    _, first = memory_cv
    second = run_cv(toy_docs, [MemorySystem()], k=3, seed=13, learning_curve=[1, 2, 3, 99], n_resamples=100)
    assert first.summary() == second.summary()


def test_too_many_folds_is_a_user_error(toy_docs):
    from tradeie.errors import TradeieError

    with pytest.raises(TradeieError, match="only 4 near-duplicate groups"):
        run_cv(toy_docs, [MemorySystem()], k=5)


def test_real_baselines(toy_docs):
    result = run_cv(toy_docs, [BaselineSystem("gazetteer"), BaselineSystem("crf")], k=2, n_resamples=50)
    for name in ("gazetteer", "crf"):
        summary = result.systems[name]["summary"]
        assert "re_f1" not in summary  # NER-only systems get no relation figures
        assert 0 <= summary["ner_f1"]["mean"] <= 1
        assert result.pooled[name]["system"]["relations"] is False
    assert result.systems["gazetteer"]["summary"]["ner_f1"]["mean"] > 0


def test_transformer_system_end_to_end(toy_docs, tiny_configs, tmp_path):
    ner, re_cfg = tiny_configs
    system = TransformerSystem(ner, re_cfg)
    result = run_cv(toy_docs[:4], [system], k=2, n_resamples=20, work_dir=tmp_path / "work")
    summary = result.systems["model"]["summary"]
    assert {"ner_f1", "re_f1", "re_gold_entities_f1"} <= set(summary)
    assert summary["ner_f1"]["n"] == 2
    assert (tmp_path / "work" / "fold0" / "model" / "ner" / "config.json").exists()
    assert (tmp_path / "work" / "fold1" / "model" / "re" / "config.json").exists()
    pooled = result.pooled["model"]
    assert pooled["counts"]["documents"] == 4 and "gold_entities" in pooled["re"]
