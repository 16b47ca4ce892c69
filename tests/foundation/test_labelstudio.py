import json
import random

import pytest

from tradeie.document import Document, Entity, Relation, make_entity
from tradeie.errors import TradeieError
from tradeie.labelstudio.format import read_export, to_tasks
from tradeie.schema import labeling_config


def _region(rid, start, end, text, label, **extra):
    return {
        "id": rid,
        "from_name": "lbl",
        "to_name": "txt",
        "type": "labels",
        "value": {"start": start, "end": end, "text": text, "labels": [label]},
        **extra,
    }


def _task(text, result, **extra):
    return {
        "id": 7,
        "data": {"text": text, "doc_id": "d1"},
        "annotations": [
            {
                "id": 1,
                "result": result,
                "was_cancelled": False,
                "ground_truth": False,
                "updated_at": "2026-01-01T00:00:00Z",
            }
        ],
        **extra,
    }


TEXT = "India and US agreed a trade deal with 18% tariffs."


def test_reads_spans_relations_any_names_and_direction():
    result = [
        _region("a", 0, 5, "India", "ACTOR"),
        _region("b", 22, 32, "trade deal", "AGREEMENT"),
        _region("c", 10, 12, "US", "ACTOR"),
        {"from_id": "b", "to_id": "a", "type": "relation", "direction": "left", "labels": ["party_to"]},
        {"from_id": "b", "to_id": "c", "type": "relation", "direction": "bi", "labels": ["party_to"]},
    ]
    doc = read_export([_task(TEXT, result)]).documents[0]
    assert doc.id == "d1"
    assert [e.text for e in doc.entities] == ["India", "US", "trade deal"]
    assert set(doc.relations) == {Relation("a", "b", "party_to"), Relation("c", "b", "party_to")}


def test_chooses_ground_truth_else_latest_not_cancelled():
    anns = [
        {"id": 1, "result": [_region("a", 0, 5, "India", "ACTOR")], "updated_at": "2026-01-03", "was_cancelled": True},
        {"id": 2, "result": [_region("a", 10, 12, "US", "ACTOR")], "updated_at": "2026-01-02"},
        {"id": 3, "result": [], "updated_at": "2026-01-01"},
    ]
    task = {"id": 1, "data": {"text": TEXT, "doc_id": "d"}, "annotations": anns}
    export = read_export([task])
    assert export.documents[0].meta["annotation_id"] == 2
    assert "latest of 2" in export.documents[0].meta["annotation_choice"]
    assert len(export.all_annotations["d"]) == 2
    anns[2]["ground_truth"] = True
    assert read_export([task]).documents[0].meta["annotation_id"] == 3


def test_predictions_kept_apart():
    task = _task(TEXT, [_region("a", 0, 5, "India", "ACTOR")])
    task["predictions"] = [{"model_version": "m1", "result": [_region("p", 10, 12, "US", "ACTOR", score=0.9)]}]
    export = read_export([task])
    assert [e.text for e in export.documents[0].entities] == ["India"]
    pred = export.predictions["d1"][0]
    assert pred.meta["model_version"] == "m1" and pred.entities[0].score == 0.9


def test_utf16_offsets_are_converted_with_a_warning():
    text = "\U0001f600 India"
    export = read_export([_task(text, [_region("a", 3, 8, "India", "ACTOR")])])
    assert export.documents[0].entities[0].start == 2
    assert any("UTF-16" in w for w in export.warnings)


def test_mismatched_region_fails_naming_task_region_offsets_and_strings():
    with pytest.raises(TradeieError) as err:
        read_export([_task(TEXT, [_region("r9", 0, 5, "Indya", "ACTOR")])], name="export.json")
    message = str(err.value)
    assert "export.json: task 7 (d1)" in message and "region r9" in message
    assert "[0:5]" in message and "'India'" in message and "'Indya'" in message


def test_bad_files(tmp_path):
    bad = tmp_path / "x.json"
    bad.write_text("{not json")
    with pytest.raises(TradeieError, match="x.json: invalid JSON at line 1"):
        read_export(bad)
    bad.write_text('"just a string"')
    with pytest.raises(TradeieError, match="expected a list of Label Studio tasks"):
        read_export(bad)


def _random_document(rng: random.Random, doc_id: str) -> Document:
    pieces = ["India", "\r\n", "US", " ", "Cafe\u0301", "\U0001f600", "tariff", "\u2014", "deal", "  ", "e\u0301\u0301"]
    text = "".join(rng.choice(pieces) + " " for _ in range(40))
    ents, pos, k = [], 0, 0
    while True:
        start = text.find("India", pos)
        if start < 0:
            break
        ents.append(make_entity(text, start, start + 5, "ACTOR", f"e{k}"))
        pos, k = start + 5, k + 1
    for start in [i for i in range(len(text)) if text.startswith("deal", i)]:
        ents.append(make_entity(text, start, start + 4, "AGREEMENT", f"e{k}"))
        k += 1
    actors = [e for e in ents if e.label == "ACTOR"]
    deals = [e for e in ents if e.label == "AGREEMENT"]
    rels = [Relation(a.id, d.id, "party_to") for a, d in zip(actors, deals)]
    return Document(doc_id, text, tuple(sorted(ents, key=lambda e: e.start)), tuple(rels))


