"""Session fixtures for the dataset tests: synthetic gold over the real seed texts, a tiny tokenizer/model."""

from __future__ import annotations

import os
import re
import tempfile

# Before datasets / huggingface_hub are imported anywhere: no network, private caches.
_CACHE = tempfile.mkdtemp(prefix="tradeie-dataset-tests-")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_CACHE"] = os.path.join(_CACHE, "datasets")
os.environ.setdefault("HF_HOME", os.path.join(_CACHE, "hf_home"))
os.environ["TOKENIZERS_PARALLELISM"] = "false"

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from tradeie.corpus import build_corpus, sentences_of  # noqa: E402
from tradeie.document import Document, Relation, make_entity  # noqa: E402
from tradeie.text.tokens import tokenize  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SEEDS = REPO / "seeds"

#: Synthetic gazetteer: longest phrases first so "trade deal" wins over "deal".
PHRASES = [
    ("critical minerals agreement", "AGREEMENT"),
    ("interim trade agreement", "AGREEMENT"),
    ("Interim Agreement", "AGREEMENT"),
    ("trade deal", "AGREEMENT"),
    ("agreements", "AGREEMENT"),
    ("agreement", "AGREEMENT"),
    ("memoranda", "AGREEMENT"),
    ("reciprocal tariffs", "TARIFF"),
    ("tariffs", "TARIFF"),
    ("tariff", "TARIFF"),
    ("duties", "TARIFF"),
    ("United States", "ACTOR"),
    ("New Delhi", "ACTOR"),
    ("Sergio Gor", "ACTOR"),
    ("Washington", "ACTOR"),
    ("India", "ACTOR"),
    ("China", "ACTOR"),
    ("U.S.", "ACTOR"),
    ("US", "ACTOR"),
    ("Gor", "ACTOR"),
]
MADE_UP_TEXT = (
    "Ruritania and Freedonia signed a trade pact on Monday.\n\n"
    "Ruritania imposed 18% tariffs on Freedonia steel. Freedonia said the pact stands."
)


def annotate(doc: Document) -> Document:
    """Token-aligned, non-overlapping gazetteer entities and a few schema-valid relations."""
    tokens = tokenize(doc.text)
    starts, ends = {t.start for t in tokens}, {t.end for t in tokens}
    sentences = sentences_of(doc)
    taken: list[tuple[int, int]] = []
    found = []
    for phrase, label in PHRASES:
        for m in re.finditer(re.escape(phrase), doc.text):
            s, e = m.span()
            if s not in starts or e not in ends or any(s < b and a < e for a, b in taken):
                continue
            if not any(a <= s and e <= b for a, b in sentences):
                continue
            taken.append((s, e))
            found.append((s, e, label))
    found.sort()
    entities = [make_entity(doc.text, s, e, label, f"e{i}") for i, (s, e, label) in enumerate(found)]
    relations = []
    for a, b in sentences:
        inside = [e for e in entities if a <= e.start and e.end <= b]
        actors = [e for e in inside if e.label == "ACTOR"]
        agreements = [e for e in inside if e.label == "AGREEMENT"]
        tariffs = [e for e in inside if e.label == "TARIFF"]
        if actors and agreements:
            relations.append(Relation(actors[0].id, agreements[0].id, "party_to"))
        if actors and tariffs:
            relations.append(Relation(actors[-1].id, tariffs[0].id, "imposes"))
        if tariffs and agreements:
            relations.append(Relation(tariffs[0].id, agreements[-1].id, "part_of"))
    # One relation across sentences (outside window 0) where possible, to exercise the window.
    if len(sentences) > 1:
        first = [e for e in entities if e.label == "ACTOR" and sentences[0][0] <= e.start < sentences[0][1]]
        second = [e for e in entities if e.label == "AGREEMENT" and sentences[1][0] <= e.start < sentences[1][1]]
        if first and second:
            relations.append(Relation(first[0].id, second[0].id, "party_to"))
    return doc.with_annotations(entities, relations)


def made_up_document() -> Document:
    text = MADE_UP_TEXT
    ents = []
    for i, (phrase, label, nth) in enumerate(
        [
            ("Ruritania", "ACTOR", 0),
            ("Freedonia", "ACTOR", 0),
            ("trade pact", "AGREEMENT", 0),
            ("Ruritania", "ACTOR", 1),
            ("18% tariffs", "TARIFF", 0),
            ("Freedonia", "ACTOR", 1),
            ("pact", "AGREEMENT", 1),
            ("Freedonia", "ACTOR", 2),
        ]
    ):
        start = [m.start() for m in re.finditer(re.escape(phrase), text)][nth]
        ents.append(make_entity(text, start, start + len(phrase), label, f"m{i}"))
    rels = [
        Relation("m0", "m2", "party_to"),
        Relation("m1", "m2", "party_to"),
        Relation("m3", "m4", "imposes"),
        Relation("m4", "m5", "targets"),
    ]
    return Document(
        id="zz_made_up",
        text=text,
        entities=tuple(ents),
        relations=tuple(rels),
        meta={"date": "2026-02-01", "source": "test", "near_duplicate_group": "zz_made_up"},
    )


@pytest.fixture(scope="session")
def corpus_docs(tmp_path_factory) -> list[Document]:
    out = tmp_path_factory.mktemp("corpus") / "documents.jsonl"
    return build_corpus(SEEDS, out)


@pytest.fixture(scope="session")
def docs(corpus_docs) -> list[Document]:
    """The four seed texts with synthetic annotations (two are near-duplicates)."""
    return [annotate(d) for d in corpus_docs]


@pytest.fixture(scope="session")
def docs5(docs) -> list[Document]:
    """The seed documents plus one small made-up document without corpus sentence metadata."""
    return [*docs, made_up_document()]


@pytest.fixture(scope="session")
def built(docs5):
    from tradeie.data.dataset import build_dataset

    return build_dataset(docs5)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, docs5) -> Path:
    """A tiny BERT with a WordPiece vocab from the test texts."""
    from tiny_models import build_tiny_bert

    words = sorted({t.text.lower() for d in docs5 for t in tokenize(d.text)})[:400]
    return build_tiny_bert(tmp_path_factory.mktemp("tiny-model"), words)


@pytest.fixture(scope="session")
def tiny_tokenizer(tiny_model_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(tiny_model_dir))


@pytest.fixture(scope="session")
def guidelines_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("guidelines") / "GUIDELINES.md"
    path.write_text(
        "# Test guidelines\n\n## Entity labels\n\nACTOR, AGREEMENT, TARIFF.\n\n"
        "## Inter-annotator agreement\n\n| measure | A vs B |\n|---|---|\n"
        "| span F1, strict | 0.912 |\n\n## Changelog\n\nnothing\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture(scope="session")
def hub_dir(tmp_path_factory, built, docs5, tiny_tokenizer, guidelines_file) -> Path:
    from tradeie.data.dataset import write_hub_folder

    out = tmp_path_factory.mktemp("hub") / "dataset"
    write_hub_folder(
        built, docs5, out, tokenizer=tiny_tokenizer, guidelines=guidelines_file, repo_id="tradeie-test/trade-ner"
    )
    return out
