"""Fixtures for the evaluation tests: the committed golden files and tiny hand-made documents."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")

DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def eval_data() -> Path:
    return DATA


@pytest.fixture(scope="session")
def golden_gold():
    from tradeie.evaluation.evaluate import load_gold_file

    return load_gold_file(DATA / "gold.jsonl")


@pytest.fixture(scope="session")
def golden_pred():
    from tradeie.evaluation.evaluate import load_predictions

    return load_predictions(DATA / "preds.jsonl")


@pytest.fixture(scope="session")
def golden_metrics(golden_gold, golden_pred):
    from tradeie.evaluation.evaluate import evaluate_documents

    return evaluate_documents(golden_gold, golden_pred, n_resamples=200, seed=7)


@pytest.fixture(scope="session")
def make_expected():
    """The committed script that computes reference scores with seqeval and nervaluate directly."""
    spec = importlib.util.spec_from_file_location("eval_make_expected", DATA / "make_expected.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def span(text: str, surface: str, label: str, occurrence: int = 1, entity_id: str | None = None):
    """The ``occurrence``-th match of ``surface`` in ``text`` as an Entity (offsets never typed by hand)."""
    from tradeie.document import make_entity

    start = -1
    for _ in range(occurrence):
        start = text.index(surface, start + 1)
    return make_entity(text, start, start + len(surface), label, entity_id or f"{label[:2]}{start}")


def doc(doc_id: str, text: str, entities=(), relations=(), **meta):
    from tradeie.document import Document

    return Document(doc_id, text, tuple(entities), tuple(relations), meta)


@pytest.fixture(scope="session")
def build():
    """Helpers to build documents: ``build.span(text, surface, label)``, ``build.doc(id, text, ents, rels)``."""

    class Build:
        pass

    b = Build()
    b.span = span
    b.doc = doc
    return b


# --------------------------------------------------------------------------- toy corpus and tiny models

ACTORS = ("India", "US", "China", "Japan")
AGREEMENTS = ("trade deal", "minerals agreement", "framework agreement")
TARIFFS = ("tariffs", "duties")


def toy_document(doc_id: str, rng, n_sentences: int = 4, group: str | None = None):
    """A synthetic news-like document with entities and relations built from templates."""
    from tradeie.corpus import segment
    from tradeie.document import Document, Relation, make_entity

    text, ents, rels = "", [], []

    def add(surface: str, label: str | None = None):
        nonlocal text
        start = len(text)
        text += surface
        if label is None:
            return None
        ent = make_entity(text, start, len(text), label, f"e{len(ents) + 1}")
        ents.append(ent)
        return ent.id

    for _ in range(n_sentences):
        kind = rng.randrange(3)
        if kind == 0:
            a = add(rng.choice(ACTORS), "ACTOR")
            add(" and ")
            b = add(rng.choice(ACTORS), "ACTOR")
            add(" signed a ")
            g = add(rng.choice(AGREEMENTS), "AGREEMENT")
            rels += [Relation(a, g, "party_to"), Relation(b, g, "party_to")]
            add(" on Monday. ")
        elif kind == 1:
            a = add(rng.choice(ACTORS), "ACTOR")
            add(" cut ")
            t = add(rng.choice(TARIFFS), "TARIFF")
            add(" on goods from ")
            b = add(rng.choice(ACTORS), "ACTOR")
            rels += [Relation(a, t, "imposes"), Relation(t, b, "targets")]
            add(". ")
        else:
            add("Officials met for talks in the capital. ")
    text = text.rstrip()
    return Document(
        doc_id,
        text,
        tuple(ents),
        tuple(rels),
        {"sentences": [list(s) for s in segment(text)], "near_duplicate_group": group or doc_id},
    )


@pytest.fixture(scope="session")
def toy_docs():
    """Six toy documents in four near-duplicate groups: {t0, t1}, {t2}, {t3}, {t4, t5}."""
    import random

    rng = random.Random(5)
    groups = ["t0", "t0", "t2", "t3", "t4", "t4"]
    return [toy_document(f"t{i}", rng, 4, groups[i]) for i in range(6)]


@pytest.fixture(scope="session")
def tiny_bert(tiny_model):
    """The shared tiny random BERT (tests/tiny_models.py)."""
    return tiny_model


@pytest.fixture(scope="session")
def tiny_configs(tiny_bert):
    """Fast NER and RE configs on the tiny BERT (CPU, one seed, a few epochs)."""
    from tradeie.training.config import NERConfig, REConfig

    common = dict(
        base_model=str(tiny_bert),
        seeds=[1],
        epochs=3,
        learning_rate=5e-3,
        progress_bars=False,
        device="cpu",
        early_stopping_patience=0,
        logging_steps=100,
    )
    return NERConfig(**common), REConfig(**common)


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory, toy_docs, tiny_configs):
    """A run folder with ner/ and re/ trained on four toy documents."""
    from tradeie.training.ner import fit_ner
    from tradeie.training.relation import fit_re

    run = tmp_path_factory.mktemp("runs") / "tiny"
    ner, re_cfg = tiny_configs
    fit_ner(toy_docs[:4], None, ner, run / "ner")
    fit_re(toy_docs[:4], None, re_cfg, run / "re")
    return run


def write_jsonl(path, docs):
    """``docs`` as Documents JSONL at ``path`` (folders created)."""
    import json

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(d.to_dict()) + "\n" for d in docs), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def write_docs():
    """``write_docs(path, docs)``: documents as Documents JSONL, returns the path."""
    return write_jsonl


@pytest.fixture(scope="session")
def project(tmp_path_factory, toy_docs, tiny_bert):
    """A project folder with dist/dataset (t0-t3 train, t4 validation, t5 test) and corpus/documents.jsonl."""
    from tradeie.data.dataset import build_dataset, write_hub_folder

    root = tmp_path_factory.mktemp("project")
    assignment = {d.id: "train" for d in toy_docs[:4]} | {toy_docs[4].id: "validation", toy_docs[5].id: "test"}
    dataset = build_dataset(toy_docs, assignment=assignment)
    write_hub_folder(dataset, toy_docs, root / "dist" / "dataset", guidelines=None, tokenizer=str(tiny_bert))
    write_jsonl(root / "corpus" / "documents.jsonl", toy_docs)
    return root
