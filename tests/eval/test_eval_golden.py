"""Metrics checked against seqeval and nervaluate on the committed golden files."""

from __future__ import annotations

import json

import pytest

from tradeie.evaluation.scores import (
    NERVALUATE_SCHEMES,
    TokenView,
    nervaluate_scores,
    seqeval_scores,
    seqeval_table,
    token_views,
)

LABELS = ["ACTOR", "AGREEMENT", "TARIFF"]
NV_FIELDS = ("correct", "incorrect", "partial", "missed", "spurious", "possible", "actual", "precision", "recall", "f1")


@pytest.fixture(scope="module")
def expected(eval_data):
    return json.loads((eval_data / "expected.json").read_text(encoding="utf-8"))


def _views_from_tags(eval_data) -> list[TokenView]:
    data = json.loads((eval_data / "golden_tags.json").read_text(encoding="utf-8"))
    return [TokenView(d["id"], [[None] * len(s) for s in d["gold"]], d["gold"], d["pred"]) for d in data["documents"]]


def test_expected_file_matches_the_installed_libraries(expected, make_expected):
    """expected.json was produced by seqeval/nervaluate directly; recomputing it gives the same numbers."""
    assert json.loads(json.dumps(make_expected.expected())) == expected


def _check_seqeval(ours: dict, ref: dict) -> None:
    for label in LABELS:
        row = ref.get(label, {"precision": 0.0, "recall": 0.0, "f1-score": 0.0, "support": 0.0})
        cell = ours["per_label"][label]
        assert cell["precision"] == pytest.approx(row["precision"])
        assert cell["recall"] == pytest.approx(row["recall"])
        assert cell["f1"] == pytest.approx(row["f1-score"])
        assert cell["support"] == row["support"]
    for avg in ("micro", "macro", "weighted"):
        row = ref[f"{avg} avg"]
        assert ours[avg]["f1"] == pytest.approx(row["f1-score"]), avg
        assert ours[avg]["precision"] == pytest.approx(row["precision"]), avg
        assert ours[avg]["recall"] == pytest.approx(row["recall"]), avg
        assert ours[avg]["support"] == row["support"], avg


def _check_nervaluate(ours: dict, ref: dict) -> None:
    for scheme in NERVALUATE_SCHEMES:
        for field in NV_FIELDS:
            assert ours[scheme]["micro"][field] == pytest.approx(ref["overall"][scheme][field]), (scheme, field)
        for label in LABELS:
            ref_cell = ref["entities"].get(label, {}).get(scheme)
            for field in NV_FIELDS:
                expect = ref_cell[field] if ref_cell else 0
                assert ours[scheme]["per_label"][label][field] == pytest.approx(expect), (scheme, label, field)
        assert ours[scheme]["micro"]["support"] == ref["overall"][scheme]["possible"]


@pytest.mark.parametrize("mode", ["default", "strict"])
def test_document_seqeval_matches_reference(golden_metrics, expected, mode):
    _check_seqeval(golden_metrics["ner"]["seqeval"][mode], expected["documents"]["seqeval"][mode])


def test_document_nervaluate_matches_reference(golden_metrics, expected):
    _check_nervaluate(golden_metrics["ner"]["nervaluate"], expected["documents"]["nervaluate"])


def test_document_char_span_and_relation_counts(golden_metrics, expected):
    for label, (matched, predicted, gold) in expected["documents"]["char_span"].items():
        cell = golden_metrics["ner"]["char_span"]["per_label"][label]
        assert (cell["matched"], cell["predicted"], cell["support"]) == (matched, predicted, gold), label
    for label, (matched, predicted, gold) in expected["documents"]["re_strict"].items():
        cell = golden_metrics["re"]["end_to_end"]["strict"]["per_label"][label]
        assert (cell["matched"], cell["predicted"], cell["support"]) == (matched, predicted, gold), label


def test_document_headline_points_at_the_library_numbers(golden_metrics, expected):
    head = golden_metrics["headline"]
    ref = expected["documents"]
    assert head["ner_f1"]["value"] == pytest.approx(ref["seqeval"]["strict"]["micro avg"]["f1-score"])
    assert head["ner_macro_f1"]["value"] == pytest.approx(ref["seqeval"]["strict"]["macro avg"]["f1-score"])
    assert head["ner_partial_f1"]["value"] == pytest.approx(ref["nervaluate"]["overall"]["partial"]["f1"])
    # "Sergio Go" cuts a token: exact character spans miss it, token-level scores (after snapping) do not
    assert golden_metrics["ner"]["token_alignment"]["snapped"] == 1
    assert head["ner_char_span_f1"]["value"] < head["ner_f1"]["value"]


@pytest.mark.parametrize("mode", ["default", "strict"])
def test_tag_seqeval_modes_match_reference(eval_data, expected, mode):
    views = _views_from_tags(eval_data)
    y_true = [s for v in views for s in v.gold]
    y_pred = [s for v in views for s in v.pred]
    ours = seqeval_scores(y_true, y_pred, mode, LABELS)
    _check_seqeval(ours, expected["tags"]["seqeval"][mode])
    # per-document counts used for the bootstrap add up to seqeval's own micro figures
    totals = seqeval_table(views, LABELS, mode).counts.sum(axis=(0, 1))
    assert (totals[0], totals[1], totals[2]) == (
        ours["micro"]["matched"],
        ours["micro"]["predicted"],
        ours["micro"]["support"],
    )


def test_tag_modes_differ_on_invalid_iob2(expected):
    """Stray I- tags count as entities in conlleval mode and not in strict IOB2 mode."""
    seq = expected["tags"]["seqeval"]
    assert seq["default"]["micro avg"]["f1-score"] != pytest.approx(seq["strict"]["micro avg"]["f1-score"])


def test_tag_nervaluate_matches_reference(eval_data, expected):
    scores, tables = nervaluate_scores(_views_from_tags(eval_data), LABELS)
    _check_nervaluate(scores, expected["tags"]["nervaluate"])
    # per-document triples used for intervals reproduce nervaluate's partial-scheme figures
    m, p, g = tables["partial"].micro_counts().sum(axis=0)
    assert m / p == pytest.approx(scores["partial"]["micro"]["precision"])
    assert m / g == pytest.approx(scores["partial"]["micro"]["recall"])


def test_token_views_use_the_gold_sentences(golden_gold, golden_pred):
    views, stats = token_views(golden_gold, [p for g in golden_gold for p in golden_pred if p.id == g.id])
    assert [len(v.tokens) for v in views] == [len(g.meta["sentences"]) for g in golden_gold]
    assert all(len(a) == len(b) for v in views for a, b in zip(v.gold, v.pred))
    assert stats.snapped == 1 and "Sergio Go" in stats.examples[0]
