"""Hand-computed cases: partial overlap, type confusion, empty predictions, empty gold, relations."""

from __future__ import annotations

import pytest

from tradeie.document import Relation
from tradeie.evaluation.evaluate import evaluate_documents, match_entities
from tradeie.evaluation.report import headline_cell, render_markdown

TEXT = "India and the US signed a critical minerals agreement on Friday."


def _score(build, gold_ents, pred_ents, gold_rels=(), pred_rels=(), text=TEXT, **kw):
    gold = [build.doc("d1", text, gold_ents, gold_rels)]
    pred = [build.doc("d1", text, pred_ents, pred_rels)]
    return evaluate_documents(gold, pred, n_resamples=50, **kw)


def test_partial_overlap(build):
    gold = [build.span(TEXT, "critical minerals agreement", "AGREEMENT")]
    pred = [build.span(TEXT, "minerals agreement", "AGREEMENT")]
    m = _score(build, gold, pred)
    assert m["ner"]["seqeval"]["strict"]["micro"]["f1"] == 0.0
    nv = m["ner"]["nervaluate"]
    # strict/exact: one incorrect; partial: 0.5 credit; ent_type: overlap with the right type is correct
    assert (nv["strict"]["micro"]["incorrect"], nv["strict"]["micro"]["f1"]) == (1, 0.0)
    assert nv["exact"]["micro"]["f1"] == 0.0
    assert (
        nv["partial"]["micro"]["partial"],
        nv["partial"]["micro"]["precision"],
        nv["partial"]["micro"]["recall"],
        nv["partial"]["micro"]["f1"],
    ) == (1, 0.5, 0.5, 0.5)
    assert nv["ent_type"]["micro"]["f1"] == 1.0
    # characters: gold has 25 non-space characters, the prediction 17, all inside gold
    over = m["ner"]["char_overlap"]["micro"]
    assert (over["matched"], over["predicted"], over["support"]) == (17, 17, 25)
    assert over["f1"] == pytest.approx(2 * 1.0 * (17 / 25) / (1 + 17 / 25))
    assert m["ner"]["char_span"]["micro"]["f1"] == 0.0
    rows = m["errors"]["rows"]
    assert [(r["kind"], r["fp"], r["fn"]) for r in rows] == [("boundary", True, True)]
    assert rows[0]["context"] == TEXT


def test_type_confusion(build):
    gold = [build.span(TEXT, "India", "ACTOR")]
    pred = [build.span(TEXT, "India", "AGREEMENT")]
    m = _score(build, gold, pred)
    seq = m["ner"]["seqeval"]["strict"]
    assert seq["per_label"]["ACTOR"] == {
        **seq["per_label"]["ACTOR"],
        "precision": 0.0,
        "recall": 0.0,
        "f1": 0.0,
        "support": 1,
        "predicted": 0,
    }
    assert seq["per_label"]["AGREEMENT"]["predicted"] == 1 and seq["micro"]["f1"] == 0.0
    nv = m["ner"]["nervaluate"]
    assert nv["exact"]["micro"]["f1"] == 1.0  # boundaries right
    assert nv["partial"]["micro"]["f1"] == 1.0  # partial ignores the type
    assert (nv["ent_type"]["micro"]["incorrect"], nv["ent_type"]["micro"]["f1"]) == (1, 0.0)
    assert (nv["strict"]["micro"]["incorrect"], nv["strict"]["micro"]["f1"]) == (1, 0.0)
    conf = m["ner"]["token_confusion"]["tags"]
    labels = conf["labels"]
    assert conf["matrix"][labels.index("B-ACTOR")][labels.index("B-AGREEMENT")] == 1
    types = m["ner"]["token_confusion"]["types"]
    assert types["matrix"][types["labels"].index("ACTOR")][types["labels"].index("AGREEMENT")] == 1
    assert [r["kind"] for r in m["errors"]["rows"]] == ["type"]


