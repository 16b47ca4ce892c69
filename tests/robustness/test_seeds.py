"""Seeds and corpus: every odd input file gives a document or one clear error, never a half-written corpus."""

from __future__ import annotations

import codecs
import json
import unicodedata

import pytest

from robustness.helpers import cli_error
from tradeie.cli import main
from tradeie.corpus import build_corpus, raw_offset, read_seed

TEXT = "India and the U.S. signed a critical minerals agreement.\nThe deal covers lithium."


def _build(capsys, seeds, tmp_path) -> tuple[str, object]:
    out = tmp_path / "corpus" / "documents.jsonl"
    line = cli_error(capsys, ["corpus", "build", "--seeds", seeds, "--articles", "", "--heldout", "", "--out", out])
    return line, out


@pytest.mark.parametrize(
    "content, expected",
    [
        (b"", "the file is empty"),
        (b"  \n\t\r\n \xc2\xa0\n", "only whitespace"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file (NUL byte at byte offset 8)"),
        (b"India and the U.S.\xff signed.", "not valid UTF-8 at byte offset 18"),
        (
            codecs.BOM_UTF16_LE + "India signed".encode("utf-16-le") + b"\x00\xd8",
            "not valid UTF-16-LE at byte offset 26",
        ),
    ],
)
def test_bad_seed_files_give_one_line_naming_file_and_offset(capsys, seeds, tmp_path, content, expected):
    (seeds / "bad file.txt").write_bytes(content)
    line, out = _build(capsys, seeds, tmp_path)
    assert line.startswith(f"tradeie: error: {seeds / 'bad file.txt'}: {expected}")
    assert "(fix: " in line
    assert not out.exists() and not out.parent.exists()  # nothing half-written


@pytest.mark.parametrize(
    "bom, codec, encoding",
    [
        (codecs.BOM_UTF8, "utf-8", "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16-be"),
        (codecs.BOM_UTF32_LE, "utf-32-le", "utf-32-le"),
        (codecs.BOM_UTF32_BE, "utf-32-be", "utf-32-be"),
    ],
)
def test_byte_order_marks_decode_and_record_the_encoding(tmp_path, bom, codec, encoding):
    path = tmp_path / "windows.txt"
    path.write_bytes(bom + TEXT.replace("\n", "\r\n").encode(codec))
    doc = read_seed(path)
    assert doc.text == TEXT
    assert doc.meta["encoding"] == encoding
    raw = path.read_bytes().decode(codec)  # the BOM decodes to U+FEFF at raw offset 0
    assert raw[0] == "\ufeff"
    for i, ch in enumerate(doc.text):
        assert raw[raw_offset(doc.meta["offset_map"], i)] == (ch if ch != "\n" else "\r")


def test_plain_utf8_records_its_encoding(tmp_path):
    path = tmp_path / "plain.txt"
    path.write_text(TEXT, encoding="utf-8")
    assert read_seed(path).meta["encoding"] == "utf-8"


@pytest.mark.parametrize("raw", [TEXT.replace("\n", "\r\n"), TEXT.replace("\n", "\r"), TEXT.replace("\n", "\n\r\n")])
def test_crlf_and_lone_cr_line_endings(tmp_path, raw):
    path = tmp_path / "endings.txt"
    path.write_bytes(raw.encode("utf-8"))
    doc = read_seed(path)
    assert doc.text in (TEXT, TEXT.replace("\n", "\n\n"))
    assert "\r" not in doc.text
    assert [doc.text[s:e] for s, e in doc.meta["sentences"]] == [
        "India and the U.S. signed a critical minerals agreement.",
        "The deal covers lithium.",
    ]


def test_nbsp_zero_width_and_bidi_controls(tmp_path):
    raw = "India\u00a0and the U.S. signed a crit\u200bical min\u00aderals agree\u202ement\u202c.\u2066\u2069"
    path = tmp_path / "invisible.txt"
    path.write_text(raw, encoding="utf-8")
    doc = read_seed(path)
    assert doc.text == "India and the U.S. signed a critical minerals agreement."
    for i, ch in enumerate(doc.text):  # every kept character still traces to the raw file
        assert raw[raw_offset(doc.meta["offset_map"], i)] in (ch, "\u00a0")


def test_five_megabyte_document(tmp_path):
    sentence = "India and the U.S. signed a critical minerals agreement on lithium and cobalt. "
    path = tmp_path / "huge.txt"
    n = 5_000_000 // (len(sentence) * 8 + 2) + 1
    path.write_text((sentence * 8 + "\n\n") * n, encoding="utf-8")
    assert path.stat().st_size >= 5_000_000
    doc = read_seed(path)
    assert len(doc.meta["paragraphs"]) == n
    assert len(doc.text) == path.stat().st_size - n - 2  # each paragraph's final space, the last blank line
    assert len(doc.meta["sentences"]) == 8 * n


def test_file_name_with_spaces_and_non_ascii(capsys, seeds, tmp_path):
    (seeds / "Ünïcode news 2026.txt").write_text(TEXT, encoding="utf-8")
    out = tmp_path / "documents.jsonl"
    assert main(["corpus", "build", "--seeds", str(seeds), "--articles", "", "--heldout", "", "--out", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["good", "Ünïcode news 2026"]
    assert rows[1]["file"] == "Ünïcode news 2026.txt"


@pytest.mark.parametrize(
    "first, second",
    [
        ("Café.txt", unicodedata.normalize("NFD", "Café.txt")),  # NFC vs NFD (macOS) spelling
        ("Report.txt", "report.txt"),  # one file on case-insensitive file systems
    ],
)
def test_stems_that_collide_after_normalisation(capsys, seeds, tmp_path, first, second):
    (seeds / first).write_text(TEXT, encoding="utf-8")
    (seeds / second).write_text(TEXT + " Again.", encoding="utf-8")
    line, out = _build(capsys, seeds, tmp_path)
    assert "give the same document id" in line and "rename one of the files" in line
    assert repr(first) in line or repr(second) in line
    assert not out.exists()


def test_document_ids_are_nfc(tmp_path):
    path = tmp_path / unicodedata.normalize("NFD", "Café.txt")
    path.write_text(TEXT, encoding="utf-8")
    assert read_seed(path).id == "Café"


def test_seed_changed_after_annotation_is_reported_stale_never_shifted(capsys, tmp_path):
    from tradeie.document import Document, make_entity, text_sha256
    from tradeie.labelstudio.format import to_tasks

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "doc1.txt").write_text(TEXT, encoding="utf-8")
    corpus = tmp_path / "documents.jsonl"
    [doc] = build_corpus(seeds, corpus)
    gold = tmp_path / "gold"
    gold.mkdir()
    annotated = Document(doc.id, doc.text, (make_entity(doc.text, 0, 5, "ACTOR", "e1"),))
    (gold / "doc1.json").write_text(json.dumps(to_tasks([annotated])), encoding="utf-8")
    assert main(["annotations", "validate", str(gold), "--corpus", str(corpus)]) == 0
    (seeds / "doc1.txt").write_text("Breaking: " + TEXT, encoding="utf-8")  # edited after annotation
    [edited] = build_corpus(seeds, corpus)
    capsys.readouterr()
    assert main(["annotations", "validate", str(gold), "--corpus", str(corpus)]) == 2
    stale = (
        f"document doc1: annotated on a different text than the corpus (annotation text hash "
        f"{text_sha256(doc.text)[:12]} vs corpus {text_sha256(edited.text)[:12]}; first difference at offset 0: "
        f"{doc.text[:20]!r} vs {edited.text[:20]!r}): stale annotations (fix: re-annotate it, or rebuild the "
        "corpus from the same seeds; spans are never shifted silently)"
    )
    out = capsys.readouterr().out.splitlines()
    assert [line for line in out if line.startswith("error: ")] == [
        f"error: {gold / 'doc1.json'}: task 0 (doc1): {stale.removeprefix('document doc1: ')}"
    ]
    line = cli_error(capsys, ["dataset", "build", "--gold", gold, "--corpus", corpus, "--out", tmp_path / "ds"])
    assert line == f"tradeie: error: {gold}: {stale}"
    assert not (tmp_path / "ds").exists()


def test_interrupted_corpus_build_leaves_the_old_corpus(seeds, tmp_path, monkeypatch):
    import tradeie.corpus as corpus_module

    out = tmp_path / "documents.jsonl"
    build_corpus(seeds, out)
    before = out.read_bytes()
    (seeds / "second.txt").write_text(TEXT, encoding="utf-8")

    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(corpus_module, "near_duplicate_groups", boom)
    with pytest.raises(KeyboardInterrupt):
        build_corpus(seeds, out)
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["documents.jsonl", "seeds"]
