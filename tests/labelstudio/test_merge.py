"""The merge of pulled annotations into the gold folder (no server needed: exports built by hand)."""

from __future__ import annotations

import json

import pytest

from tradeie.document import Document, text_sha256
from tradeie.labelstudio.format import read_export
from tradeie.labelstudio.merge import merge_pulled

TEXT = "India and the US signed a trade deal. The US cut its 18% tariff on Indian steel."
OTHER = "China imposed tariffs on Japan."
CORPUS = [Document("d1", TEXT), Document("d2", OTHER)]


def span(rid, text, surface, label, nth=0):
    start = -1
    for _ in range(nth + 1):
        start = text.index(surface, start + 1)
    return {
        "id": rid,
        "from_name": "label",
        "to_name": "text",
        "type": "labels",
        "value": {"start": start, "end": start + len(surface), "text": surface, "labels": [label]},
    }


def rel(head, tail, label):
    return {"from_id": head, "to_id": tail, "type": "relation", "direction": "right", "labels": [label]}


def ann(aid, user, result, updated="2026-01-01T00:00:00Z", **extra):
    return {
        "id": aid,
        "completed_by": user,
        "result": result,
        "was_cancelled": False,
        "ground_truth": False,
        "updated_at": updated,
        **extra,
    }


def task(tid, doc_id, text, annotations, **data):
    return {
        "id": tid,
        "data": {"text": text, "doc_id": doc_id, "text_sha256": text_sha256(text), **data},
        "annotations": annotations,
        "predictions": [],
    }


FULL = [
    span("a", TEXT, "India", "ACTOR"),
    span("b", TEXT, "US", "ACTOR"),
    span("c", TEXT, "trade deal", "AGREEMENT"),
    rel("a", "c", "party_to"),
    rel("b", "c", "party_to"),
]
CHINA = [span("x", OTHER, "China", "ACTOR"), span("y", OTHER, "tariffs", "TARIFF"), rel("x", "y", "imposes")]


def gold_content(gold_dir):
    return {d.id: ({e.key for e in d.entities}, d.relation_keys()) for d in read_export(gold_dir).documents}


def test_new_changed_and_unchanged_with_backup(tmp_path):
    gold = tmp_path / "gold"
    assert merge_pulled([task(1, "d1", TEXT, [ann(1, 1, FULL[:3])])], CORPUS, gold).added[0].doc_id == "d1"
    before = (gold / "d1.json").read_bytes()
    again = merge_pulled([task(1, "d1", TEXT, [ann(1, 1, FULL[:3])])], CORPUS, gold)
    assert again.unchanged == ["d1"] and again.backup_dir is None
    report = merge_pulled(
        [task(1, "d1", TEXT, [ann(1, 1, FULL)]), task(2, "d2", OTHER, [ann(2, 1, CHINA)])],
        CORPUS,
        gold,
        annotator_names={1: "ann@example.com"},
    )
    assert [c.doc_id for c in report.added] == ["d2"]
    (change,) = report.replaced
    assert (change.doc_id, change.annotator, change.relations_added, change.entities_removed) == (
        "d1",
        "ann@example.com",
        2,
        0,
    )
    assert (report.backup_dir / "d1.json").read_bytes() == before
    assert report.backup_dir.parent == tmp_path / "backups"
    assert len(gold_content(gold)["d1"][1]) == 2


