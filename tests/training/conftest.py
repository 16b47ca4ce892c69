"""Fixtures for the training tests: a tiny random BERT, toy annotated documents, fast configs."""

from __future__ import annotations

import os
import random
import re

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(scope="session")
def tiny_tokenizer(tiny_model):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_model)


MARK = re.compile(r"\[([^\[\]|]+)\|([A-Z]+)\|(\w+)\]")


def make_marked_doc(doc_id: str, marked: str, relations=()):
    """A Document from ``"[India|ACTOR|a] signed ..."`` markup; relations as (head id, tail id, label)."""
    from tradeie.corpus import paragraph_spans, segment
    from tradeie.document import Document, Relation, make_entity

    text, entities, pos = "", [], 0
    for m in MARK.finditer(marked):
        text += marked[pos : m.start()]
        start = len(text)
        text += m.group(1)
        entities.append((start, len(text), m.group(2), m.group(3)))
        pos = m.end()
    text += marked[pos:]
    ents = tuple(make_entity(text, s, e, label, eid) for s, e, label, eid in entities)
    rels = tuple(Relation(h, t, label) for h, t, label in relations)
    meta = {
        "sentences": [list(s) for s in segment(text)],
        "paragraphs": [list(p) for p in paragraph_spans(text)],
        "near_duplicate_group": doc_id,
    }
    return Document(id=doc_id, text=text, entities=ents, relations=rels, meta=meta)


ACTORS = ["India", "US", "China", "Japan", "Sergio Gor", "Washington", "New Delhi", "United States"]
AGREEMENTS = ["interim trade agreement", "trade deal", "critical minerals agreement", "framework agreement"]
TARIFFS = ["tariffs", "18% tariff", "duties", "reciprocal tariffs"]


def toy_document(doc_id: str, rng: random.Random, n_sentences: int = 5):
    """A synthetic news-like document with ACTOR/AGREEMENT/TARIFF mentions and relations."""
    parts, rels, k = [], [], 0

    def ent(text: str, label: str) -> tuple[str, str]:
        nonlocal k
        k += 1
        return f"[{text}|{label}|e{k}]", f"e{k}"

    for _ in range(n_sentences):
        kind = rng.randrange(4)
        if kind == 0:
            x1, x2 = rng.sample(ACTORS, 2)
            (a1, i1), (a2, i2), (ag, ig) = ent(x1, "ACTOR"), ent(x2, "ACTOR"), ent(rng.choice(AGREEMENTS), "AGREEMENT")
            parts.append(f"{a1} and {a2} signed the {ag} on Monday.")
            rels += [(i1, ig, "party_to"), (i2, ig, "party_to")]
        elif kind == 1:
            x1, x2 = rng.sample(ACTORS, 2)
            (a1, i1), (t, it), (a2, i2) = ent(x1, "ACTOR"), ent(rng.choice(TARIFFS), "TARIFF"), ent(x2, "ACTOR")
            parts.append(f"{a1} cut {t} on goods from {a2}.")
            rels += [(i1, it, "imposes"), (it, i2, "targets")]
        elif kind == 2:
            (t, it), (ag, ig) = ent(rng.choice(TARIFFS), "TARIFF"), ent(rng.choice(AGREEMENTS), "AGREEMENT")
            parts.append(f"The {t} is part of the {ag}.")
            rels.append((it, ig, "part_of"))
        else:
            parts.append("Officials met for talks in the capital.")
    return make_marked_doc(doc_id, " ".join(parts), rels)


@pytest.fixture(scope="session")
def marked_doc():
    """``marked_doc(doc_id, "[India|ACTOR|a] signed ...", [(head, tail, label)])`` -> Document."""
    return make_marked_doc


@pytest.fixture(scope="session")
def toy_docs():
    rng = random.Random(7)
    return [toy_document(f"doc{i}", rng, 6) for i in range(8)]


@pytest.fixture
def ner_config(tiny_train_settings):
    from tradeie.training.config import NERConfig

    return NERConfig(**tiny_train_settings)


@pytest.fixture
def re_config(tiny_train_settings):
    from tradeie.training.config import REConfig

    return REConfig(**{**tiny_train_settings, "max_length": 96})
