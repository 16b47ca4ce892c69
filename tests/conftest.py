"""Test-wide settings: offline Hub, CPU only, the repository root as a fixture."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A tiny random BERT + tokenizer folder, usable as ``base_model`` anywhere."""
    from tiny_models import build_tiny_bert

    return build_tiny_bert(tmp_path_factory.mktemp("tiny-bert") / "model")


@pytest.fixture(scope="session")
def seed_corpus(tmp_path_factory):
    """The project's corpus (seeds and written articles) built once per session: (path, documents)."""
    from tradeie.corpus import build_corpus

    out = tmp_path_factory.mktemp("corpus") / "documents.jsonl"
    docs = build_corpus(
        REPO / "seeds", out, articles_dir=REPO / "corpus" / "articles", heldout_dir=REPO / "corpus" / "heldout"
    )
    return out, docs


@pytest.fixture(scope="session")
def gold_docs(seed_corpus):
    """The committed gold annotations, attached to the seed corpus."""
    from tradeie.annotations.gold import load_gold

    corpus_path, _ = seed_corpus
    return load_gold(REPO / "annotations" / "gold", corpus_path)


@pytest.fixture(scope="session")
def tiny_train_settings(tiny_model) -> dict:
    """Training settings shared by every test that fine-tunes the tiny BERT (fast, CPU, quiet, one seed)."""
    return {
        "base_model": str(tiny_model),
        "epochs": 2,
        "batch_size": 8,
        "learning_rate": 5e-3,
        "max_length": 64,
        "stride": 8,
        "seeds": [1],
        "progress_bars": False,
        "device": "cpu",
        "logging_steps": 1000,
        "early_stopping_patience": 0,
    }
