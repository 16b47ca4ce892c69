"""Held-out articles: their own folder, their own origin, always in the test split."""

from __future__ import annotations

from tradeie.cli import main
from tradeie.corpus import load_corpus


def _write(folder, name, text):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")


def test_corpus_build_takes_corpus_heldout_by_default_and_marks_its_origin(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _write(tmp_path / "seeds", "s1.txt", "India and the US signed a pact on minerals.\n")
    _write(tmp_path / "corpus" / "articles", "w01.txt", "Japan agreed a tariff deal with Washington.\n")
    _write(tmp_path / "corpus" / "heldout", "h01.txt", "Seoul accepted a 15% tariff under a new accord.\n")
    assert main(["corpus", "build"]) == 0
    origins = {d.id: d.meta["origin"] for d in load_corpus("corpus/documents.jsonl")}
    assert origins == {"s1": "real-news", "w01": "written-for-dataset", "h01": "written-held-out"}


def test_corpus_build_without_a_heldout_folder_builds_the_rest(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _write(tmp_path / "seeds", "s1.txt", "India and the US signed a pact on minerals.\n")
    assert main(["corpus", "build", "--articles", "", "--heldout", ""]) == 0
    assert [d.id for d in load_corpus("corpus/documents.jsonl")] == ["s1"]
