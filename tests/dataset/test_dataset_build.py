"""build_dataset: rows, features, BIO round trip, span errors, determinism."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import pytest

from tradeie.corpus import sentences_of
from tradeie.data.dataset import (
    CONFIG_NAMES,
    build_dataset,
    ner_rows,
    check_document,
    content_fingerprint,
    documents_from_dataset,
    split_assignment,
    write_hub_folder,
)
from tradeie.document import Document, Relation, make_entity
from tradeie.errors import TradeieError
from tradeie.data.relcands import DEFAULT_WINDOW, candidate_pairs, gold_relations_outside_window, marked_text
from tradeie.schema import BIO_TAGS, ENTITY_LABELS, RELATION_CLASSES, RELATION_LABELS
from tradeie.data.splits import SPLIT_NAMES
from tradeie.text.tokens import Token, bio_tags, spans_from_bio


def _by_id(docs):
    return {d.id: d for d in docs}


def test_three_configs_with_all_splits(built, docs5):
    assert set(built) == set(CONFIG_NAMES)
    for config in CONFIG_NAMES:
        assert list(built[config]) == list(SPLIT_NAMES), config
    assignment = split_assignment(built)
    assert set(assignment) == {d.id for d in docs5}
    for split, ds in built["ner"].items():
        assert set(ds["document_name"]) == {d for d, s in assignment.items() if s == split}
    # document_id: the integer position of the document in id order over all splits
    index = {doc_id: i for i, doc_id in enumerate(sorted(d.id for d in docs5))}
    for ds in built["ner"].values():
        for row in ds:
            assert row["document_id"] == index[row["document_name"]]


def test_ner_rows_cover_every_sentence_in_order(built, docs5):
    docs = _by_id(docs5)
    rows = [r for ds in built["ner"].values() for r in ds]
    for doc in docs5:
        mine = [r for r in rows if r["document_name"] == doc.id]
        assert [r["sentence_id"] for r in mine] == list(range(len(sentences_of(doc))))
        for row, (s, e) in zip(mine, sentences_of(doc)):
            assert row["token_starts"][0] == s and row["token_ends"][-1] == e
    for row in rows:
        text = docs[row["document_name"]].text
        assert [text[s:e] for s, e in zip(row["token_starts"], row["token_ends"])] == row["tokens"]
        assert len(row["tokens"]) == len(row["ner_tags"]) > 0
        assert row["id"] == f"{row['document_name']}-{row['sentence_id']:04d}"


def test_ner_features_use_exact_bio_order(built):
    features = built["ner"]["train"].features
    assert list(features) == [
        "id",
        "document_id",
        "document_name",
        "sentence_id",
        "tokens",
        "ner_tags",
        "token_starts",
        "token_ends",
    ]
    assert features["document_id"].dtype == "int32"
    assert features["ner_tags"].feature.names == [
        "O",
        "B-ACTOR",
        "I-ACTOR",
        "B-AGREEMENT",
        "I-AGREEMENT",
        "B-TARIFF",
        "I-TARIFF",
    ]
    assert tuple(features["ner_tags"].feature.names) == BIO_TAGS
    assert features["tokens"].feature.dtype == "string"


def test_bio_round_trip(built, docs5):
    """tokens + tags -> spans equals the gold spans, and spans -> tags gives the same tags."""
    names = built["ner"]["train"].features["ner_tags"].feature.names
    spans_by_doc: dict[str, list] = {}
    for ds in built["ner"].values():
        for row in ds:
            tokens = [Token(t, s, e) for t, s, e in zip(row["tokens"], row["token_starts"], row["token_ends"])]
            tags = [names[i] for i in row["ner_tags"]]
            spans = spans_from_bio(tokens, tags)
            spans_by_doc.setdefault(row["document_name"], []).extend(spans)
            entities = [make_entity("", s, e, label) for s, e, label in spans]
            assert bio_tags(tokens, entities, row["document_name"]) == tags
    for doc in docs5:
        assert sorted(spans_by_doc[doc.id]) == sorted(e.key for e in doc.entities)
        assert doc.entities, "the synthetic documents must have entities"


def test_documents_config_round_trips_to_documents(built, docs5):
    back = _by_id(documents_from_dataset(built["documents"]))
    assignment = split_assignment(built)
    for doc in docs5:
        got = back[doc.id]
        assert (got.id, got.text) == (doc.id, doc.text)
        assert sorted(got.entities) == sorted(doc.entities)  # entities come back sorted by offset
        assert set(got.relations) == set(doc.relations) and len(got.relations) == len(doc.relations)
        assert [(e.id, e.text) for e in got.entities] == [
            (e.id, e.text) for e in sorted(doc.entities, key=lambda e: (e.start, e.end))
        ]
        assert got.relation_keys() == doc.relation_keys()
        assert got.meta["split"] == assignment[doc.id]
        assert got.meta["near_duplicate_group"] == doc.meta.get("near_duplicate_group", doc.id)
        assert [tuple(s) for s in got.meta["sentences"]] == sentences_of(doc)
        for key in ("date", "source", "sha256", "file"):
            assert got.meta[key] == doc.meta.get(key)
        assert got.meta["similar"] == doc.meta.get("similar", {})
    # the rebuilt documents build the same dataset
    assert content_fingerprint(build_dataset(list(back.values()))) == content_fingerprint(built)


def test_documents_features(built):
    f = built["documents"]["train"].features
    assert f["entities"].feature["label"].names == list(ENTITY_LABELS)
    assert f["relations"].feature["label"].names == list(RELATION_LABELS)
    for key in ("date", "source", "sha256", "near_duplicate_group", "text_sha256"):
        assert key in f


def test_relation_rows_are_the_candidate_pairs(built, docs5):
    names = built["relations"]["train"].features["label"].names
    assert names == list(RELATION_CLASSES) and names[0] == "no_relation"
    rows = [r for ds in built["relations"].values() for r in ds]
    for doc in docs5:
        cands = candidate_pairs(doc, DEFAULT_WINDOW)
        mine = [r for r in rows if r["document_id"] == doc.id]
        assert len(mine) == len(cands)
        for row, cand in zip(mine, cands):
            assert row["text"] == marked_text(doc.text, cand)
            assert row["context"] == doc.text[row["context_start"] : row["context_end"]]
            assert names[row["label"]] == cand.label
            assert (row["head"]["start"], row["head"]["end"]) == (cand.head.start, cand.head.end)
            assert row["head"]["text"] == doc.text[cand.head.start : cand.head.end]
            assert row["tail"]["text"] == doc.text[cand.tail.start : cand.tail.end]
            assert f"[H:{cand.head.label}] {cand.head.text} [/H]" in row["text"]
        positives = sum(1 for r in mine if names[r["label"]] != "no_relation")
        assert positives == len(doc.relation_keys()) - len(gold_relations_outside_window(doc, DEFAULT_WINDOW))
    assert any(names[r["label"]] == "no_relation" for r in rows)
    assert {names[r["label"]] for r in rows} >= {"party_to", "imposes", "targets"}


def test_span_inside_a_token_splits_the_token_and_round_trips(docs):
    doc = docs[0]
    start = doc.text.index("India")
    partial = doc.with_annotations([make_entity(doc.text, start, start + 4, "ACTOR", "x")], [])
    rows = [r for r in ner_rows(partial) if start in r["token_starts"]]
    assert len(rows) == 1
    k = rows[0]["token_starts"].index(start)
    assert rows[0]["tokens"][k : k + 2] == ["Indi", "a"]
    assert rows[0]["token_ends"][k] == start + 4
    assert BIO_TAGS[rows[0]["ner_tags"][k]] == "B-ACTOR" and BIO_TAGS[rows[0]["ner_tags"][k + 1]] == "O"


def test_abbreviation_compound_gives_each_party_its_own_token():
    text = "The U.S.-India deal and the E.U.-led talks."
    doc = Document(
        id="d",
        text=text,
        entities=(
            make_entity(text, 4, 8, "ACTOR", "a"),
            make_entity(text, 9, 14, "ACTOR", "b"),
            make_entity(text, 28, 32, "ACTOR", "c"),
        ),
    )
    (row,) = ner_rows(doc)
    assert row["tokens"][:5] == ["The", "U.S.", "-", "India", "deal"]
    assert [BIO_TAGS[t] for t in row["ner_tags"][:5]] == ["O", "B-ACTOR", "O", "B-ACTOR", "O"]
    assert row["tokens"][7:10] == ["E.U.", "-", "led"]


@pytest.mark.parametrize(
    "case, expected",
    [
        ("cross_sentence", "crosses the sentence boundary"),
        ("overlap", "overlaps"),
        ("stale_text", "stale"),
        ("bad_label", "unknown label"),
        ("bad_signature", "not allowed by the schema"),
        ("dangling_relation", "unknown entity id"),
    ],
)
def test_annotation_errors_are_reported_not_dropped(case, expected):
    text = "India signed a deal. The US imposed tariffs."
    india = make_entity(text, 0, 5, "ACTOR", "a")
    deal = make_entity(text, 15, 19, "AGREEMENT", "b")
    ents, rels = [india, deal], []
    if case == "cross_sentence":
        ents = [india, make_entity(text, 15, 27, "AGREEMENT", "c")]
    elif case == "overlap":
        ents = [india, deal, make_entity(text, 13, 19, "AGREEMENT", "c")]
    elif case == "stale_text":
        ents = [india, replace(deal, text="pact")]
    elif case == "bad_label":
        ents = [india, make_entity(text, 15, 19, "TREATY", "b")]
    elif case == "bad_signature":
        rels = [Relation("b", "a", "party_to")]
    elif case == "dangling_relation":
        rels = [Relation("a", "zz", "party_to")]
    doc = Document(id="doc-err", text=text, entities=tuple(ents), relations=tuple(rels))
    with pytest.raises(TradeieError, match=expected) as err:
        check_document(doc)
    assert "doc-err" in str(err.value)
    with pytest.raises(TradeieError, match=expected):
        build_dataset([doc])


def test_same_inputs_same_rows_and_fingerprints(built, docs5):
    again = build_dataset(list(reversed(docs5)))
    assert content_fingerprint(again) == content_fingerprint(built)
    for config in CONFIG_NAMES:
        for split in built[config]:
            assert again[config][split].to_list() == built[config][split].to_list()
            assert again[config][split]._fingerprint == built[config][split]._fingerprint
    other_seed = build_dataset(docs5, seed=99)
    if split_assignment(other_seed) != split_assignment(built):
        assert content_fingerprint(other_seed) != content_fingerprint(built)
    changed = [docs5[0].with_annotations(docs5[0].entities[1:], []), *docs5[1:]]
    changed_built = build_dataset(changed)
    assert changed_built["ner"]["train"]._fingerprint != built["ner"]["train"]._fingerprint
    assert content_fingerprint(changed_built) != content_fingerprint(built)


def test_worker_processes_give_the_same_rows_and_fingerprints(built, docs5, monkeypatch):
    from tradeie.data import dataset as dataset_module

    monkeypatch.setattr(dataset_module, "CHUNK_DOCUMENTS", 2)  # three chunks: the workers do run
    monkeypatch.setattr(dataset_module, "BATCH_ROWS", 3)  # windows and file batches across chunks
    monkeypatch.setattr(dataset_module, "FILE_BATCH_ROWS", 6)
    parallel = build_dataset(docs5, num_proc=2)
    monkeypatch.setattr(dataset_module, "CHUNK_DOCUMENTS", 64)
    assert content_fingerprint(build_dataset(docs5)) == content_fingerprint(parallel)  # one process, one chunk
    monkeypatch.setattr(dataset_module, "BATCH_ROWS", 1000)
    monkeypatch.setattr(dataset_module, "FILE_BATCH_ROWS", 10000)
    parallel = build_dataset(docs5, num_proc=2)
    assert content_fingerprint(parallel) == content_fingerprint(built)
    for config in CONFIG_NAMES:
        for split in built[config]:
            assert parallel[config][split]._fingerprint == built[config][split]._fingerprint


def test_bounded_imap_keeps_the_order_across_windows():
    import multiprocessing

    from tradeie.data.dataset import _bounded_imap

    with multiprocessing.get_context("fork").Pool(2) as pool:
        assert list(_bounded_imap(pool, abs, range(-50, 0), chunksize=3, window=7)) == list(range(50, 0, -1))
        assert list(_bounded_imap(pool, abs, [], chunksize=3, window=7)) == []


def test_rebuilt_folder_is_byte_identical(tmp_path, docs5, tiny_tokenizer):
    def digest(folder):
        return {
            p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*"))
            if p.is_file()
        }

    first, second = tmp_path / "a", tmp_path / "b"
    write_hub_folder(build_dataset(docs5), docs5, first, tokenizer=tiny_tokenizer, guidelines=None)
    write_hub_folder(build_dataset(list(reversed(docs5))), docs5, second, tokenizer=tiny_tokenizer, guidelines=None)
    assert digest(first) == digest(second)
    assert len(digest(first)) == 3 * 3 + 3  # 9 parquet files, README.md, stats.json, the output marker


def test_split_without_rows_is_left_out(docs):
    # Only ACTOR mentions in a single-group validation/test: no relation candidates there.
    actors_only = [d.with_annotations([e for e in d.entities if e.label == "ACTOR"], []) for d in docs]
    out = build_dataset(actors_only)
    assert list(out["ner"]) == list(SPLIT_NAMES)
    assert len(out["relations"]) == 0


def test_empty_input_and_bad_window_are_errors(docs):
    with pytest.raises(TradeieError, match="no documents"):
        build_dataset([])
    with pytest.raises(TradeieError, match="window"):
        build_dataset(docs, window=-1)
    with pytest.raises(TradeieError, match="appears twice"):
        build_dataset([docs[0], docs[0]])


def test_wider_window_adds_cross_sentence_candidates(docs5):
    narrow, wide = build_dataset(docs5, window=0), build_dataset(docs5, window=1)
    n = sum(len(ds) for ds in narrow["relations"].values())
    w = sum(len(ds) for ds in wide["relations"].values())
    assert w > n
    assert max(max(ds["sentence_distance"]) for ds in wide["relations"].values()) == 1


def test_documents_from_one_split_and_from_the_wrong_config(built):
    test_docs = documents_from_dataset(built["documents"]["test"])
    assert [d.id for d in test_docs] == list(built["documents"]["test"]["id"])
    assert all("split" not in d.meta for d in test_docs)
    with pytest.raises(TradeieError, match="not the documents config"):
        documents_from_dataset(built["ner"])


def test_document_summary_keeps_what_the_splits_and_card_read(docs5):
    from tradeie.data.dataset import _DocSummary
    from tradeie.data.splits import doc_labels, group_of

    for doc in docs5:
        full, slim = _DocSummary(doc), _DocSummary(doc, full=False)
        for summary in (full, slim):
            assert summary.id == doc.id and group_of(summary) == group_of(doc)
            assert doc_labels(summary) == doc_labels(doc)
            assert sorted(x.label for x in summary.entities) == sorted(e.label for e in doc.entities)
            assert len(summary.relations) == len(doc.relations)
            assert summary.meta["origin"] == doc.meta.get("origin") and summary.meta["date"] == doc.meta.get("date")
        assert {k: full.meta[k] for k in ("source", "file", "sha256")} == {
            k: doc.meta.get(k) for k in ("source", "file", "sha256")
        }
        assert slim.meta["sha256"] is None  # beyond the card's document table: not kept


def test_a_pool_that_cannot_start_leaves_no_build_state(docs5, monkeypatch):
    import multiprocessing

    from tradeie.data import dataset as dataset_module

    class NoFork:
        def Pool(self, *args, **kwargs):  # noqa: N802 (multiprocessing's name)
            raise OSError("fork failed")

    monkeypatch.setattr(dataset_module, "CHUNK_DOCUMENTS", 2)
    monkeypatch.setattr(multiprocessing, "get_context", lambda method: NoFork())
    with pytest.raises(OSError, match="fork failed"):
        build_dataset(docs5, num_proc=8)
    assert dataset_module._ROWS_INPUT is None and dataset_module._VOCAB is None
