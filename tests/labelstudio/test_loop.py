"""End to end with a real Label Studio: push with predictions -> annotate via the API -> pull -> merged gold."""

from __future__ import annotations

import json
import re

import pytest

from tradeie.cli import main
from tradeie.document import Document, Relation, make_entity

pytestmark = pytest.mark.labelstudio

D000, D001, D002, D003 = (
    "000_d9c588e8c1f3d674",
    "001_d86403ddc6a3495e",
    "002_787f9cf3393ad467",
    "003_e3ef4ffb2eb5a43a",
)


# ----------------------------------------------------------------- predictions source
# A DETERMINISTIC RULE-BASED PREDICTOR standing in for a model (no trained model is
# needed to exercise pre-annotation): a gazetteer of the gold surface forms, matched
# longest-first on word boundaries, score 0.5; each AGREEMENT is linked to the
# nearest ACTOR before it in the same sentence by party_to, score 0.25.


def rule_based_predictions(docs: list[Document], gold: list[Document]) -> list[dict]:
    gazetteer = {}
    for doc in gold:
        for ent in doc.entities:
            gazetteer.setdefault(doc.text[ent.start : ent.end], ent.label)
    rows = []
    for doc in docs:
        taken: list[tuple[int, int]] = []
        entities = []
        for surface in sorted(gazetteer, key=len, reverse=True):
            for m in re.finditer(rf"(?<!\w){re.escape(surface)}(?!\w)", doc.text):
                if not any(m.start() < e and s < m.end() for s, e in taken):
                    taken.append(m.span())
                    entities.append((m.start(), m.end(), gazetteer[surface]))
        ents = [
            make_entity(doc.text, s, e, label, f"p{i}", score=0.5)
            for i, (s, e, label) in enumerate(sorted(entities), 1)
        ]
        relations = []
        for agreement in (e for e in ents if e.label == "AGREEMENT"):
            sentence = next(((s, e) for s, e in doc.meta["sentences"] if s <= agreement.start < e), None)
            actors = [
                a
                for a in ents
                if a.label == "ACTOR" and a.end <= agreement.start and sentence and a.start >= sentence[0]
            ]
            if actors:
                relations.append(Relation(actors[-1].id, agreement.id, "party_to", score=0.25))
        rows.append(Document(doc.id, doc.text, tuple(ents), tuple(relations)).to_dict())
    return rows


# ----------------------------------------------------------------- an annotator's results


def region(rid, text, start, end, label):
    return {
        "id": rid,
        "from_name": "label",
        "to_name": "text",
        "type": "labels",
        "value": {"start": start, "end": end, "text": text[start:end], "labels": [label]},
    }


def relation(head, tail, label):
    return {"from_id": head, "to_id": tail, "type": "relation", "direction": "right", "labels": [label]}


def result_of(doc: Document, drop: set[str] = frozenset()) -> list[dict]:
    """What an annotator who reproduces ``doc`` (minus entities ``drop``) submits."""
    regions = [region(e.id, doc.text, e.start, e.end, e.label) for e in doc.entities if e.id not in drop]
    return regions + [
        relation(r.head, r.tail, r.label) for r in doc.relations if r.head not in drop and r.tail not in drop
    ]


def content(doc: Document):
    return {e.key for e in doc.entities}, doc.relation_keys()


