"""The fast paths behind the benchmarks give exactly what the straightforward code gives.

Corpus normalisation (whole-run fast path vs character by character), one-pass
segmentation and shingles, the token view split at entity cuts, the streamed
corpus build and its file-backed documents, the dataset build from a file,
the cached content fingerprint, sub-word lengths from a per-word cache, and the
NER tagger's batched probabilities and decoding, each against a reference.
"""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from tradeie.document import Document, Entity

ALPHABET = list("ab XZ.,-'\"9%()!?") + [
    " ",
    "  ",
    "\t",
    "\n",
    "\n\n",
    "\r\n",
    "\r",
    "\u00a0",
    "\u2003",
    "\u3000",
    "\u2028",
    "\x0b",
    "\x85",
    "\x1c",
    "\u200b",
    "\ufeff",
    "\u00ad",
    "\u202a",
    "\u200d",
    "\u0301",
    "e\u0301",
    "\u00e9",
    "\u1100\u1161",
    "\u2019",
    "\u2014",
    "U.S.",
    "U.S.-India",
    "can't",
    "18%",
    "Mr.",
    "...",
    "ANI",
    " date 2026-01-02 ",
    "\U0001f600",
]


def random_texts(n: int, seed: int, max_len: int = 30) -> list[str]:
    rng = random.Random(seed)
    texts = ["".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, max_len))) for _ in range(n)]
    return texts + ["\ufeff date 2026-03-13 Hello  world.\r\n\r\nSecond para.\n\nPTI\n", "Plain text. Two sentences!"]


def test_normalise_fast_path_equals_character_by_character():
    from tradeie.corpus import _normalise_slow, normalise

    for raw in random_texts(4000, seed=1):
        assert normalise(raw) == _normalise_slow(raw), repr(raw)


def _reference_segment(text):
    from tradeie.corpus import paragraph_spans
    from tradeie.text.tokens import sentence_spans

    return [s for p0, p1 in paragraph_spans(text) for s in sentence_spans(text[p0:p1], offset=p0)]


def _reference_shingles(text, size=5):
    from tradeie.text.tokens import tokenize

    words = [t.text.lower() for t in tokenize(text) if any(c.isalnum() for c in t.text)]
    return {tuple(words[i : i + size]) for i in range(max(len(words) - size + 1, 1))}


def test_one_pass_segmentation_and_shingles_equal_the_spacy_pipeline():
    from tradeie.corpus import segment, shingles

    for text in random_texts(1500, seed=2, max_len=60):
        assert segment(text) == _reference_segment(text), repr(text)
        assert shingles(text) == _reference_shingles(text), repr(text)


def test_document_tokens_equal_sentence_tokens_split_at_entity_cuts():
    from tradeie.corpus import document_tokens, sentences_of
    from tradeie.text.tokens import entity_cuts, sentence_tokens

    rng = random.Random(3)
    for text in random_texts(1500, seed=3, max_len=50):
        cuts = sorted(rng.sample(range(len(text) + 1), min(len(text) + 1, rng.randint(0, 8))))
        ents = tuple(
            Entity(a, b, "ACTOR", f"T{i}", text[a:b]) for i, (a, b) in enumerate(zip(cuts[::2], cuts[1::2])) if a < b
        )
        doc = Document("x", text, ents)
        expected = sentence_tokens(text, sentences_of(doc), entity_cuts(ents))
        assert document_tokens(doc) == expected, (text, cuts)


SEED_TEXTS = {
    "a": "India and the United States signed a framework agreement on critical minerals on Tuesday.\n\n"
    "Officials said the deal cuts tariffs to 18% on U.S. goods.",
    "b": "\ufeff date 2026-01-02 The European Union imposed a provisional duty of 17 percent.\r\n\r\nANI\n",
    "c": "India and the United States signed a framework agreement on critical minerals on Wednesday.\n\n"
    "Officials said the deal cuts tariffs to 18% on U.S. goods.",
}


@pytest.fixture
def seeds(tmp_path):
    folder = tmp_path / "seeds"
    folder.mkdir()
    for name, text in SEED_TEXTS.items():
        (folder / f"{name}.txt").write_text(text, encoding="utf-8")
    return folder