def test_every_problem_is_reported_and_nothing_invalid_is_merged(tmp_path):
    gold = tmp_path / "gold"
    overlapping = [span("a", TEXT, "India", "ACTOR"), span("z", TEXT, "Indi", "ACTOR")]
    dangling = FULL[:3] + [rel("a", "zzz", "party_to")]
    shifted = [
        {**span("a", TEXT, "India", "ACTOR"), "value": {"start": 1, "end": 6, "text": "India", "labels": ["ACTOR"]}}
    ]
    wrong_signature = FULL[:3] + [rel("c", "a", "party_to")]
    tasks = [
        task(
            1, "d1", TEXT, [ann(1, 1, overlapping), ann(2, 2, dangling), ann(3, 3, shifted), ann(4, 4, wrong_signature)]
        ),
        task(2, "d2", OTHER, [ann(5, 1, CHINA)], text_sha256="0" * 64),  # pushed from another text
        task(3, "unknown", "Some text nobody put in the corpus.", [ann(6, 1, [])]),
    ]
    report = merge_pulled(tasks, CORPUS, gold)
    errors = {(i.doc_id, i.annotation_id): " ".join(i.errors) for i in report.invalid}
    assert "overlaps entity z [0:4]" in errors[("d1", 1)]
    assert "refers to unknown entity id 'zzz'" in errors[("d1", 2)]
    assert errors[("d1", 3)] == (
        "Label Studio export: task 1 (d1), annotation 3, region a: offsets [1:6] select 'ndia ' but the region "
        "says 'India' (fix: the task text changed after annotation, or the offsets are wrong; fix the region in "
        "Label Studio)"
    )
    assert "is not allowed by the schema" in errors[("d1", 4)]
    assert "does not match the task text" in errors[("d2", 5)]
    assert "not in the corpus" in errors[("unknown", 6)]
    assert report.added == [] and report.replaced == [] and not gold.exists()
    assert report.not_annotated == []


def test_conflict_is_reported_with_agreement_and_kept_then_resolved_by_ground_truth(tmp_path):
    gold = tmp_path / "gold"
    merge_pulled([task(1, "d1", TEXT, [ann(1, 1, FULL[:3])])], CORPUS, gold)
    before = (gold / "d1.json").read_bytes()
    disagreeing = [ann(1, 1, FULL), ann(2, 2, FULL[:2] + [span("c", TEXT, "18% tariff", "TARIFF")])]
    report = merge_pulled([task(1, "d1", TEXT, disagreeing)], CORPUS, gold, annotator_names={1: "A", 2: "B"})
    (conflict,) = report.conflicts
    assert conflict.annotators == ["A", "B"]
    pair = conflict.agreement[0]
    assert pair["span_f1"] == pytest.approx(2 / 3, abs=1e-3) and pair["relation_f1"] == 0.0
    assert any("only A" in d or "only B" in d for d in conflict.disagreements)
    assert any("'trade deal' AGREEMENT: only A" in d for d in conflict.disagreements)
    assert (gold / "d1.json").read_bytes() == before  # left for adjudication
    saved = json.loads(conflict.path.read_text())
    assert [v["annotator"] for v in saved["versions"]] == ["A", "B"]

    disagreeing[0]["ground_truth"] = True
    resolved = merge_pulled([task(1, "d1", TEXT, disagreeing)], CORPUS, gold, annotator_names={1: "A", 2: "B"})
    assert resolved.conflicts == [] and [c.doc_id for c in resolved.replaced] == ["d1"]
    assert any("ground-truth annotation 1 by A used over disagreeing annotations by B" in n for n in resolved.notes)
    assert not conflict.path.exists()


def test_two_ground_truths_that_disagree_stay_a_conflict(tmp_path):
    anns = [ann(1, 1, FULL, ground_truth=True), ann(2, 2, FULL[:3], ground_truth=True)]
    report = merge_pulled([task(1, "d1", TEXT, anns)], CORPUS, tmp_path / "gold")
    assert [c.doc_id for c in report.conflicts] == ["d1"] and report.added == []


