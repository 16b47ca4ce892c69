"""Secrets never leak into outputs or streams; no remote code; safetensors only; model packages pinned by hash."""

from __future__ import annotations

import json
import logging
import re
import socket
from pathlib import Path

import pytest

from robustness.helpers import marked_doc
from tradeie.cli import main

HF_SENTINEL = "hf_SENTINELtokenVALUE0123456789abcdef"
LS_SENTINEL = "ls0sentinel1key2value3abcdef456789"
TINY = [
    "epochs=1",
    "max_steps=2",
    "max_length=32",
    "stride=4",
    "seeds=[1]",
    "progress_bars=false",
    "device=cpu",
    "early_stopping_patience=0",
    "batch_size=4",
]
TEXTS = [
    "India and the U.S. signed a trade deal in March after long talks.",
    "Washington cut tariffs on goods from New Delhi, officials said on Monday.",
    "Japan joined the interim trade agreement with Australia last year.",
    "The E.U.-led talks with India on lithium and cobalt continue in Brussels.",
]


@pytest.mark.slow  # trains a tiny model and runs every stage (about 30 s)
def test_a_full_pipeline_never_writes_or_prints_the_tokens(tmp_path, monkeypatch, capfd, caplog, tiny_model, repo_root):
    from tradeie.labelstudio.format import to_tasks

    monkeypatch.setenv("HF_TOKEN", HF_SENTINEL)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", LS_SENTINEL)
    with socket.socket() as sock:  # bound, not listening: connection refused
        sock.bind(("127.0.0.1", 0))
        monkeypatch.setenv("LABEL_STUDIO_URL", f"http://127.0.0.1:{sock.getsockname()[1]}")
        monkeypatch.chdir(tmp_path)
        caplog.set_level(logging.DEBUG)
        seeds = tmp_path / "seeds"
        seeds.mkdir()
        for k in range(4):
            (seeds / f"d{k}.txt").write_text(TEXTS[k], encoding="utf-8")
        assert (
            main(
                [
                    "-v",
                    "corpus",
                    "build",
                    "--seeds",
                    "seeds",
                    "--articles",
                    "",
                    "--heldout",
                    "",
                    "--out",
                    "corpus.jsonl",
                ]
            )
            == 0
        )
        gold = tmp_path / "gold"
        gold.mkdir()
        from tradeie.corpus import load_corpus

        for doc in load_corpus("corpus.jsonl"):
            marked = doc.text
            for word in ("India", "Washington", "Japan"):
                marked = marked.replace(word, f"[{word}|ACTOR]")
            annotated = marked_doc(doc.id, marked)
            (gold / f"{doc.id}.json").write_text(json.dumps(to_tasks([annotated])), encoding="utf-8")
        sets = [x for kv in [*TINY, f"base_model={tiny_model}"] for x in ("--set", kv)]
        steps = [
            ["annotations", "validate", "gold", "--corpus", "corpus.jsonl"],
            [
                "dataset",
                "build",
                "--gold",
                "gold",
                "--corpus",
                "corpus.jsonl",
                "--out",
                "ds",
                "--guidelines",
                "",
                "--ratios",
                "0.5,0.25,0.25",
                "--tokenizer",
                str(tiny_model),
            ],
            [
                "train",
                "ner",
                "--config",
                str(repo_root / "training/ner.toml"),
                *sets,
                "--dataset",
                "ds",
                "--output",
                "runs/secret",
            ],
            ["predict", "--model", "runs/secret", "seeds", "--output", "preds.jsonl"],
            [
                "evaluate",
                "--model",
                "runs/secret",
                "--dataset",
                "ds",
                "--split",
                "test",
                "--out",
                "eval",
                "--update-card",
            ],
            ["dataset", "push", "ds", "--repo-id", "someone/trade-news", "--dry-run"],
        ]
        for argv in steps:
            assert main(["-v", *argv]) == 0, argv
        for argv in (
            ["ls", "push", "--project", "p", "--corpus", "corpus.jsonl"],
            ["ls", "pull", "--project", "p", "--corpus", "corpus.jsonl", "--gold", "gold"],
        ):
            assert main(["-v", *argv]) == 2  # unreachable server: one clear line
        assert main(["--debug", "ls", "pull", "--project", "p", "--corpus", "corpus.jsonl"]) == 2
    out, err = capfd.readouterr()
    streams = out + err + caplog.text
    assert "cannot reach Label Studio at" in streams
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(written) > 20
    for secret in (HF_SENTINEL, LS_SENTINEL, LS_SENTINEL[:12], HF_SENTINEL[3:15]):
        assert secret not in streams
        leaked = [p for p in written if secret.encode() in p.read_bytes()]
        assert leaked == [], f"{secret[:6]}... found in {leaked}"


SOURCE = Path(__file__).resolve().parents[2] / "src" / "tradeie"


def test_no_trust_remote_code_anywhere():
    offenders = [
        f"{p}:{n}"
        for p in SOURCE.rglob("*")
        if p.suffix in (".py", ".md", ".j2", ".toml")
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"trust_remote_code\s*[=:]", line)
    ]
    assert offenders == []
    training = Path(__file__).resolve().parents[2] / "training"
    assert not any("trust_remote_code" in p.read_text() for p in training.glob("*.toml"))


def test_trained_models_load_from_safetensors_only(capsys, tmp_path, tiny_model):
    import torch
    from transformers import BertConfig, BertForTokenClassification, BertTokenizer

    from tradeie.schema import BIO_TAGS

    source = (SOURCE / "training" / "common.py").read_text(encoding="utf-8")
    assert "from_pretrained(path, use_safetensors=True)" in source
    folder = tmp_path / "run" / "ner"
    torch.manual_seed(0)
    config = BertConfig.from_pretrained(
        tiny_model,
        num_labels=len(BIO_TAGS),
        id2label=dict(enumerate(BIO_TAGS)),
        label2id={t: i for i, t in enumerate(BIO_TAGS)},
    )
    folder.mkdir(parents=True)
    config.save_pretrained(folder)  # and a pickled checkpoint instead of model.safetensors
    torch.save(BertForTokenClassification(config).state_dict(), folder / "pytorch_model.bin")
    BertTokenizer.from_pretrained(tiny_model).save_pretrained(folder)
    assert (folder / "pytorch_model.bin").exists() and not (folder / "model.safetensors").exists()
    (tmp_path / "in.txt").write_text("India signed.", encoding="utf-8")
    assert main(["predict", "--model", str(tmp_path / "run"), str(tmp_path / "in.txt")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "the NER model folder is incomplete or corrupt" in err[0]


def test_spacy_model_packages_are_pinned_by_hash(repo_root):
    lines = [
        line.strip()
        for line in (repo_root / "requirements" / "spacy-models.txt").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert lines
    for line in lines:
        assert re.fullmatch(
            r"[A-Za-z0-9._-]+==[0-9][^ ]* --hash=sha256:[0-9a-f]{64}( --hash=sha256:[0-9a-f]{64})*", line
        ), line
    makefile = (repo_root / "Makefile").read_text()
    assert "--require-hashes -r requirements/spacy-models.txt" in makefile


@pytest.mark.parametrize("module", ["tradeie.labelstudio.client", "tradeie.labelstudio.server", "tradeie.data.hub"])
def test_secrets_come_from_the_environment_only(module):
    import importlib

    text = Path(importlib.import_module(module).__file__).read_text(encoding="utf-8")
    assert not re.search(r"add_argument\([^)]*(token|api[_-]key|password)", text, re.IGNORECASE)