def test_streamed_corpus_build_writes_the_rows_of_its_documents_and_returns_a_snapshot(seeds, tmp_path):
    from tradeie.corpus import DocumentsFile, build_corpus, read_seed
    from tradeie.io.jsonl import documents_jsonl

    out = tmp_path / "documents.jsonl"
    docs = build_corpus(seeds, out)
    assert isinstance(docs, DocumentsFile) and len(docs) == 3
    assert out.read_text(encoding="utf-8") == documents_jsonl(list(docs), "corpus")
    assert [d.text for d in docs] == [read_seed(p).text for p in sorted(seeds.glob("*.txt"))]
    assert docs[0].meta["near_duplicate_group"] == docs[2].meta["near_duplicate_group"] == "a"
    assert docs[-1].id == "c" and [d.id for d in docs[1:]] == ["b", "c"]
    before = [d.to_dict() for d in docs]
    (seeds / "b.txt").unlink()
    build_corpus(seeds, out)  # replaces the file; the first result still reads what it was given
    assert [d.to_dict() for d in docs] == before
    assert len(DocumentsFile(out)) == 2


def _annotated(corpus_docs):
    out = []
    for doc in corpus_docs:
        start = doc.text.index("India") if "India" in doc.text else doc.text.index("European Union")
        end = start + (5 if doc.text[start:].startswith("India") else 14)
        out.append(Document(doc.id, doc.text, (Entity(start, end, "ACTOR", "T1", doc.text[start:end]),), (), doc.meta))
    return out


def test_dataset_from_a_documents_file_equals_the_list_build(seeds, tmp_path):
    from tradeie.corpus import DocumentsFile, build_corpus
    from tradeie.data import dataset as ds

    docs = _annotated(build_corpus(seeds, tmp_path / "documents.jsonl"))
    path = tmp_path / "annotated.jsonl"
    path.write_text("".join(json.dumps(d.to_dict(), ensure_ascii=False) + "\n" for d in reversed(docs)))
    ratios = (0.34, 0.33, 0.33)
    from_list = ds.build_dataset(docs, ratios=ratios)
    cached = ds.content_fingerprint(from_list)
    ds._PART_DIGESTS.clear()  # the same value recomputed from the rows
    assert ds.content_fingerprint(from_list) == cached
    from_file = ds.build_dataset(DocumentsFile(path), ratios=ratios)
    assert ds.content_fingerprint(from_file) == cached
    for config in ds.CONFIG_NAMES:
        for split in from_list[config]:
            assert from_file[config][split].to_list() == from_list[config][split].to_list()


def test_subword_lengths_from_the_word_cache_equal_the_tokenizer(tiny_model):
    import pyarrow as pa
    from transformers import AutoTokenizer

    from tradeie.data.dataset import _subword_lengths, _WordPieces

    tok = AutoTokenizer.from_pretrained(tiny_model)
    rows = [t.split(" ") for t in random_texts(300, seed=4, max_len=20) if t.strip()]
    rows = [[w for w in r if w] or ["x"] for r in rows]
    pieces = _WordPieces(tok)
    column = pa.array(rows, type=pa.list_(pa.string()))
    assert pieces.lengths(column.slice(7)).tolist() == _subword_lengths(tok, rows[7:], split_words=True)
    texts = random_texts(300, seed=5, max_len=20)
    assert pieces.text_lengths(texts) == _subword_lengths(tok, texts, split_words=False)


LABELS = ["O", "B-ACTOR", "I-ACTOR", "B-AGREEMENT", "I-AGREEMENT", "B-TARIFF", "I-TARIFF"]


def test_batched_viterbi_and_decoding_equal_the_per_row_functions():
    from tradeie.text.tokens import Token
    from tradeie.training.ner import decode_entities, decode_rows, viterbi_decode, viterbi_rows

    rng = np.random.default_rng(0)
    lengths = [int(x) for x in rng.integers(0, 30, size=200)]
    rows = [[Token(f"w{i}", 3 * i, 3 * i + 2) for i in range(n)] for n in lengths]
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    probs = rng.dirichlet(np.full(len(LABELS), 0.3), size=int(offsets[-1]))
    paths = viterbi_rows(probs, offsets, LABELS)
    for constrained in (True, False):
        decoded = decode_rows(rows, probs, offsets, LABELS, constrained)
        for r, toks in enumerate(rows):
            p = probs[offsets[r] : offsets[r + 1]]
            if constrained:
                assert paths[offsets[r] : offsets[r + 1]].tolist() == viterbi_decode(p, LABELS)
            assert decoded[r] == decode_entities(Document("d", ""), toks, p, LABELS, constrained)


