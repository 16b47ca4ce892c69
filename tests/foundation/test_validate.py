"""The one validator (tradeie.annotations.validate): findings, levels, rule sets and messages."""

from __future__ import annotations

import pytest

from tradeie.annotations.validate import (
    DATASET,
    ERROR,
    GOLD,
    PREDICTIONS,
    WARNING,
    Finding,
    check_document,
    raise_first_error,
    validate_documents,
)
from tradeie.document import Document, Relation, make_entity, text_sha256
from tradeie.errors import TradeieError

TEXT = "India signed a deal. The US imposed tariffs."


def _doc(*spans, relations=(), **meta) -> Document:
    ents = tuple(make_entity(TEXT, s, e, label, eid) for s, e, label, eid in spans)
    return Document("d", TEXT, ents, tuple(Relation(*r) for r in relations), meta=meta)


def test_a_finding_is_one_line_with_level_source_location_problem_and_fix():
    finding = Finding(ERROR, "d", "span starts or ends with whitespace", "entity e1 [0:6] 'India '", "trim the span")
    assert (
        finding.message
        == "document d, entity e1 [0:6] 'India ': span starts or ends with whitespace (fix: trim the span)"
    )
    assert (
        finding.line()
        == "error: document d: entity e1 [0:6] 'India ': span starts or ends with whitespace (fix: trim the span)"
    )
    sourced = Finding(WARNING, "d", "not in the corpus", source="gold/d.json: task 3 (d)")
    assert sourced.line() == "warning: gold/d.json: task 3 (d): not in the corpus"
    assert str(finding.error("gold.jsonl:4", more=2)) == (
        "gold.jsonl:4: document d, entity e1 [0:6] 'India ': span starts or ends with whitespace (and 2 more) "
        "(fix: trim the span)"
    )


def test_rule_sets_predictions_are_structure_only_gold_adds_the_schema():
    overlapping = _doc((0, 5, "ACTOR", "a"), (0, 12, "ACTOR", "b"), relations=[("a", "b", "party_to")])
    assert check_document(overlapping, PREDICTIONS) == []
    assert [f.problem for f in check_document(overlapping, GOLD)] == [
        "overlaps entity a [0:5] 'India'",
        "ACTOR -> ACTOR is not allowed by the schema; party_to links ACTOR -> AGREEMENT ('India' -> 'India signed')",
    ]
    dangling = _doc((0, 5, "PERSON", "a"), (0, 5, "ACTOR", "a"), relations=[("a", "zz", "likes")])
    assert [f.problem for f in check_document(dangling, PREDICTIONS)] == [
        "unknown entity label 'PERSON'",
        "entity id 'a' used twice",
        "unknown relation label 'likes'",
        "refers to unknown entity id 'zz'",
    ]


def test_sentences_and_task_hash():
    across = _doc((15, 27, "AGREEMENT", "c"))  # 'deal. The US'
    (finding,) = check_document(across, DATASET)
    assert finding.message == (
        "document d, entity c [15:27] 'deal. The US': crosses the sentence boundary at offset 20 "
        "(fix: entities must lie within one sentence; fix the span)"
    )
    assert check_document(across, PREDICTIONS) == []
    pushed = _doc((0, 5, "ACTOR", "a"), text_sha256_at_annotation="0" * 64)
    assert [f.message for f in check_document(pushed, GOLD)] == [
        f"document d: task data text_sha256 000000000000 does not match the task text ({text_sha256(TEXT)[:12]}) "
        "(fix: re-import the task with `tradeie ls push`)"
    ]


def test_corpus_checks_sources_and_consistency_levels():
    annotated = _doc((0, 5, "ACTOR", "a"))
    other = Document("e", "India again.")
    corpus = [Document("d", TEXT), Document("e", "India again!")]
    found = validate_documents([annotated, other], corpus, sources={"e": "gold/e.json: task 2 (e)"})
    assert [(f.level, f.document) for f in found] == [(ERROR, "e"), (WARNING, "e")]
    assert (
        found[0]
        .line()
        .startswith(
            "error: gold/e.json: task 2 (e): annotated on a different text than the corpus (annotation text hash "
        )
    )
    assert found[1].line() == (
        "warning: gold/e.json: task 2 (e): text [0:5] 'India': annotated ACTOR elsewhere but not here "
        "(fix: annotate it here too if it is a mention)"
    )
    assert [f.problem for f in validate_documents([Document("x", "y")], corpus, consistency=False)] == [
        "not in the corpus"
    ]


def test_raise_first_error_ignores_warnings():
    raise_first_error([Finding(WARNING, "d", "looks odd")])
    with pytest.raises(TradeieError) as info:
        raise_first_error([Finding(WARNING, "d", "looks odd"), Finding(ERROR, "d", "bad", fix="fix it")], "f.jsonl:2")
    assert str(info.value) == "f.jsonl:2: document d: bad (fix: fix it)"