def test_boundary_and_type_error_kind(build):
    gold = [build.span(TEXT, "critical minerals agreement", "AGREEMENT")]
    pred = [build.span(TEXT, "critical minerals", "TARIFF")]
    m = _score(build, gold, pred)
    assert [r["kind"] for r in m["errors"]["rows"]] == ["boundary_type"]
    assert m["ner"]["nervaluate"]["partial"]["micro"]["f1"] == 0.5


def test_empty_predictions(build):
    gold = [
        build.span(TEXT, "India", "ACTOR"),
        build.span(TEXT, "US", "ACTOR"),
        build.span(TEXT, "critical minerals agreement", "AGREEMENT"),
    ]
    m = _score(build, gold, [])
    micro = m["ner"]["seqeval"]["strict"]["micro"]
    assert (micro["precision"], micro["recall"], micro["f1"], micro["support"], micro["predicted"]) == (0, 0, 0, 3, 0)
    assert m["ner"]["nervaluate"]["strict"]["micro"]["missed"] == 3
    assert micro["ci"]["f1"] == [0.0, 0.0]
    assert [r["kind"] for r in m["errors"]["rows"]] == ["missed"] * 3
    assert all(r["fn"] and not r["fp"] for r in m["errors"]["rows"])
    assert m["headline"]["ner_f1"]["value"] == 0.0


def test_empty_gold(build):
    pred = [build.span(TEXT, "Friday", "ACTOR")]
    m = _score(build, [], pred)
    micro = m["ner"]["seqeval"]["strict"]["micro"]
    assert (micro["precision"], micro["recall"], micro["f1"], micro["support"], micro["predicted"]) == (0, 0, 0, 0, 1)
    assert m["ner"]["nervaluate"]["strict"]["micro"]["spurious"] == 1
    assert m["ner"]["seqeval"]["strict"]["per_label"]["ACTOR"]["predicted"] == 1
    assert [(r["kind"], r["fp"], r["fn"]) for r in m["errors"]["rows"]] == [("spurious", True, False)]


def test_nothing_to_score(build):
    m = _score(build, [], [])
    assert m["headline"]["ner_f1"]["value"] == 0.0
    assert m["headline"]["ner_f1"]["ci_low"] is None  # no interval where nothing was scored
    assert m["ner"]["seqeval"]["strict"]["macro"]["f1"] == 0.0
    assert m["errors"]["rows"] == []
    assert headline_cell(m, "ner_f1") == "n/a (nothing to score)"
    md_single = render_markdown(m, title="t")
    assert "collapse to the point estimate" in md_single


def test_macro_averages_only_labels_that_occur(build):
    gold = [build.span(TEXT, "India", "ACTOR"), build.span(TEXT, "critical minerals agreement", "AGREEMENT")]
    pred = [build.span(TEXT, "India", "ACTOR")]
    m = _score(build, gold, pred)
    seq = m["ner"]["seqeval"]["strict"]
    assert seq["macro"]["f1"] == pytest.approx(0.5)  # (1.0 + 0.0) / 2; TARIFF absent on both sides
    assert seq["micro"]["f1"] == pytest.approx(2 / 3)
    assert m["ner"]["char_span"]["macro"]["f1"] == pytest.approx(0.5)


def _rel_case(build, pred_agreement: str, label: str = "party_to", with_entity: bool = True):
    india = build.span(TEXT, "India", "ACTOR", entity_id="a")
    gold_ag = build.span(TEXT, "critical minerals agreement", "AGREEMENT", entity_id="b")
    pred_ag = build.span(TEXT, pred_agreement, "AGREEMENT", entity_id="b")
    return _score(
        build,
        [india, gold_ag],
        [india, pred_ag] if with_entity else [india],
        [Relation("a", "b", "party_to")],
        [Relation("a", "b", label)] if with_entity else [],
    )


