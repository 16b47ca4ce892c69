"""Property tests: random texts with random non-overlapping spans and relations survive every conversion."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tradeie.corpus import document_tokens, segment
from tradeie.document import Document, Relation, make_entity
from tradeie.schema import ENTITY_LABELS, RELATION_LABELS, allowed_relation
from tradeie.text.tokens import bio_tags, spans_from_bio

#: Words with emoji, combining marks, non-BMP letters, abbreviation compounds, digits and percent signs.
WORDS = [
    "India",
    "U.S.-India",
    "U.K.-India",
    "E.U.-led",
    "US-India",
    "tariff",
    "18%",
    "deal",
    "Café",
    "Cafe\u0301",
    "na\u0308ive",
    "😀",
    "👍🏽",
    "🇮🇳",
    "𝔘𝔖",
    "São",
    "Zürich",
    "trade",
    "agreement",
    "(Reuters)",
    "minister's",
    "Washington",
    "crit-ical",
    "2026",
]
SEPARATORS = [" ", " ", " ", "\u00a0", "  "]
LINE_BREAKS = ["\r\n", "\n", "\n\n", "\r\n\r\n"]


@st.composite
def documents(draw) -> Document:
    """A text of 1-3 lines of random words; entities are runs of whole words inside one line."""
    text, runs = "", []  # runs: (start, end) of each word, grouped per line
    for line_no in range(draw(st.integers(1, 3))):
        if line_no:
            text += draw(st.sampled_from(LINE_BREAKS))
        words = draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=8))
        line = []
        for k, word in enumerate(words):
            if k:
                text += draw(st.sampled_from(SEPARATORS))
            line.append((len(text), len(text) + len(word)))
            text += word
        runs.append(line)
    entities, n = [], 0
    for line in runs:
        k = 0
        while k < len(line):
            if draw(st.booleans()):
                length = draw(st.integers(1, min(3, len(line) - k)))
                n += 1
                label = draw(st.sampled_from(ENTITY_LABELS))
                entities.append(make_entity(text, line[k][0], line[k + length - 1][1], label, f"T{n}"))
                k += length
            else:
                k += 1
    pairs = [
        (h, t, label)
        for h in entities
        for t in entities
        for label in RELATION_LABELS
        if h.id != t.id and allowed_relation(label, h.label, t.label)
    ]
    chosen = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=4)) if pairs else []
    relations = tuple(Relation(h.id, t.id, label) for h, t, label in chosen)
    meta = {"sentences": [list(s) for s in segment(text)]}
    return Document(id="doc", text=text, entities=tuple(entities), relations=relations, meta=meta)


PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _keys(doc: Document) -> tuple:
    index = doc.entity_index()
    return (
        doc.text,
        sorted(e.key for e in doc.entities),
        sorted((index[r.head].key, index[r.tail].key, r.label) for r in doc.relations),
    )


@PROPERTY
@given(documents())
def test_label_studio_export_then_import(doc):
    from tradeie.labelstudio.format import read_export, to_tasks

    tasks = json.loads(json.dumps(to_tasks([doc]), ensure_ascii=False))
    export = read_export(tasks)
    assert export.warnings == []
    [back] = export.documents
    assert _keys(back) == _keys(doc)


@PROPERTY
@given(documents())
def test_documents_to_bio_to_documents(doc):
    tokens = document_tokens(doc)
    spans = [s for sent in tokens for s in spans_from_bio(sent, bio_tags(sent, doc.entities, doc.id))]
    assert sorted(spans) == sorted(e.key for e in doc.entities)
    for sent in tokens:
        for tok in sent:
            assert doc.text[tok.start : tok.end] == tok.text and tok.text.strip() == tok.text


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_documents_to_dataset_rows_to_documents(doc):
    from tradeie.data.dataset import build_dataset, documents_from_dataset

    built = build_dataset([doc], assignment={doc.id: "train"})
    [back] = documents_from_dataset(built["documents"]["train"])
    assert _keys(back) == _keys(doc)
    rows = built["ner"]["train"]
    names = rows.features["ner_tags"].feature.names
    from tradeie.text.tokens import Token

    spans = []
    for row in rows:
        toks = [Token(t, s, e) for t, s, e in zip(row["tokens"], row["token_starts"], row["token_ends"])]
        assert all(doc.text[t.start : t.end] == t.text for t in toks)
        spans += spans_from_bio(toks, [names[i] for i in row["ner_tags"]])
    assert sorted(spans) == sorted(e.key for e in doc.entities)


@pytest.fixture(scope="module")
def random_tagger(tiny_model):
    """A randomly initialised token classifier over the BIO tags: arbitrary but real predictions."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForTokenClassification

    from tradeie.schema import BIO_TAGS
    from tradeie.training.ner import NERSettings, NERTagger

    torch.manual_seed(3)
    config = BertConfig.from_pretrained(
        tiny_model,
        num_labels=len(BIO_TAGS),
        id2label=dict(enumerate(BIO_TAGS)),
        label2id={t: i for i, t in enumerate(BIO_TAGS)},
    )
    model = BertForTokenClassification(config).eval()
    return NERTagger(model, AutoTokenizer.from_pretrained(tiny_model), NERSettings(max_length=16, stride=4))


def _check_offsets(inputs: Document, predicted: Document) -> None:
    from tradeie.predict import prediction_row

    row = json.loads(json.dumps(prediction_row(predicted), ensure_ascii=False))
    assert row["text"] == inputs.text
    for ent in row["entities"]:
        assert 0 <= ent["start"] < ent["end"] <= len(inputs.text)
        assert inputs.text[ent["start"] : ent["end"]] == ent["text"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_predict_offsets_slice_the_input_to_the_entity_text(random_tagger, doc):
    from tradeie.predict import Pipeline

    plain = Document(id=doc.id, text=doc.text)  # raw input, as `tradeie predict` reads a .txt
    [predicted] = Pipeline(random_tagger).predict_documents([plain])
    _check_offsets(plain, predicted)


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_rules_system_offsets_slice_the_input_to_the_entity_text(doc):
    plain = Document(id=doc.id, text=doc.text)
    [predicted] = _rules().predict([plain])
    _check_offsets(plain, predicted)


_RULES = []


def _rules():
    from tradeie.systems.base import system_class

    if not _RULES:
        _RULES.append(system_class("rules")())
    return _RULES[0]
