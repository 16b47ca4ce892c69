import json
import shutil

import pytest
from sklearn.metrics import cohen_kappa_score

from tradeie.annotations.gold import agreement, attach_corpus, load_gold, validate
from tradeie.document import Document, Entity, Relation, make_entity
from tradeie.errors import TradeieError
from tradeie.schema import ENTITY_LABELS, RELATION_LABELS


def test_gold_is_valid_and_complete(gold_docs, seed_corpus):
    _, corpus = seed_corpus
    assert [d.id for d in gold_docs] == [d.id for d in corpus]
    report = validate(gold_docs, corpus)
    assert report.errors == []
    totals = {label: sum(c[label] for c in report.counts.values()) for label in (*ENTITY_LABELS, *RELATION_LABELS)}
    assert all(totals[label] > 0 for label in totals), totals
    for doc in gold_docs:
        assert doc.meta["sentences"] and doc.meta["near_duplicate_group"]
        assert all(doc.text[e.start : e.end] == e.text for e in doc.entities)


def test_gold_follows_decided_edge_cases(gold_docs):
    by_id = {d.id: d for d in gold_docs}
    spans = {(d.id, d.text[e.start : e.end], e.label) for d in gold_docs for e in d.entities}
    assert ("000_d9c588e8c1f3d674", "Sergio Gor", "ACTOR") in spans
    assert ("001_d86403ddc6a3495e", "reduced reciprocal tariff rate of 18%", "TARIFF") in spans
    # "US-India" gives two ACTOR spans; no span crosses the hyphen
    doc = by_id["000_d9c588e8c1f3d674"]
    hyphen = doc.text.index("US-India")
    assert {(e.start, e.end) for e in doc.entities} >= {(hyphen, hyphen + 2), (hyphen + 3, hyphen + 8)}
    # no determiners, no possessive 's, no titles inside spans
    for d in gold_docs:
        for e in d.entities:
            assert not e.text.lower().startswith(("the ", "a ", "an ")), e
            assert not e.text.endswith("'s") and not e.text.startswith(("Ambassador ", "Minister ")), e
    # demonyms are never annotated
    assert not any(e.text in {"Indian", "American", "Chinese"} for d in gold_docs for e in d.entities)


def test_validate_reports_every_problem():
    text = "India and US signed the trade deal ."
    ents = (
        Entity(0, 5, "ACTOR", "a", "India"),
        Entity(3, 9, "ACTOR", "b", "ia and"),  # overlaps a
        Entity(24, 35, "AGREEMENT", "c", "trade deal "),  # trailing whitespace
        Entity(10, 12, "PERSON", "d", "US"),  # unknown label
    )
    rels = (Relation("c", "a", "party_to"), Relation("a", "zz", "party_to"), Relation("a", "c", "owns"))
    report = validate([Document("x", text, ents, rels)])
    assert report.errors == [
        "document x, entity b [3:9] 'ia and': overlaps entity a [0:5] 'India' (fix: spans must not overlap)",
        "document x, entity d [10:12] 'US': unknown entity label 'PERSON' (fix: use one of ACTOR, AGREEMENT, "
        "TARIFF; a span with an unknown label cannot be tagged or scored)",
        "document x, entity c [24:35] 'trade deal ': span starts or ends with whitespace (fix: trim the span)",
        "document x, relation c -party_to-> a: AGREEMENT -> ACTOR is not allowed by the schema; party_to links "
        "ACTOR -> AGREEMENT ('trade deal ' -> 'India') (fix: swap head and tail, or choose another relation)",
        "document x, relation a -party_to-> zz: refers to unknown entity id 'zz' (fix: re-draw the relation "
        "between existing entities)",
        "document x, relation a -owns-> c: unknown relation label 'owns' (fix: use one of party_to, imposes, "
        "targets, part_of)",
    ]


def test_consistency_warning_for_unannotated_repeat():
    text = "India met India."
    report = validate([Document("x", text, (make_entity(text, 0, 5, "ACTOR", "a"),))])
    assert report.errors == []
    assert report.warnings == [
        "document x, text [10:15] 'India': annotated ACTOR elsewhere but not here "
        "(fix: annotate it here too if it is a mention)"
    ]


def test_stale_annotations_are_reported_never_shifted(seed_corpus):
    _, corpus = seed_corpus
    stale = Document(corpus[0].id, "X" + corpus[0].text)
    with pytest.raises(TradeieError, match="annotated on a different text.*first difference at offset 0"):
        attach_corpus([stale], corpus, "gold")
    report = validate([stale], corpus)
    assert "stale annotations" in report.errors[0]


def test_agreement_matches_sklearn_kappa_and_hand_counts(seed_corpus):
    _, corpus = seed_corpus
    doc = corpus[3]
    t = doc.text
    i, us = t.index("India"), t.index("United States")
    deal = t.index("critical minerals framework agreement")
    a = doc.with_annotations(
        [
            make_entity(t, i, i + 5, "ACTOR", "1"),
            make_entity(t, us, us + 13, "ACTOR", "2"),
            make_entity(t, deal, deal + 37, "AGREEMENT", "3"),
        ],
        [Relation("1", "3", "party_to")],
    )
    b = doc.with_annotations(
        [
            make_entity(t, i, i + 5, "ACTOR", "1"),
            make_entity(t, us + 7, us + 13, "ACTOR", "2"),
            make_entity(t, deal, deal + 37, "AGREEMENT", "3"),
        ],
        [Relation("1", "3", "party_to")],
    )
    figures = agreement([a], [b])
    assert figures["spans"]["all"]["strict"]["f1"] == pytest.approx(2 / 3, abs=1e-4)
    assert figures["spans"]["all"]["overlap"]["f1"] == 1.0
    assert figures["relations"]["party_to"]["f1"] == 1.0
    n = figures["tokens"]
    tags_a, tags_b = ["O"] * n, ["O"] * n
    # rebuild the tag sequences independently through the tokenizer module
    from tradeie.corpus import sentences_of
    from tradeie.text.tokens import bio_tags, sentence_tokens

    tags_a = [tag for toks in sentence_tokens(t, sentences_of(doc)) for tag in bio_tags(toks, a.entities)]
    tags_b = [tag for toks in sentence_tokens(t, sentences_of(doc)) for tag in bio_tags(toks, b.entities)]
    assert figures["token_kappa"] == pytest.approx(cohen_kappa_score(tags_a, tags_b), abs=1e-4)


def test_load_gold_rejects_unknown_document(tmp_path, seed_corpus, repo_root):
    corpus_path, _ = seed_corpus
    gold = tmp_path / "gold"
    shutil.copytree(repo_root / "annotations" / "gold", gold)
    path = next(gold.glob("*.json"))
    tasks = json.loads(path.read_text())
    tasks[0]["data"]["doc_id"] = "nope"
    path.write_text(json.dumps(tasks))
    with pytest.raises(TradeieError, match="document nope: not in the corpus"):
        load_gold(gold, corpus_path)