def test_latest_annotation_per_annotator_and_no_fallback_to_an_older_one(tmp_path):
    newer_broken = {
        **span("a", TEXT, "India", "ACTOR"),
        "value": {"start": 0, "end": 5, "text": "Indiana", "labels": ["ACTOR"]},
    }
    tasks = [
        task(1, "d1", TEXT, [ann(1, 1, FULL[:1], "2026-01-01T00:00:00Z"), ann(2, 1, FULL, "2026-02-01T00:00:00Z")]),
        task(
            2,
            "d2",
            OTHER,
            [ann(3, 1, CHINA, "2026-01-01T00:00:00Z"), ann(4, 1, [newer_broken], "2026-02-01T00:00:00Z")],
        ),
    ]
    report = merge_pulled(tasks, CORPUS, tmp_path / "gold")
    assert [c.doc_id for c in report.added] == ["d1"]
    assert len(gold_content(tmp_path / "gold")["d1"][1]) == 2  # the later, complete annotation
    assert any("has 2 annotations; using the latest (2)" in n for n in report.notes)
    assert [(i.doc_id, i.annotation_id) for i in report.invalid] == [("d2", 4)]


def test_cancelled_and_unannotated_tasks_and_predictions_kept_apart(tmp_path):
    prediction = {"model_version": "m", "result": [{**span("p", TEXT, "India", "ACTOR"), "score": 0.9}]}
    tasks = [
        task(1, "d1", TEXT, [{**ann(1, 1, FULL), "was_cancelled": True}]),
        {
            **task(2, "d2", OTHER, []),
            "predictions": [prediction | {"result": [{**span("p", OTHER, "China", "ACTOR"), "score": 0.9}]}],
        },
    ]
    report = merge_pulled(tasks, CORPUS, tmp_path / "gold")
    assert sorted(report.not_annotated) == ["d1", "d2"] and report.predictions == {"d2": 1}
    assert report.added == [] and not (tmp_path / "gold").exists()


def test_dry_run_writes_nothing(tmp_path):
    gold = tmp_path / "gold"
    merge_pulled([task(1, "d1", TEXT, [ann(1, 1, FULL[:3])])], CORPUS, gold)
    before = {p.name: p.read_bytes() for p in gold.iterdir()}
    report = merge_pulled(
        [task(1, "d1", TEXT, [ann(1, 1, FULL)]), task(2, "d2", OTHER, [ann(2, 1, CHINA)])], CORPUS, gold, dry_run=True
    )
    assert [c.doc_id for c in report.replaced] == ["d1"] and [c.doc_id for c in report.added] == ["d2"]
    assert {p.name: p.read_bytes() for p in gold.iterdir()} == before
    assert not (tmp_path / "backups").exists() and "dry run: nothing written" in report.lines()[-1]


def test_gold_file_with_several_documents_is_rewritten_whole_after_backup(tmp_path):
    from tradeie.io.atomic import write_json_atomic
    from tradeie.labelstudio.format import to_tasks

    gold = tmp_path / "gold"
    old = read_export([task(1, "d1", TEXT, [ann(1, 1, FULL[:3])]), task(2, "d2", OTHER, [ann(2, 1, CHINA)])])
    write_json_atomic(gold / "all.json", to_tasks(old.documents))
    before = (gold / "all.json").read_bytes()
    report = merge_pulled([task(1, "d1", TEXT, [ann(1, 1, FULL)])], CORPUS, gold)
    assert [c.file.name for c in report.replaced] == ["all.json"]
    assert (report.backup_dir / "all.json").read_bytes() == before
    content = gold_content(gold)
    assert len(content["d1"][1]) == 2 and len(content["d2"][1]) == 1  # d2 kept as it was


def test_a_new_document_never_overwrites_a_gold_file_of_another_document(tmp_path):
    from tradeie.io.atomic import write_json_atomic
    from tradeie.labelstudio.format import to_tasks

    gold = tmp_path / "gold"
    other = read_export([task(2, "d2", OTHER, [ann(2, 1, CHINA)])])
    write_json_atomic(gold / "d1.json", to_tasks(other.documents))  # a file named after d1 that holds d2
    before = (gold / "d1.json").read_bytes()
    report = merge_pulled([task(1, "d1", TEXT, [ann(1, 1, FULL)])], CORPUS, gold)
    assert [c.file.name for c in report.added] == ["d1-2.json"]
    assert (gold / "d1.json").read_bytes() == before and set(gold_content(gold)) == {"d1", "d2"}
