"""NER units on the tiny tokenizer: sub-word alignment, windows with stride, merging, decoding."""

from __future__ import annotations

import numpy as np
import pytest

from tradeie.document import Document
from tradeie.schema import BIO_TAGS
from tradeie.text.tokens import Token, tokenize
from tradeie.training.ner import (
    LABEL2ID,
    NERSettings,
    NERTagger,
    decode_entities,
    encode_words,
    first_subword_mask,
    published_rows,
    tagged_tokens,
    viterbi_decode,
    window_features,
    window_spans,
)


def test_document_rows_are_the_published_rows(toy_docs):
    from tradeie.data.dataset import ner_rows
    from tradeie.text.tokens import bio_tags

    doc = toy_docs[0]
    rows = published_rows([doc])
    assert rows == ner_rows(doc, 0)
    pairs = tagged_tokens(rows)
    assert [tags for _, tags in pairs] == [bio_tags(toks, doc.entities, doc.id) for toks, _ in pairs]
    assert [[(t.text, t.start, t.end) for t in toks] for toks, _ in pairs] == [
        list(zip(r["tokens"], r["token_starts"], r["token_ends"])) for r in rows
    ]
    assert sum(tag.startswith("B-") for _, tags in pairs for tag in tags) == len(doc.entities)


def test_first_subtoken_gets_label_others_ignored(tiny_tokenizer):
    words = ["Indiaxyz", "cut", "tariffs"]  # "indiaxyz" -> india ##x ##y ##z
    tags = ["B-ACTOR", "O", "B-TARIFF"]
    toks = [Token(w, 0, len(w)) for w in words]
    [feat] = window_features(tiny_tokenizer, [(toks, tags)], max_length=64, stride=8)
    subwords = tiny_tokenizer.convert_ids_to_tokens(feat["input_ids"])
    assert subwords[:4] == ["[CLS]", "india", "##x", "##y"] and subwords[-1] == "[SEP]"
    labels = feat["labels"]
    assert labels[0] == labels[-1] == -100
    assert labels[1] == LABEL2ID["B-ACTOR"] and labels[2:5] == [-100, -100, -100]
    assert [lab for lab in labels if lab != -100] == [LABEL2ID[t] for t in tags]


def test_label_all_subtokens_uses_inside_tags(tiny_tokenizer):
    toks = [Token("Indiaxy", 0, 7)]
    [feat] = window_features(tiny_tokenizer, [(toks, ["B-ACTOR"])], 64, 8, label_all_subtokens=True)
    assert feat["labels"][1:-1] == [LABEL2ID["B-ACTOR"], LABEL2ID["I-ACTOR"], LABEL2ID["I-ACTOR"]]