def _reference_predict(tagger, docs):
    """The tagger as it was: one window at a time into per-row sums, then decode_entities per row."""
    import torch

    from tradeie.corpus import document_tokens
    from tradeie.training.ner import decode_entities, encode_words, first_subword_mask, window_spans

    units = [(d, toks) for d, doc in enumerate(docs) for toks in document_tokens(doc) if toks]
    rows = [toks for _, toks in units]
    encoded = encode_words(tagger.tokenizer, [[t.text for t in toks] for toks in rows])
    cls, sep = tagger.tokenizer.cls_token_id, tagger.tokenizer.sep_token_id
    sums = [np.zeros((len(toks), len(tagger.labels))) for toks in rows]
    counts = [np.zeros(len(toks)) for toks in rows]
    with torch.inference_mode():
        for r, (ids, wids) in enumerate(encoded):
            first = first_subword_mask(wids)
            for a, b in window_spans(wids, tagger.settings.max_length - 2, tagger.settings.stride):
                logits = tagger.model(input_ids=torch.tensor([[cls, *ids[a:b], sep]])).logits
                p = torch.softmax(logits.float(), -1)[0].numpy()
                for k in range(a, b):
                    if first[k]:
                        sums[r][wids[k]] += p[k - a + 1]
                        counts[r][wids[k]] += 1
    out = [[] for _ in docs]
    for (d, toks), s, c in zip(units, sums, counts):
        s[c == 0, tagger.labels.index("O")] = 1.0  # a word without sub-words (here U+200D) is O
        c[c == 0] = 1.0
        out[d] += decode_entities(docs[d], toks, s / c[:, None], tagger.labels, tagger.settings.constrained_decoding)
    return [sorted(x) for x in out]


@pytest.mark.parametrize("constrained", [True, False])
def test_tagger_prediction_equals_the_window_by_window_reference(tiny_model, constrained):
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForTokenClassification

    from tradeie.training.ner import NERSettings, NERTagger

    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    torch.manual_seed(1)
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=37,
        num_labels=len(LABELS),
        id2label=dict(enumerate(LABELS)),
        label2id={t: i for i, t in enumerate(LABELS)},
    )
    model = BertForTokenClassification(config).eval()
    with torch.no_grad():  # decisive logits: a float32 rounding difference between batch shapes cannot flip a tag
        model.classifier.weight.mul_(40.0)
    tagger = NERTagger(
        model, tokenizer, NERSettings(max_length=12, stride=4, constrained_decoding=constrained, batch_size=3)
    )
    docs = [Document(f"d{i}", text) for i, text in enumerate(random_texts(40, seed=6, max_len=40)) if text.strip()]
    got = [sorted((e.start, e.end, e.label, e.score) for e in d.entities) for d in tagger.predict(docs)]
    expected = _reference_predict(tagger, docs)
    assert len(got) == len(expected)
    for g, e in zip(got, expected):  # batching may move a probability by an ulp: same spans, scores to 1e-4
        assert [x[:3] for x in g] == [x[:3] for x in e]
        assert all(abs(x[3] - y[3]) <= 1e-4 for x, y in zip(g, e))


def test_shingle_hashes_count_the_shingles_and_give_their_exact_jaccard():
    from tradeie.corpus import _exact_jaccard, _shingle_hashes, jaccard, shingles

    texts = random_texts(300, seed=5, max_len=80) + ["one two three", "", "a b c d e f g", "a b c d e f h"]
    for a, b in zip(texts, texts[1:]):
        assert len(_shingle_hashes(a)) == len(shingles(a)), repr(a)
        assert _exact_jaccard(_shingle_hashes(a), _shingle_hashes(b)) == jaccard(shingles(a), shingles(b))


def test_vocab_budget_rebuilds_the_tokenizer_and_keeps_the_tokens():
    from tradeie.corpus import document_tokens
    from tradeie.document import Document
    from tradeie.text.tokens import VocabBudget, _nlp

    def doc(k: int) -> Document:
        return Document(id=f"d{k}", text=f"Word{k}x and tariff{k}y rose {k}.{k}% on Monday.")

    expected = [document_tokens(doc(k)) for k in range(40)]
    budget = VocabBudget(every=10)
    sizes = []
    for k in range(40):
        nlp = _nlp()
        assert document_tokens(doc(k)) == expected[k]
        sizes.append(len(nlp.vocab.strings))
        budget.tick()
        if k % 10 == 9:
            assert _nlp() is not nlp  # a fresh pipeline after every tenth document
    assert sizes[19] == sizes[39] < sizes[0] + len(expected) * 4  # the vocabulary starts again, it does not grow
