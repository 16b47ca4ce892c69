"""`tradeie dataset build|stats` end to end (synthetic gold, and the real gold when present)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tradeie.cli import main
from tradeie.data.dataset import CONFIG_NAMES, build_dataset, content_fingerprint, load_hub_configs
from tradeie.data.splits import SPLIT_NAMES
from tradeie.text.tokens import tokenize

REPO = Path(__file__).resolve().parents[2]


def test_build_command_calls_load_gold_and_writes_the_folder(monkeypatch, tmp_path, docs5, tiny_model_dir, capsys):
    import tradeie.annotations.gold
    from tradeie.data import dataset as dataset_module

    monkeypatch.setattr(dataset_module, "CHUNK_DOCUMENTS", 2)  # --num-proc 2 then runs two workers

    calls = []

    def fake_load_gold(gold, corpus):
        calls.append((gold, corpus))
        return docs5

    monkeypatch.setattr(tradeie.annotations.gold, "load_gold", fake_load_gold)
    out = tmp_path / "dist" / "dataset"
    code = main(
        [
            "dataset",
            "build",
            "--gold",
            "g",
            "--corpus",
            "c.jsonl",
            "--out",
            str(out),
            "--seed",
            "5",
            "--ratios",
            "0.6,0.2,0.2",
            "--window",
            "1",
            "--num-proc",
            "2",
            "--tokenizer",
            str(tiny_model_dir),
            "--repo-id",
            "me/trade",
            "--license",
            "cc-by-4.0",
            "--pretty-name",
            "Trade NER test",
        ]
    )
    assert code == 0 and calls == [("g", "c.jsonl")]
    printed = capsys.readouterr().out
    assert printed.startswith(f"wrote {out}: 5 documents")
    loaded = load_hub_configs(out)
    assert content_fingerprint(loaded) == content_fingerprint(
        build_dataset(docs5, seed=5, ratios=(0.6, 0.2, 0.2), window=1)
    )
    readme = (out / "README.md").read_text(encoding="utf-8")
    assert "\nlicense: cc-by-4.0\n" in readme and "license_name" not in readme
    assert "# Dataset Card for Trade NER test" in readme and "Licence: cc-by-4.0." in readme
    assert "seed 5" in readme and "0.6 / 0.2 / 0.2" in readme and 'load_dataset("me/trade", "ner")' in readme

    assert (
        main(["dataset", "stats", str(out), "--tokenizer", str(tiny_model_dir), "--json", str(tmp_path / "stats.json")])
        == 0
    )
    table = capsys.readouterr().out
    assert "| documents |" in table and "| max sub-word length (ner row) |" in table
    stats = json.loads((tmp_path / "stats.json").read_text())
    assert stats["total"]["documents"] == 5


def test_bad_process_count_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["dataset", "build", "--num-proc", "0"])
    assert exc.value.code == 2 and "must be 1 or more" in capsys.readouterr().err


def test_bad_ratios_are_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["dataset", "build", "--ratios", "0.5,0.5"])
    assert exc.value.code == 2
    assert "three numbers" in capsys.readouterr().err


def test_stats_on_a_missing_folder_is_one_line(tmp_path, capsys):
    assert main(["dataset", "stats", str(tmp_path / "nope")]) == 2
    assert "not a dataset folder" in capsys.readouterr().err


@pytest.mark.skipif(not any((REPO / "annotations" / "gold").glob("*.json")), reason="no gold annotations yet")
def test_real_gold_builds_and_loads(tmp_path, capsys):
    """The curated gold: builds, every config loads back, near-duplicates share a split, no row too long."""
    from tradeie.annotations.gold import load_gold
    from tradeie.corpus import build_corpus

    corpus = tmp_path / "documents.jsonl"
    build_corpus(
        REPO / "seeds", corpus, articles_dir=REPO / "corpus" / "articles", heldout_dir=REPO / "corpus" / "heldout"
    )
    out = tmp_path / "dataset"
    assert (
        main(
            [
                "dataset",
                "build",
                "--gold",
                str(REPO / "annotations" / "gold"),
                "--corpus",
                str(corpus),
                "--out",
                str(out),
                "--guidelines",
                str(REPO / "annotations" / "GUIDELINES.md"),
            ]
        )
        == 0
    )
    docs = load_gold(REPO / "annotations" / "gold", corpus)
    built = build_dataset(docs)
    loaded = load_hub_configs(out)
    for config in CONFIG_NAMES:
        assert list(loaded[config]) == list(SPLIT_NAMES)
        for split in SPLIT_NAMES:
            assert loaded[config][split].to_list() == built[config][split].to_list()
    assignment = {d: s for s, ds in loaded["documents"].items() for d in ds["id"]}
    assert assignment["000_d9c588e8c1f3d674"] == assignment["001_d86403ddc6a3495e"]
    longest = max(len(tokenize(e.text)) for d in docs for e in d.entities)
    readme = (out / "README.md").read_text(encoding="utf-8")
    assert f"Longest entity: {longest} words" in readme
    assert "| ner rows over 512 sub-words | 0 | 0 | 0 | 0 |" in readme