def test_window_spans_short_and_long():
    assert window_spans([0, 1, 2], size=10, stride=2) == [(0, 3)]
    word_ids = [i // 2 for i in range(50)]  # 25 words of two sub-words each
    spans = window_spans(word_ids, size=12, stride=4)
    assert len(spans) > 1 and spans[0][0] == 0 and spans[-1][1] == 50
    for (a0, b0), (a1, b1) in zip(spans, spans[1:]):
        assert b0 - a1 >= 4  # overlap of at least `stride`
        assert a1 > a0 and b1 - a1 <= 12
        assert word_ids[a1] != word_ids[a1 - 1]  # later windows start on a word's first sub-word
    assert all(b - a <= 12 for a, b in spans)


def test_long_row_becomes_overlapping_windows_covering_every_word(tiny_tokenizer):
    words = ("india cut tariffs on goods from china and japan " * 12).split()
    toks, pos = [], 0
    for w in words:
        toks.append(Token(w, pos, pos + len(w)))
        pos += len(w) + 1
    tags = ["B-ACTOR" if w in ("india", "china", "japan") else "B-TARIFF" if w == "tariffs" else "O" for w in words]
    feats = window_features(tiny_tokenizer, [(toks, tags)], max_length=24, stride=6)
    assert len(feats) > 3
    assert all(len(f["input_ids"]) <= 24 for f in feats)
    labelled = sum(sum(lab != -100 for lab in f["labels"]) for f in feats)
    assert labelled > len(words)  # words in the overlaps are labelled in both windows
    [(ids, wids)] = encode_words(tiny_tokenizer, [words])
    assert sum(first_subword_mask(wids)) == len(words)


class KeywordModel:
    """A stand-in token classifier: B-ACTOR on the sub-word 'india', B-TARIFF on 'tariffs', else O.

    It records every window it sees, so tests can check batching and lengths.
    """

    def __init__(self, tokenizer):
        import torch

        self.torch = torch
        self.india = tokenizer.convert_tokens_to_ids("india")
        self.tariffs = tokenizer.convert_tokens_to_ids("tariffs")
        self.config = type("C", (), {"id2label": dict(enumerate(BIO_TAGS))})()
        self.calls: list[tuple[int, int]] = []
        self._param = torch.zeros(1)

    def parameters(self):
        yield self._param

    def __call__(self, input_ids, attention_mask):
        torch = self.torch
        assert not torch.is_grad_enabled()  # inference mode
        self.calls.append(tuple(input_ids.shape))
        logits = torch.zeros(*input_ids.shape, len(BIO_TAGS))
        logits[..., LABEL2ID["O"]] = 2.0
        logits[input_ids == self.india, LABEL2ID["B-ACTOR"]] = 5.0
        logits[input_ids == self.tariffs, LABEL2ID["B-TARIFF"]] = 5.0
        return type("Out", (), {"logits": logits})()


def test_long_document_windows_merge_back_to_char_offsets(tiny_tokenizer):
    # no sentence punctuation: one huge "sentence" that needs many windows
    text = " ".join(["India raised tariffs while officials met"] * 40)
    doc = Document("long", text, meta={"sentences": [[0, len(text)]]})
    model = KeywordModel(tiny_tokenizer)
    tagger = NERTagger(model, tiny_tokenizer, NERSettings(max_length=32, stride=8, batch_size=4))
    [pred] = tagger.predict([doc])
    assert len(model.calls) >= 5 and model.calls[0][0] == 4  # many windows, in batches of 4
    assert all(shape[1] <= 32 for shape in model.calls)
    starts = [i for i in range(len(text)) if text.startswith("India", i)]
    actors = [e for e in pred.entities if e.label == "ACTOR"]
    assert [(e.start, e.end) for e in actors] == [(s, s + 5) for s in starts]
    assert all(e.text == text[e.start : e.end] for e in pred.entities)
    assert sum(e.label == "TARIFF" for e in pred.entities) == 40
    assert [e.id for e in pred.entities] == [f"e{i}" for i in range(1, 81)]


def test_prediction_batches_sorted_by_length(tiny_tokenizer):
    docs = [Document(f"d{i}", ("India cut tariffs. " * (i + 1)).strip()) for i in (5, 0, 3)]
    model = KeywordModel(tiny_tokenizer)
    NERTagger(model, tiny_tokenizer, NERSettings(max_length=64, stride=8, batch_size=2)).predict(docs)
    widths = [shape[1] for shape in model.calls]
    assert widths == sorted(widths)


def test_viterbi_forbids_inside_after_outside():
    labels = list(BIO_TAGS)
    probs = np.full((3, len(labels)), 0.01)
    probs[0, LABEL2ID["O"]] = 0.9
    probs[1, LABEL2ID["I-ACTOR"]] = 0.6  # stray I- after O
    probs[1, LABEL2ID["B-ACTOR"]] = 0.3
    probs[2, LABEL2ID["I-ACTOR"]] = 0.9
    path = [labels[i] for i in viterbi_decode(probs, labels)]
    assert path == ["O", "B-ACTOR", "I-ACTOR"]
    assert [labels[i] for i in probs.argmax(1)] == ["O", "I-ACTOR", "I-ACTOR"]


def test_viterbi_never_starts_with_inside_or_switches_type():
    labels = list(BIO_TAGS)
    probs = np.full((2, len(labels)), 0.01)
    probs[0, LABEL2ID["I-TARIFF"]] = 0.9
    probs[0, LABEL2ID["B-TARIFF"]] = 0.05
    probs[1, LABEL2ID["I-AGREEMENT"]] = 0.9
    probs[1, LABEL2ID["I-TARIFF"]] = 0.05
    path = [labels[i] for i in viterbi_decode(probs, labels)]
    # I-TARIFF cannot start, I-AGREEMENT cannot follow a TARIFF tag: the best valid path wins
    assert path == ["B-AGREEMENT", "I-AGREEMENT"]
    probs[1, LABEL2ID["I-AGREEMENT"]] = 0.01
    probs[1, LABEL2ID["O"]] = 0.2
    assert [labels[i] for i in viterbi_decode(probs, labels)] == ["B-TARIFF", "O"]


def test_decode_entities_offsets_and_scores(marked_doc):
    doc = marked_doc("d", "The [US|ACTOR|a] cut [reciprocal tariffs|TARIFF|b] .")
    toks = tokenize(doc.text)
    labels = list(BIO_TAGS)
    probs = np.full((len(toks), len(labels)), 0.0)
    tags = ["O", "B-ACTOR", "O", "B-TARIFF", "I-TARIFF", "O"]
    for i, tag in enumerate(tags):
        probs[i, LABEL2ID[tag]] = 0.8
        probs[i, LABEL2ID["O"] if tag != "O" else LABEL2ID["B-ACTOR"]] = 0.2
    for constrained in (True, False):
        spans = decode_entities(doc, toks, probs, labels, constrained)
        assert [(s, e, label) for s, e, label, _ in spans] == [e.key for e in doc.entities]
        assert all(score == pytest.approx(0.8) for *_, score in spans)


def test_unconstrained_decoding_keeps_stray_inside_as_span():
    doc = Document("d", "US cut tariffs")
    toks = tokenize(doc.text)
    labels = list(BIO_TAGS)
    probs = np.full((3, len(labels)), 0.01)
    probs[0, LABEL2ID["O"]] = 0.9
    probs[1, LABEL2ID["O"]] = 0.9
    probs[2, LABEL2ID["I-TARIFF"]] = 0.9
    probs[2, LABEL2ID["O"]] = 0.5
    assert [s[:3] for s in decode_entities(doc, toks, probs, labels, False)] == [(7, 14, "TARIFF")]
    assert decode_entities(doc, toks, probs, labels, True) == []


class EchoModel:
    """Logits that echo each input: a sequence classifier scoring [first id, length], or per token [id, 0]."""

    def __init__(self, per_token: bool):
        import torch

        self.torch, self.per_token = torch, per_token
        self._param = torch.zeros(1)
        self.batches: list[tuple[list[list[int]], dict]] = []

    def parameters(self):
        yield self._param

    def __call__(self, input_ids, attention_mask, **extra):
        torch = self.torch
        assert not torch.is_grad_enabled() and torch.is_inference_mode_enabled()
        self.batches.append((input_ids.tolist(), {k: v.tolist() for k, v in extra.items()}))
        if self.per_token:
            logits = torch.stack([input_ids.float(), torch.zeros_like(input_ids, dtype=torch.float)], -1)
        else:
            logits = torch.stack([input_ids[:, 0].float(), attention_mask.sum(1).float()], -1)
        return type("Out", (), {"logits": logits})()


def test_batched_probs_sorts_by_length_pads_and_returns_indices():
    from tradeie.training.common import batched_probs

    inputs = [[1, 2, 3], [4], [5, 6], [7]]
    model = EchoModel(per_token=False)
    out = list(batched_probs(model, inputs, pad_id=0, batch_size=2))
    assert [batch for batch, _ in out] == [[1, 3], [2, 0]]  # shortest first, stable
    assert [ids for ids, _ in model.batches] == [[[4], [7]], [[5, 6, 0], [1, 2, 3]]]
    assert out[1][1].shape == (2, 2)
    expected = np.exp([[5.0, 2.0], [1.0, 3.0]])
    np.testing.assert_allclose(out[1][1], expected / expected.sum(1, keepdims=True), rtol=1e-6)
    # a token classifier: [batch, width, labels], padding after each input; extra inputs reach the model
    model = EchoModel(per_token=True)

    def extra(batch, width):
        import torch

        return {"feature_ids": torch.tensor([[i] * width for i in batch])}

    [(batch, probs)] = list(batched_probs(model, [[2, 1], [3]], pad_id=9, batch_size=8, extra_inputs=extra))
    assert batch == [1, 0] and probs.shape == (2, 2, 2)
    assert model.batches == [([[3, 9], [2, 1]], {"feature_ids": [[1, 1], [0, 0]]})]
    assert list(batched_probs(model, [], pad_id=0, batch_size=2)) == []