def test_round_trip_generated_texts_with_emoji_crlf_and_combining_marks():
    rng = random.Random(3)
    docs = [_random_document(rng, f"g{i}") for i in range(5)]
    tasks = json.loads(json.dumps(to_tasks(docs)))
    back = read_export(tasks).documents
    for doc, other in zip(docs, back):
        assert other.text == doc.text and "\r\n" in doc.text or "\r\n" not in doc.text
        assert [(e.id, *e.key) for e in other.entities] == [(e.id, *e.key) for e in doc.entities]
        assert set(other.relations) == set(doc.relations)
    assert json.loads(json.dumps(to_tasks(back))) == tasks


def test_round_trip_gold_files_is_lossless(repo_root):
    for path in sorted((repo_root / "annotations" / "gold").glob("*.json")):
        tasks = json.loads(path.read_text(encoding="utf-8"))
        docs = read_export(path).documents
        again = to_tasks(docs)
        for original, new in zip(tasks, again):
            assert new["data"] == original["data"]
            assert new["annotations"][0]["result"] == original["annotations"][0]["result"]


def test_predictions_export_with_scores_and_model_version():
    doc = Document("d", TEXT)
    pred = Document("d", TEXT, (Entity(0, 5, "ACTOR", "p1", "India", 0.75),), ())
    task = to_tasks([doc], predictions=[pred], model_version="run-1")[0]
    assert "annotations" not in task
    assert task["predictions"][0]["model_version"] == "run-1"
    assert task["predictions"][0]["result"][0]["score"] == 0.75
    assert task["data"]["text_sha256"]


def test_labeling_config_committed_matches_schema(repo_root):
    committed = (repo_root / "annotations" / "labeling_config.xml").read_text(encoding="utf-8")
    assert committed == labeling_config()
    for name in ("ACTOR", "AGREEMENT", "TARIFF", "party_to", "imposes", "targets", "part_of"):
        assert f'value="{name}"' in committed


def test_choice_does_not_depend_on_annotation_ids():
    anns = [{"result": [_region("a", 0, 5, "India", "ACTOR")]}, {"result": [], "ground_truth": True}]
    doc = read_export([{"data": {"text": TEXT, "doc_id": "d"}, "annotations": anns}]).documents[0]
    assert doc.entities == ()
    anns[1]["ground_truth"] = False
    anns[0]["updated_at"], anns[1]["updated_at"] = "2026-01-02", "2026-01-01"
    doc = read_export([{"data": {"text": TEXT, "doc_id": "d"}, "annotations": anns}]).documents[0]
    assert [e.text for e in doc.entities] == ["India"]


def test_task_annotations_are_read_one_by_one_for_merging():
    from tradeie.labelstudio.format import read_task_annotations

    text = "India signed."
    task = {
        "id": 7,
        "data": {"text": text, "doc_id": "d1"},
        "annotations": [
            {"id": 1, "completed_by": 3, "result": [_region("a", 0, 5, "India", "ACTOR")]},
            {"id": 2, "completed_by": 4, "result": [_region("b", 0, 5, "China", "ACTOR")]},
            {"id": 3, "was_cancelled": True, "result": [_region("c", 0, 5, "Japan", "ACTOR")]},
        ],
        "predictions": [{"result": [_region("p", 0, 5, "India", "ACTOR", score=0.5)]}],
    }
    read = read_task_annotations(task, 4, "export.json")
    assert (read.doc_id, read.task_id, read.predictions, read.prediction_error) == ("d1", 7, 1, None)
    assert [(d.meta["annotation_id"], [e.key for e in d.entities]) for d in read.documents] == [(1, [(0, 5, "ACTOR")])]
    assert read.broken == [
        (
            2,
            4,
            "export.json: task 7 (d1), annotation 2, region b: offsets [0:5] select 'India' but the region says "
            "'China' (fix: the task text changed after annotation, or the offsets are wrong; fix the region in "
            "Label Studio)",
        )
    ]
    no_text = read_task_annotations({"annotations": [{"id": 9, "result": []}]}, 4, "export.json")
    assert (no_text.doc_id, no_text.documents) == ("task-4", [])
    assert no_text.broken == [
        (
            9,
            None,
            "export.json: task 4 (task-4): task has no 'data' object (fix: export tasks as JSON from Label Studio)",
        )
    ]
    assert read_export([{**task, "annotations": task["annotations"][:1]}], name="x.json").sources == {
        "d1": "x.json: task 7 (d1)"
    }
