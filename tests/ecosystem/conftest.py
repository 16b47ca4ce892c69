"""Fixtures for the ecosystem tests: the dataset built from the committed gold, a briefly trained tiny run."""

from __future__ import annotations

import os
import tempfile

_CACHE = tempfile.mkdtemp(prefix="tradeie-ecosystem-tests-")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_CACHE"] = os.path.join(_CACHE, "datasets")
os.environ["TOKENIZERS_PARALLELISM"] = "false"

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

REPO = Path(__file__).resolve().parents[2]

#: Short sentences the tiny model is trained on, repeated; words split the same way by spaCy and BERT.
TRAIN_SENTENCES = [
    "[India|ACTOR] and [Japan|ACTOR] signed the [trade deal|AGREEMENT] on Monday.",
    "[China|ACTOR] raised [tariffs|TARIFF] on goods from [Japan|ACTOR].",
    "[India|ACTOR] cut [duties|TARIFF] under the [trade deal|AGREEMENT].",
    "Officials met for talks in the capital.",
    "[Japan|ACTOR] and [China|ACTOR] signed the [framework agreement|AGREEMENT] today.",
]


def marked_document(doc_id: str, marked: str):
    """A Document from ``[text|LABEL]`` markup (sentences from the corpus segmenter)."""
    import re

    from tradeie.corpus import paragraph_spans, segment
    from tradeie.document import Document, make_entity

    text, spans, pos = "", [], 0
    for m in re.finditer(r"\[([^\[\]|]+)\|([A-Z]+)\]", marked):
        text += marked[pos : m.start()]
        spans.append((len(text), len(text) + len(m.group(1)), m.group(2)))
        text += m.group(1)
        pos = m.end()
    text += marked[pos:]
    ents = tuple(make_entity(text, s, e, label, f"e{i}") for i, (s, e, label) in enumerate(spans, 1))
    meta = {
        "sentences": [list(s) for s in segment(text)],
        "paragraphs": [list(p) for p in paragraph_spans(text)],
        "near_duplicate_group": doc_id,
    }
    return Document(id=doc_id, text=text, entities=ents, meta=meta)


@pytest.fixture(scope="session")
def gold_hub(gold_docs, tmp_path_factory) -> Path:
    """The dataset folder built from the committed gold (default split seed)."""
    from tradeie.data.dataset import build_dataset, write_hub_folder

    out = tmp_path_factory.mktemp("ecosystem-dataset") / "dataset"
    write_hub_folder(build_dataset(gold_docs), gold_docs, out, guidelines=REPO / "annotations" / "GUIDELINES.md")
    return out


@pytest.fixture(scope="session")
def toy_train_docs():
    return [marked_document(f"toy{i}", " ".join(TRAIN_SENTENCES[i % 5 :] + TRAIN_SENTENCES[: i % 5])) for i in range(5)]


@pytest.fixture(scope="session")
def tiny_trained_run(tiny_train_settings, toy_train_docs, tmp_path_factory) -> Path:
    """``<run>/ner`` written by the real trainer (``fit_ner``) from the tiny BERT, trained until it tags."""
    from tradeie.training.config import NERConfig
    from tradeie.training.ner import fit_ner

    run = tmp_path_factory.mktemp("runs") / "tiny"
    config = NERConfig(
        **{**tiny_train_settings, "epochs": 30},
        gazetteer_ensemble=False,
        constrained_decoding=False,
        class_weights=False,
        run_name="tiny",
    )
    fit_ner(toy_train_docs, None, config, run / "ner", test_docs=toy_train_docs[:2])
    return run