def test_relation_exact_match(build):
    m = _rel_case(build, "critical minerals agreement")
    for kind in ("strict", "relaxed"):
        cell = m["re"]["end_to_end"][kind]["per_label"]["party_to"]
        assert (cell["precision"], cell["recall"], cell["f1"]) == (1.0, 1.0, 1.0)
    assert m["re"]["end_to_end"]["strict"]["per_label"]["imposes"]["support"] == 0


def test_relation_boundary_relaxed(build):
    m = _rel_case(build, "minerals agreement")
    assert m["re"]["end_to_end"]["strict"]["micro"]["f1"] == 0.0
    assert m["re"]["end_to_end"]["relaxed"]["micro"]["f1"] == 1.0
    assert [r["kind"] for r in m["errors"]["rows"] if r["task"] == "re"] == ["argument_boundary"]


def test_relation_wrong_label(build):
    m = _rel_case(build, "critical minerals agreement", label="imposes")
    re_ = m["re"]["end_to_end"]
    assert re_["strict"]["micro"]["f1"] == 0.0 and re_["relaxed"]["micro"]["f1"] == 0.0
    assert re_["strict"]["per_label"]["imposes"]["predicted"] == 1
    assert [r["kind"] for r in m["errors"]["rows"] if r["task"] == "re"] == ["wrong_label"]


def test_relation_missed_because_entity_missed(build):
    m = _rel_case(build, "critical minerals agreement", with_entity=False)
    assert [r["kind"] for r in m["errors"]["rows"] if r["task"] == "re"] == ["missed_entity"]
    assert m["re"]["end_to_end"]["strict"]["micro"]["recall"] == 0.0


def test_relations_with_gold_entities_setting(build):
    india = build.span(TEXT, "India", "ACTOR", entity_id="a")
    us = build.span(TEXT, "US", "ACTOR", entity_id="u")
    ag = build.span(TEXT, "critical minerals agreement", "AGREEMENT", entity_id="b")
    gold = [build.doc("d1", TEXT, [india, us, ag], [Relation("a", "b", "party_to"), Relation("u", "b", "party_to")])]
    pred = [build.doc("d1", TEXT, [india], [])]
    pge = [build.doc("d1", TEXT, [india, us, ag], [Relation("a", "b", "party_to")])]
    m = evaluate_documents(gold, pred, pred_gold_entities=pge, n_resamples=20)
    assert m["re"]["gold_entities"]["strict"]["micro"]["recall"] == 0.5
    assert m["re"]["gold_entities"]["strict"]["micro"]["precision"] == 1.0
    assert m["headline"]["re_gold_entities_f1"]["value"] == pytest.approx(2 / 3)
    assert m["re"]["end_to_end"]["strict"]["micro"]["f1"] == 0.0
    kinds = {(r["setting"], r["kind"]) for r in m["errors"]["rows"] if r["task"] == "re"}
    assert kinds == {("end_to_end", "missed_entity"), ("gold_entities", "missed")}


def test_match_entities_prefers_same_label_then_largest_overlap(build):
    gold = [build.span(TEXT, "critical minerals agreement", "AGREEMENT")]
    pred = [build.span(TEXT, "critical", "TARIFF"), build.span(TEXT, "minerals agreement", "AGREEMENT")]
    kinds = sorted((m.kind, m.pred.text if m.pred else None) for m in match_entities(gold[0:1], pred))
    assert kinds == [("boundary", "minerals agreement"), ("spurious", "critical")]


def test_gold_span_inside_a_token_is_scored_on_split_tokens(build):
    from tradeie.document import make_entity

    gold = [make_entity(TEXT, 0, 3, "ACTOR")]  # "Ind" cuts a token: the token is split there
    exact = _score(build, gold, [make_entity(TEXT, 0, 3, "ACTOR")])
    assert exact["ner"]["seqeval"]["strict"]["micro"]["f1"] == 1.0
    whole = _score(build, gold, [make_entity(TEXT, 0, 5, "ACTOR")])
    assert whole["ner"]["seqeval"]["strict"]["micro"]["f1"] == 0.0
