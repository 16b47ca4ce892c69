"""A real Label Studio server for the annotation-loop tests.

The session fixture installs label-studio 1.23 into ``.venv-labelstudio``
(cached: skipped when it is already there; ``TRADEIE_LS_VENV`` overrides the
location), starts it on a free loopback port with a fresh data dir, waits
for ``/health`` and stops it by PID (process group) at the end.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ADMIN = "admin@example.com"
ANNOTATOR = "second.annotator@example.com"

#: A fifth document that is not in the gold yet: pulled annotations for it are "new".
NEW_SEED = (
    "Japan and Australia signed a critical minerals agreement in Tokyo on Monday. "
    "Japan also removed its 10% tariff on Australian beef under the agreement.\n"
)
NEW_DOC_ID = "900_ls_new_document"


@pytest.fixture(scope="session")
def ls_venv() -> Path:
    """label-studio's own venv, installed once and reused (``TRADEIE_LS_VENV`` overrides where)."""
    from tradeie.labelstudio.server import ensure_installed

    venv = Path(os.environ.get("TRADEIE_LS_VENV", REPO / ".venv-labelstudio"))
    ensure_installed(venv)
    return venv


@pytest.fixture(scope="session")
def ls_server(ls_venv, tmp_path_factory):
    from tradeie.labelstudio.server import free_port, new_credentials, start_server

    venv = ls_venv
    data_dir = tmp_path_factory.mktemp("labelstudio-data")
    port = free_port()
    server = start_server(data_dir, port=port, credentials=new_credentials(ADMIN, source="test"), venv=venv)
    yield server
    server.stop()
    assert server.process.poll() is not None, "Label Studio still running after stop"


@pytest.fixture
def ls_env(ls_server, monkeypatch):
    """LABEL_STUDIO_URL / LABEL_STUDIO_API_KEY pointing at the test server (legacy token)."""
    monkeypatch.setenv("LABEL_STUDIO_URL", ls_server.url)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", ls_server.credentials.api_key)
    return ls_server


@pytest.fixture(scope="session")
def ls_admin(ls_server):
    """A raw SDK client acting for the admin (who also annotates, as annotator 1)."""
    from label_studio_sdk import LabelStudio

    return LabelStudio(base_url=ls_server.url, api_key=ls_server.credentials.api_key)


@pytest.fixture(scope="session")
def second_annotator(ls_admin) -> int:
    """The user id of a second annotator."""
    user = ls_admin.users.create(username="second", email=ANNOTATOR, password="second-annotator-pw-1")
    return user.id


@pytest.fixture(scope="session")
def personal_access_token(ls_admin) -> str:
    """The admin's personal access token (a JWT refresh token; one per user)."""
    return ls_admin.tokens.create().token


@pytest.fixture
def workspace(tmp_path_factory):
    """Seeds (the 4 repository seeds + one new document), the corpus built from them, and a copy of their gold."""
    from tradeie.corpus import build_corpus

    root = tmp_path_factory.mktemp("ls-workspace")
    seeds = root / "seeds"
    shutil.copytree(REPO / "seeds", seeds)
    (seeds / f"{NEW_DOC_ID}.txt").write_text(NEW_SEED, encoding="utf-8")
    corpus_path = root / "corpus" / "documents.jsonl"
    docs = build_corpus(seeds, corpus_path)
    gold = root / "annotations" / "gold"
    seed_ids = {p.stem for p in (REPO / "seeds").glob("*.txt")}
    shutil.copytree(
        REPO / "annotations" / "gold",
        gold,
        ignore=lambda _, names: [n for n in names if n.endswith(".json") and n[:-5] not in seed_ids],
    )
    return {
        "root": root,
        "corpus": corpus_path,
        "docs": {d.id: d for d in docs},
        "gold": gold,
        "new_doc_id": NEW_DOC_ID,
    }


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Path:
    """A training-run folder holding a tiny randomly initialised NER model (``<run>/ner``).

    Its predictions are arbitrary but real model output: spans with scores decoded by
    ``tradeie.predict.Pipeline``, which is what ``ls push --predictions RUN`` attaches.
    """
    import re

    import torch
    from transformers import BertConfig, BertForTokenClassification, BertTokenizer

    from tradeie.schema import BIO_TAGS

    run = tmp_path_factory.mktemp("runs") / "tiny-run"
    folder = run / "ner"
    folder.mkdir(parents=True)
    words = sorted({w.lower() for p in (REPO / "seeds").glob("*.txt") for w in re.findall(r"\w+", p.read_text())})
    chars = [c for c in "abcdefghijklmnopqrstuvwxyz0123456789.,;:%-'\"()?!&/$"]
    vocab = list(
        dict.fromkeys(
            ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words, *chars, *("##" + c for c in chars if c.isalnum())]
        )
    )
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    BertTokenizer(vocab_file=str(folder / "vocab.txt"), do_lower_case=True, model_max_length=512).save_pretrained(
        folder
    )
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=37,
        max_position_embeddings=512,
        id2label=dict(enumerate(BIO_TAGS)),
        label2id={t: i for i, t in enumerate(BIO_TAGS)},
    )
    BertForTokenClassification(config).save_pretrained(folder)
    return run
