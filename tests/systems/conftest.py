"""Fixtures for the systems: a blank spaCy pipeline folder (no model download) and toy documents."""

from __future__ import annotations

import pytest

from tradeie.corpus import segment
from tradeie.document import Document, Relation, make_entity


@pytest.fixture(scope="session")
def blank_pipeline(tmp_path_factory) -> str:
    """A spaCy pipeline folder with no trained components (POS, parse and entity types stay empty)."""
    import spacy

    folder = tmp_path_factory.mktemp("blank-spacy") / "pipeline"
    spacy.blank("en").to_disk(folder)
    return str(folder)


def doc_with(doc_id: str, text: str, mentions: list[tuple[str, str]], relations=()) -> Document:
    """A document with sentence metadata whose entities are ``mentions`` (surface, label) left to right."""
    ents, pos = [], 0
    for i, (surface, label) in enumerate(mentions, 1):
        start = text.index(surface, pos)
        ents.append(make_entity(text, start, start + len(surface), label, f"e{i}"))
        pos = start + len(surface)
    rels = tuple(Relation(f"e{h}", f"e{t}", label) for h, label, t in relations)
    return Document(
        id=doc_id, text=text, entities=tuple(ents), relations=rels, meta={"sentences": [list(s) for s in segment(text)]}
    )


@pytest.fixture(scope="session")
def make_doc():
    """:func:`doc_with`, for tests to build their own documents."""
    return doc_with


@pytest.fixture(scope="session")
def toy_docs() -> list[Document]:
    return [
        doc_with(
            "t1",
            "India and the United States signed a trade deal. Washington cut its tariffs on India.",
            [
                ("India", "ACTOR"),
                ("United States", "ACTOR"),
                ("deal", "AGREEMENT"),
                ("Washington", "ACTOR"),
                ("tariffs", "TARIFF"),
                ("India", "ACTOR"),
            ],
            [(1, "party_to", 3), (2, "party_to", 3)],
        ),
        doc_with(
            "t2",
            "Japan and Canada reached a pact. Ottawa kept its duties.",
            [("Japan", "ACTOR"), ("Canada", "ACTOR"), ("pact", "AGREEMENT"), ("Ottawa", "ACTOR"), ("duties", "TARIFF")],
            [(1, "party_to", 3)],
        ),
        doc_with(
            "t3",
            "The EU and Mercosur concluded an accord. Brussels lowered tariffs.",
            [
                ("EU", "ACTOR"),
                ("Mercosur", "ACTOR"),
                ("accord", "AGREEMENT"),
                ("Brussels", "ACTOR"),
                ("tariffs", "TARIFF"),
            ],
        ),
    ]