def test_push_annotate_pull_merge(ls_env, ls_admin, second_annotator, workspace, tiny_run, tmp_path, capsys):
    from tradeie.annotations.gold import load_gold, validate
    from tradeie.corpus import load_corpus
    from tradeie.data.dataset import build_dataset

    corpus_path, gold_dir, NEW_DOC_ID = workspace["corpus"], workspace["gold"], workspace["new_doc_id"]
    gold_before = {d.id: d for d in load_gold(gold_dir, corpus_path)}
    files_before = {p.name: p.read_bytes() for p in gold_dir.glob("*.json")}
    assert set(gold_before) == {D000, D001, D002, D003}

    # --- push with pre-annotations from a tiny model
    title = "tradeie e2e"
    assert main(["ls", "push", "--project", title, "--corpus", str(corpus_path), "--predictions", str(tiny_run)]) == 0
    out = capsys.readouterr().out
    assert "created project 'tradeie e2e'" in out and "imported 5 documents, 5 with pre-annotations" in out
    assert main(["ls", "push", "--project", title, "--corpus", str(corpus_path)]) == 0
    assert "imported 0 documents; 5 already present were skipped" in capsys.readouterr().out

    project = next(p for p in ls_admin.projects.list() if p.title == title)
    tasks = {t.data["doc_id"]: t for t in ls_admin.tasks.list(project=project.id, fields="all")}
    assert set(tasks) == {D000, D001, D002, D003, NEW_DOC_ID}
    assert tasks[D000].data["text_sha256"] == workspace["docs"][D000].text_sha256
    for task in tasks.values():
        (prediction,) = task.predictions
        pred = prediction if isinstance(prediction, dict) else prediction.model_dump()
        assert pred["model_version"] == "tiny-run" and pred["result"]
        assert all(r["type"] == "labels" and 0 < r["score"] <= 1 for r in pred["result"])

    # --- annotate through the API, as annotators do
    g1, g3 = gold_before[D001], gold_before[D003]
    # 000: the annotator confirms the gold exactly -> unchanged
    ls_admin.annotations.create(tasks[D000].id, result=result_of(gold_before[D000]))
    # 001: one entity (and its relations) removed, one new relation drawn -> replaced after a backup
    removed = next(e for e in reversed(g1.entities) if any(e.id in (r.head, r.tail) for r in g1.relations))
    actors = [e for e in g1.entities if e.label == "ACTOR" and e.id != removed.id]
    agreements = [e for e in g1.entities if e.label == "AGREEMENT" and e.id != removed.id]
    linked = {(r.head, r.tail) for r in g1.relations if r.label == "party_to"}
    head, tail = next((a, g) for a in actors for g in agreements if (a.id, g.id) not in linked)
    ls_admin.annotations.create(
        tasks[D001].id, result=result_of(g1, drop={removed.id}) + [relation(head.id, tail.id, "party_to")]
    )
    # 002: a deliberately wrong label (not in the schema) -> reported, not merged
    g2 = gold_before[D002]
    bad = result_of(g2)
    bad[0]["value"]["labels"] = ["COUNTRY"]
    ls_admin.annotations.create(tasks[D002].id, result=bad)
    # 003: two annotators disagree -> conflict with agreement figures, left for adjudication
    first = ls_admin.annotations.create(tasks[D003].id, result=result_of(g3))
    dropped = {e.id for e in g3.entities[-2:]}
    ls_admin.annotations.create(tasks[D003].id, result=result_of(g3, drop=dropped), completed_by=second_annotator)
    # new document: spans and two relations, not in the gold yet -> added
    new = workspace["docs"][workspace["new_doc_id"]]
    t = new.text
    spans = {
        "japan": (t.index("Japan"), "ACTOR"),
        "australia": (t.index("Australia"), "ACTOR"),
        "deal": (t.index("critical minerals agreement"), "AGREEMENT"),
        "japan2": (t.index("Japan", 10), "ACTOR"),
        "tariff": (t.index("10% tariff"), "TARIFF"),
    }
    lengths = {"japan": 5, "australia": 9, "deal": 27, "japan2": 5, "tariff": 10}
    ls_admin.annotations.create(
        tasks[NEW_DOC_ID].id,
        result=[region(k, t, s, s + lengths[k], label) for k, (s, label) in spans.items()]
        + [
            relation("japan", "deal", "party_to"),
            relation("australia", "deal", "party_to"),
            relation("japan2", "tariff", "imposes"),
        ],
    )

    # --- pull and merge
    report_path = tmp_path / "report.json"
    assert (
        main(
            [
                "ls",
                "pull",
                "--project",
                title,
                "--gold",
                str(gold_dir),
                "--corpus",
                str(corpus_path),
                "--report",
                str(report_path),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    report = json.loads(report_path.read_text())
    assert [c["doc_id"] for c in report["added"]] == [NEW_DOC_ID]
    assert [c["doc_id"] for c in report["replaced"]] == [D001]
    assert report["unchanged"] == [D000]
    assert report["predictions"] == {d: 1 for d in (D000, D001, D002, D003, NEW_DOC_ID)}
    # the wrong label is reported, naming the document, region and label
    assert [(i["doc_id"], i["annotator"]) for i in report["invalid"]] == [(D002, "admin@example.com")]
    assert "unknown entity label 'COUNTRY'" in report["invalid"][0]["errors"][0]
    assert "invalid (not merged) 002_787f9cf3393ad467" in out and "COUNTRY" in out
    # the conflict is reported with agreement figures and kept for adjudication
    (conflict,) = report["conflicts"]
    assert conflict["doc_id"] == D003 and set(conflict["annotators"]) == {
        "admin@example.com",
        "second.annotator@example.com",
    }
    figures = conflict["agreement"][0]
    assert 0 < figures["span_f1"] < 1 and figures["token_kappa"] is not None
    assert len(conflict["disagreements"]) >= 2
    saved = json.loads((gold_dir.parent / "conflicts" / f"{D003}.json").read_text())
    assert len(saved["versions"]) == 2 and saved["agreement"] == conflict["agreement"]
    assert f"conflict (left for adjudication) {D003}" in out and "span F1" in out

    # the backup holds the replaced gold file byte for byte
    backup = gold_dir.parent / "backups"
    (stamp,) = list(backup.iterdir())
    assert report["backup_dir"] == str(stamp)
    assert (stamp / f"{D001}.json").read_bytes() == files_before[f"{D001}.json"]
    assert json.loads((stamp / "MANIFEST.json").read_text())["files"] == {f"{D001}.json": [D001]}
    # untouched gold files are byte-identical
    for name in (f"{D000}.json", f"{D002}.json", f"{D003}.json"):
        assert (gold_dir / name).read_bytes() == files_before[name]

    # the merged gold equals the expected documents
    merged = {d.id: d for d in load_gold(gold_dir, corpus_path)}
    expected_001 = g1.with_annotations(
        [e for e in g1.entities if e.id != removed.id],
        [r for r in g1.relations if removed.id not in (r.head, r.tail)] + [Relation(head.id, tail.id, "party_to")],
    )
    expected_new = Document(
        NEW_DOC_ID,
        t,
        tuple(make_entity(t, s, s + lengths[k], label, k) for k, (s, label) in spans.items()),
        (
            Relation("japan", "deal", "party_to"),
            Relation("australia", "deal", "party_to"),
            Relation("japan2", "tariff", "imposes"),
        ),
    )
    expected = {D000: gold_before[D000], D001: expected_001, D002: g2, D003: g3, NEW_DOC_ID: expected_new}
    assert set(merged) == set(expected)
    for doc_id, doc in expected.items():
        assert content(merged[doc_id]) == content(doc), doc_id
    assert merged[D001].meta["annotation_choice"].startswith("ground-truth")

    # the result validates and the dataset build accepts it
    assert validate(list(merged.values()), load_corpus(corpus_path)).errors == []
    dsets = build_dataset(list(merged.values()))
    assert sum(len(ds) for ds in dsets["documents"].values()) == 5
    assert sum(len(ds) for ds in dsets["ner"].values()) > 0

    # --- adjudicate in Label Studio (mark one annotation ground truth) and pull again: idempotent
    ls_admin.annotations.update(first.id, ground_truth=True)
    assert (
        main(
            [
                "ls",
                "pull",
                "--project",
                title,
                "--gold",
                str(gold_dir),
                "--corpus",
                str(corpus_path),
                "--report",
                str(report_path),
            ]
        )
        == 0
    )
    capsys.readouterr()
    again = json.loads(report_path.read_text())
    assert again["conflicts"] == [] and again["added"] == [] and again["replaced"] == []
    assert sorted(again["unchanged"]) == sorted([D000, D001, D003, NEW_DOC_ID])
    assert any("ground-truth annotation" in n and D003 in n for n in again["notes"])
    assert not (gold_dir.parent / "conflicts" / f"{D003}.json").exists()
    assert len(list(backup.iterdir())) == 1  # nothing replaced, no new backup


def test_push_prediction_file_with_relations_and_pull_keeps_them_apart(ls_env, workspace, tmp_path, capsys):
    from tradeie.annotations.gold import load_gold
    from tradeie.corpus import load_corpus
    from tradeie.labelstudio.format import read_export
    from tradeie.labelstudio.client import connect, export_project, require_project

    corpus_path = workspace["corpus"]
    corpus = load_corpus(corpus_path)
    rows = rule_based_predictions(corpus, load_gold(workspace["gold"], corpus_path))
    preds = tmp_path / "rules.jsonl"
    preds.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert (
        main(
            [
                "ls",
                "push",
                D000,
                D003,
                "--project",
                "rules",
                "--corpus",
                str(corpus_path),
                "--predictions",
                str(preds),
                "--model-version",
                "rules-v1",
            ]
        )
        == 0
    )
    assert "imported 2 documents, 2 with pre-annotations from rules-v1" in capsys.readouterr().out

    conn = connect()
    export = read_export(export_project(conn, require_project(conn, "rules").id))
    assert all(d.entities == () for d in export.documents)  # nothing annotated: predictions are kept apart
    expected = {r["id"]: Document.from_dict(r) for r in rows}
    for doc_id in (D000, D003):
        (pred,) = export.predictions[doc_id]
        assert pred.meta["model_version"] == "rules-v1"
        assert content(pred) == content(expected[doc_id]) and pred.relations
        assert {e.score for e in pred.entities} == {0.5} and {r.score for r in pred.relations} == {0.25}
    assert (
        main(
            [
                "ls",
                "pull",
                "--project",
                "rules",
                "--gold",
                str(workspace["gold"]),
                "--corpus",
                str(corpus_path),
                "--dry-run",
            ]
        )
        == 0
    )
    assert "2 documents not annotated yet, 2 predictions kept apart" in capsys.readouterr().out
