import pytest

from tradeie.document import make_entity
from tradeie.text.tokens import SpanAlignmentError, bio_tags, spans_from_bio, tokenize


def test_tokenizer_rules():
    words = [t.text for t in tokenize("The U.S. and US-India deal sets an 18% tariff.")]
    assert "U.S." in words
    assert words[words.index("US") : words.index("US") + 3] == ["US", "-", "India"]
    assert words[words.index("18") : words.index("18") + 2] == ["18", "%"]


def test_token_offsets_index_the_text():
    text = "India's  tariffs — 18%\nrise"
    for tok in tokenize(text):
        assert text[tok.start : tok.end] == tok.text


def test_bio_round_trip():
    text = "India and the United States signed a critical minerals agreement."
    toks = tokenize(text)
    ents = [
        make_entity(text, 0, 5, "ACTOR"),
        make_entity(text, 14, 27, "ACTOR"),
        make_entity(text, 37, 65, "AGREEMENT"),
    ]
    tags = bio_tags(toks, ents)
    assert tags[:5] == ["B-ACTOR", "O", "O", "B-ACTOR", "I-ACTOR"]
    assert spans_from_bio(toks, tags) == [(e.start, e.end, e.label) for e in ents]
    assert bio_tags(toks, []) == ["O"] * len(toks)


def test_misaligned_span_names_document_offsets_and_text():
    text = "US-India trade"
    with pytest.raises(SpanAlignmentError, match=r"document d1: ACTOR span \[0:4\] 'US-I'"):
        bio_tags(tokenize(text), [make_entity(text, 0, 4, "ACTOR")], "d1")


def test_stray_inside_tag_starts_a_span():
    toks = tokenize("a b c")
    assert spans_from_bio(toks, ["I-ACTOR", "I-ACTOR", "O"]) == [(0, 3, "ACTOR")]
