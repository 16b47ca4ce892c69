"""Documents JSONL (tradeie.io.jsonl): the one reader and writer, its layouts and its errors."""

from __future__ import annotations

import json

import pytest

from tradeie.document import Document, Entity, Relation
from tradeie.errors import TradeieError
from tradeie.io.jsonl import document_row, documents_jsonl, read_documents, write_documents

TEXT = "India and Japan signed the deal."
DOC = Document(
    "d1",
    TEXT,
    (Entity(0, 5, "ACTOR", "e1", "India", 0.9, referent="india"), Entity(27, 31, "AGREEMENT", "e2", "deal")),
    (Relation("e1", "e2", "party_to"),),
    meta={"sentences": [[0, 32]], "origin": "real-news"},
)


def test_documents_layout_round_trips_annotations_scores_referents_and_meta(tmp_path):
    path = write_documents(tmp_path / "docs.jsonl", [DOC])
    assert json.loads(path.read_text(encoding="utf-8")) == {
        "id": "d1",
        "text": TEXT,
        "entities": [
            {"id": "e1", "start": 0, "end": 5, "label": "ACTOR", "text": "India", "referent": "india", "score": 0.9},
            {"id": "e2", "start": 27, "end": 31, "label": "AGREEMENT", "text": "deal"},
        ],
        "relations": [{"head": "e1", "tail": "e2", "label": "party_to"}],
        "meta": {"sentences": [[0, 32]], "origin": "real-news"},
    }
    (back,) = read_documents(path)
    assert back == DOC and back.meta == DOC.meta
    assert [(e.id, e.text, e.score, e.referent) for e in back.entities] == [
        ("e1", "India", 0.9, "india"),
        ("e2", "deal", None, ""),
    ]
    assert [p.name for p in tmp_path.iterdir()] == ["docs.jsonl"]  # written atomically: no temp file left


def test_predictions_layout_has_every_score_and_no_meta():
    row = document_row(DOC, "predictions")
    assert list(row) == ["id", "text", "entities", "relations"]
    assert [e["score"] for e in row["entities"]] == [0.9, None]
    assert row["relations"] == [{"head": "e1", "tail": "e2", "label": "party_to", "score": None}]
    assert documents_jsonl([DOC], "predictions") == json.dumps(row, ensure_ascii=False) + "\n"


def test_corpus_layout_is_flat_and_reads_back_into_meta(tmp_path):
    plain = DOC.with_annotations((), ())
    path = write_documents(tmp_path / "corpus.jsonl", [plain], "corpus")
    assert path.read_text(encoding="utf-8") == (
        '{"id": "d1", "text": "India and Japan signed the deal.", "sentences": [[0, 32]], "origin": "real-news"}\n'
    )
    (back,) = read_documents(path)
    assert (back.id, back.text, back.entities, back.meta) == ("d1", TEXT, (), DOC.meta)
    with pytest.raises(ValueError, match="unknown Documents JSONL layout 'csv'"):
        document_row(DOC, "csv")


@pytest.mark.parametrize(
    "lines, message",
    [
        (
            ['{"id": "a", "text": "x"}', "", '{"id": "b", "text": '],
            "{path}:3: invalid JSON (Expecting value at column 21)",
        ),
        (['["a"]'], "{path}:1: expected an object with a 'text' string"),
        (['{"id": "a"}'], "{path}:1: expected an object with a 'text' string"),
        (['{"text": "x"}'], "{path}:1: the row has no 'id' (fix: give every row its document id)"),
        (['{"id": "a", "text": "x", "entities": {}}'], "{path}:1: 'entities' must be a list of objects"),
        (['{"id": "a", "text": "x", "meta": 3}'], "{path}:1: 'meta' must be an object, got 3"),
        (
            ['{"id": "a", "text": "x", "entities": [{"start": 0, "label": "ACTOR"}]}'],
            "{path}:1: malformed entity or relation (missing 'end') "
            "(fix: entities need start, end, label; relations need head, tail, label)",
        ),
    ],
)
def test_a_bad_row_names_file_and_line(tmp_path, lines, message):
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(TradeieError) as info:
        read_documents(path)
    assert str(info.value).startswith(message.format(path=path))


def test_missing_ids_bom_and_bad_utf8(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"text": "x"}\n\n{"text": "y", "id": 7}\n')
    assert [d.id for d in read_documents(path, id_prefix="in")] == ["in-1", "7"]
    path.write_bytes(b'{"id": "a", "text": "caf\xe9"}\n')
    with pytest.raises(TradeieError) as info:
        read_documents(path)
    assert str(info.value) == (
        f"{path}:1: not valid UTF-8 at byte offset 24 of the line (fix: re-save the file as UTF-8)"
    )
    with pytest.raises(TradeieError, match="file not found"):
        read_documents(tmp_path / "nope.jsonl")
