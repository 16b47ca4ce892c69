import hashlib
import json
import unicodedata

import pytest

from tradeie.corpus import build_corpus, load_corpus, normalise, raw_offset
from tradeie.errors import TradeieError


def test_seeds_are_byte_copies_of_shared(repo_root):
    shared = repo_root.parent / "shared" / "seeds"
    if not shared.exists():
        pytest.skip("../shared/seeds not beside this checkout")
    for path in sorted(shared.glob("*.txt")):
        assert (repo_root / "seeds" / path.name).read_bytes() == path.read_bytes()


def _raw_path(repo_root, doc):
    folders = {"real-news": "seeds", "written-for-dataset": "corpus/articles", "written-held-out": "corpus/heldout"}
    return repo_root / folders[doc.meta["origin"]] / doc.meta["file"]


def test_seed_documents(seed_corpus, repo_root):
    path, docs = seed_corpus
    stems = [
        sorted(p.stem for p in (repo_root / f).glob("*.txt")) for f in ("seeds", "corpus/articles", "corpus/heldout")
    ]
    assert [d.id for d in docs] == stems[0] + stems[1] + stems[2]
    assert [d.meta["origin"] for d in docs] == ["real-news"] * 4 + ["written-for-dataset"] * 16 + [
        "written-held-out"
    ] * 16
    by_id = {d.id: d for d in docs}
    first = by_id["000_d9c588e8c1f3d674"]
    assert first.meta["date"] == "2026-03-13"
    assert first.text.startswith("US Ambassador to India Sergio Gor")
    third = by_id["002_787f9cf3393ad467"]
    assert third.meta["date"] == "2026-01-30" and third.meta["source"] == "ANI"
    assert not third.text.rstrip().endswith("ANI")
    assert by_id["003_e3ef4ffb2eb5a43a"].meta["date"] is None
    for doc in docs:
        raw_bytes = _raw_path(repo_root, doc).read_bytes()
        assert doc.meta["sha256"] == hashlib.sha256(raw_bytes).hexdigest()
        assert "\n\n\n" not in doc.text and "  " not in doc.text and doc.text == doc.text.strip()
        assert unicodedata.is_normalized("NFC", doc.text)
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["id"] for r in rows] == [d.id for d in docs]


def test_offset_map_traces_every_character_to_the_raw_file(seed_corpus, repo_root):
    _, docs = seed_corpus
    for doc in docs:
        raw = _raw_path(repo_root, doc).read_text(encoding="utf-8")
        for i, ch in enumerate(doc.text):
            r = raw_offset(doc.meta["offset_map"], i)
            if ch == " ":
                assert raw[r].isspace()
            elif ch == "\n":
                assert raw[r] in "\r\n"
            else:
                assert raw[r] == ch, (doc.id, i)


def test_paragraphs_and_sentences_are_offsets(seed_corpus):
    _, docs = seed_corpus
    doc = next(d for d in docs if d.id.startswith("003"))
    paragraphs = [doc.text[s:e] for s, e in doc.meta["paragraphs"]]
    assert paragraphs[0].startswith("India and the United States signed")
    sentences = [doc.text[s:e] for s, e in doc.meta["sentences"]]
    assert sentences[0].endswith("[1].")
    assert any(s.startswith("U.S. Secretary of State Marco Rubio") for s in sentences)
    for s, e in doc.meta["sentences"]:
        assert doc.text[s:e] == doc.text[s:e].strip() and "\n" not in doc.text[s:e]


def test_near_duplicates_grouped(seed_corpus):
    _, docs = seed_corpus
    groups = {d.id: d.meta["near_duplicate_group"] for d in docs}
    assert groups["000_d9c588e8c1f3d674"] == groups["001_d86403ddc6a3495e"]
    assert len(set(groups.values())) == len(docs) - 1  # only 000 and 001 are near-duplicates
    assert docs[0].meta["similar"]["001_d86403ddc6a3495e"] > 0.15


def test_normalise_collapses_whitespace_and_keeps_paragraphs():
    raw = " date 2025-01-02\r\n\r\nA  b\t c\u00a0d\r\nsecond line\r\n\r\n\r\n\r\nnew   paragraph\n\nPTI\n"
    text, offset_map, meta = normalise(raw)
    assert meta == {"date": "2025-01-02", "source": "PTI"}
    assert text == "A b c d\nsecond line\n\nnew paragraph"
    assert raw[raw_offset(offset_map, text.index("new"))] == "n"
    assert raw[raw_offset(offset_map, text.index("second"))] == "s"


def test_normalise_composes_combining_characters_and_keeps_emoji():
    raw = "Cafe\u0301 \U0001f600 ok"
    text, offset_map, _ = normalise(raw)
    assert text == "Caf\u00e9 \U0001f600 ok"
    assert raw_offset(offset_map, 3) == 3  # é comes from e + combining acute
    assert raw[raw_offset(offset_map, text.index("ok"))] == "o"


def test_inline_date_header():
    text, _, meta = normalise(" date 2026-03-13 US Ambassador said.")
    assert meta["date"] == "2026-03-13" and text == "US Ambassador said."


def test_load_corpus_round_trip(seed_corpus):
    path, docs = seed_corpus
    loaded = load_corpus(path)
    assert [(d.id, d.text, d.meta) for d in loaded] == [(d.id, d.text, d.meta) for d in docs]


def test_bad_input_errors(tmp_path):
    with pytest.raises(TradeieError, match="no .txt files"):
        build_corpus(tmp_path, tmp_path / "out.jsonl")
    (tmp_path / "bad.txt").write_bytes(b"ok \xff\xfe bad")
    with pytest.raises(TradeieError, match=r"bad.txt: not valid UTF-8 at byte offset 3"):
        build_corpus(tmp_path, tmp_path / "out.jsonl")
    assert not (tmp_path / "out.jsonl").exists()
