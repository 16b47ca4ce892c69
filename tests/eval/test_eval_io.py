"""Loading predictions and gold (JSONL, Label Studio JSON) and pairing them."""

from __future__ import annotations

import json

import pytest

from tradeie.errors import TradeieError
from tradeie.evaluation.evaluate import load_gold_file, load_predictions, pair_documents
from tradeie.labelstudio.format import to_tasks

TEXT = "India and the US signed a critical minerals agreement."


def _write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _row(**kw):
    row = {
        "id": "d1",
        "text": TEXT,
        "entities": [
            {"id": "e1", "start": 0, "end": 5, "label": "ACTOR", "text": "India", "score": 0.9},
            {"id": "e2", "start": 26, "end": 53, "label": "AGREEMENT"},
        ],
        "relations": [{"head": "e1", "tail": "e2", "label": "party_to", "score": 0.8}],
    }
    row.update(kw)
    return row


def test_predictions_jsonl_round_trip(tmp_path):
    docs = load_predictions(_write_jsonl(tmp_path / "p.jsonl", [_row()]))
    (doc,) = docs
    assert [(e.start, e.end, e.label, e.text, e.score) for e in doc.entities] == [
        (0, 5, "ACTOR", "India", 0.9),
        (26, 53, "AGREEMENT", "critical minerals agreement", None),
    ]
    assert doc.relation_keys() == {((0, 5, "ACTOR"), (26, 53, "AGREEMENT"), "party_to")}


@pytest.mark.parametrize(
    "change, message",
    [
        (
            {"entities": [{"id": "e1", "start": 0, "end": 5, "label": "PERSON"}], "relations": []},
            "unknown entity label",
        ),
        ({"entities": [{"id": "e1", "start": 0, "end": 99, "label": "ACTOR"}], "relations": []}, "outside the text"),
        (
            {"entities": [{"id": "e1", "start": 0, "end": 5, "label": "ACTOR", "text": "Indi"}], "relations": []},
            "says 'Indi'",
        ),
        ({"relations": [{"head": "e1", "tail": "e9", "label": "party_to"}]}, "unknown entity id"),
        ({"relations": [{"head": "e1", "tail": "e2", "label": "likes"}]}, "unknown relation label"),
        ({"text": None}, "'text' string"),
    ],
)
def test_bad_prediction_rows_name_file_and_fix(tmp_path, change, message):
    path = _write_jsonl(tmp_path / "p.jsonl", [_row(**change)])
    with pytest.raises(TradeieError, match=message) as info:
        load_predictions(path)
    assert "p.jsonl:1" in str(info.value)


def test_missing_file_is_a_user_error(tmp_path):
    with pytest.raises(TradeieError, match="not found"):
        load_predictions(tmp_path / "nope.jsonl")
    with pytest.raises(TradeieError, match="not found"):
        load_gold_file(tmp_path / "nope.jsonl")


def test_gold_from_label_studio_export(tmp_path, golden_gold):
    path = tmp_path / "export.json"
    path.write_text(json.dumps(to_tasks(golden_gold[:2])), encoding="utf-8")
    docs = load_gold_file(path)
    assert [d.id for d in docs] == [d.id for d in golden_gold[:2]]
    for a, b in zip(docs, golden_gold):
        assert {e.key for e in a.entities} == {e.key for e in b.entities}
        assert a.relation_keys() == b.relation_keys()


def test_predictions_from_label_studio_tasks(tmp_path, golden_gold, golden_pred):
    pred = pair_documents(golden_gold, golden_pred)
    path = tmp_path / "preds.json"
    path.write_text(json.dumps(to_tasks(golden_gold, predictions=pred, model_version="m1")), encoding="utf-8")
    docs = load_predictions(path)
    assert [{e.key for e in d.entities} for d in docs] == [{e.key for e in d.entities} for d in pred]
    assert [d.relation_keys() for d in docs] == [d.relation_keys() for d in pred]


def test_pairing_by_id_then_text(build):
    gold = [build.doc("a", "Text A."), build.doc("b", "Text B.")]
    pred = [build.doc("file-b", "Text B."), build.doc("a", "Text A.")]
    paired = pair_documents(gold, pred)
    assert [(d.id, d.text) for d in paired] == [("a", "Text A."), ("b", "Text B.")]
    with pytest.raises(TradeieError, match="1 prediction\\(s\\) for document\\(s\\) not in the gold: extra"):
        pair_documents(gold, [*pred, build.doc("extra", "Other.")])


def test_pairing_errors(build):
    gold = [build.doc("a", "Text A."), build.doc("b", "Text B.")]
    with pytest.raises(TradeieError, match="no prediction for 1 gold document.*b"):
        pair_documents(gold, [build.doc("a", "Text A.")])
    with pytest.raises(TradeieError, match="differs from the gold text at offset 5"):
        pair_documents(gold[:1], [build.doc("a", "Text X.")])


def test_overlapping_gold_is_rejected_not_altered(tmp_path):
    import json

    from tradeie.errors import TradeieError
    from tradeie.evaluation.evaluate import load_gold_file

    row = {
        "id": "d",
        "text": "United States trade deal",
        "entities": [
            {"id": "a", "start": 0, "end": 13, "label": "ACTOR"},
            {"id": "b", "start": 7, "end": 24, "label": "AGREEMENT"},
        ],
        "relations": [],
    }
    path = tmp_path / "gold.jsonl"
    path.write_text(json.dumps(row) + "\n")
    with pytest.raises(TradeieError, match="invalid gold: .*overlaps entity a"):
        load_gold_file(path)
