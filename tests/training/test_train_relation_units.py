"""RE units: marker tokens, cropping long contexts, type-constrained decoding, negative sampling."""

from __future__ import annotations

import numpy as np
import pytest

from tradeie.data.relcands import candidate_pairs, marked_text, marker_tokens
from tradeie.schema import NO_RELATION, RELATION_CLASSES, allowed_relation
from tradeie.training.relation import (
    LABEL2ID,
    RelationClassifier,
    RESettings,
    add_marker_tokens,
    allowed_mask,
    decode_relation,
    downsample_negatives,
    encode_candidate,
)


@pytest.fixture
def marker_tokenizer(tiny_model):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model)
    assert add_marker_tokens(tok) == len(marker_tokens())
    return tok


def test_markers_are_single_special_tokens(marker_tokenizer, marked_doc):
    doc = marked_doc("d", "[India|ACTOR|a] signed the [trade deal|AGREEMENT|b] .", [("a", "b", "party_to")])
    [cand] = [c for c in candidate_pairs(doc) if c.head.id == "a"]
    text = marked_text(doc.text, cand)
    assert text == "[H:ACTOR] India [/H] signed the [T:AGREEMENT] trade deal [/T] ."
    ids = encode_candidate(marker_tokenizer, doc.text, cand, 64)
    pieces = marker_tokenizer.convert_ids_to_tokens(ids)
    assert pieces[0] == "[CLS]" and pieces[-1] == "[SEP]"
    for marker in ("[H:ACTOR]", "[/H]", "[T:AGREEMENT]", "[/T]"):
        assert pieces.count(marker) == 1
    assert pieces.index("[H:ACTOR]") < pieces.index("india") < pieces.index("[/H]")
    # markers survive a save/load round trip as special tokens
    assert set(marker_tokens()) <= set(marker_tokenizer.all_special_tokens)


def test_long_context_is_cropped_around_markers(marker_tokenizer, marked_doc):
    filler = "officials met for talks in the capital " * 20
    doc = marked_doc("d", f"{filler}[India|ACTOR|a] signed the [trade deal|AGREEMENT|b] {filler}.")
    doc = doc.__class__(doc.id, doc.text, doc.entities, doc.relations, {"sentences": [[0, len(doc.text)]]})
    [cand] = [c for c in candidate_pairs(doc) if c.head.id == "a"]
    ids = encode_candidate(marker_tokenizer, doc.text, cand, 40)
    assert len(ids) == 40
    pieces = marker_tokenizer.convert_ids_to_tokens(ids)
    assert all(m in pieces for m in ("[H:ACTOR]", "[/H]", "[T:AGREEMENT]", "[/T]"))


def test_pair_too_far_apart_is_not_encoded(marker_tokenizer, marked_doc):
    filler = "officials met for talks in the capital " * 10
    doc = marked_doc("d", f"[India|ACTOR|a] {filler} signed the [trade deal|AGREEMENT|b] .")
    doc = doc.__class__(doc.id, doc.text, doc.entities, doc.relations, {"sentences": [[0, len(doc.text)]]})
    [cand] = [c for c in candidate_pairs(doc) if c.head.id == "a"]
    assert encode_candidate(marker_tokenizer, doc.text, cand, 16) is None


def test_type_constraints_in_decoding(marked_doc):
    doc = marked_doc("d", "[India|ACTOR|a] cut [tariffs|TARIFF|t] in the [deal|AGREEMENT|g] .")
    cands = {(c.head.id, c.tail.id): c for c in candidate_pairs(doc)}
    assert ("g", "a") not in cands and ("a", "a") not in cands  # AGREEMENT->ACTOR is never a candidate
    probs = np.zeros(len(RELATION_CLASSES))
    probs[LABEL2ID["imposes"]] = 0.7
    probs[LABEL2ID["party_to"]] = 0.2
    probs[LABEL2ID[NO_RELATION]] = 0.1
    # ACTOR -> AGREEMENT may only be party_to: "imposes" is masked out
    assert decode_relation(probs, allowed_mask(cands[("a", "g")]))[0] == "party_to"
    assert decode_relation(probs, allowed_mask(cands[("a", "t")]))[0] == "imposes"
    # TARIFF -> ACTOR allows only targets: the best allowed label here is no_relation
    assert decode_relation(probs, allowed_mask(cands[("t", "a")]))[0] == NO_RELATION
    # threshold: a relation below it becomes no_relation
    assert decode_relation(probs, allowed_mask(cands[("a", "t")]), threshold=0.8)[0] == NO_RELATION
    for cand in cands.values():
        mask = allowed_mask(cand)
        for label, ok in zip(RELATION_CLASSES, mask):
            assert ok == (label == NO_RELATION or allowed_relation(label, cand.head.label, cand.tail.label))


class ConstantModel:
    """A stand-in classifier that always prefers 'imposes', then 'party_to'."""

    def __init__(self):
        import torch

        self.torch = torch
        self._param = torch.zeros(1)
        self.widths = []

    def parameters(self):
        yield self._param

    def __call__(self, input_ids, attention_mask):
        assert not self.torch.is_grad_enabled()
        self.widths.append(input_ids.shape[1])
        logits = self.torch.zeros(input_ids.shape[0], len(RELATION_CLASSES))
        logits[:, LABEL2ID["imposes"]] = 3.0
        logits[:, LABEL2ID["party_to"]] = 2.0
        return type("Out", (), {"logits": logits})()


def test_classifier_only_emits_allowed_relations_between_given_entities(marker_tokenizer, marked_doc):
    doc = marked_doc("d", "[India|ACTOR|a] and [Japan|ACTOR|j] cut [tariffs|TARIFF|t] in the [deal|AGREEMENT|g] .")
    model = ConstantModel()
    clf = RelationClassifier(model, marker_tokenizer, RESettings(window=1, max_length=64, batch_size=2))
    [pred] = clf.predict([doc])
    ents = pred.entity_index()
    assert pred.entities == doc.entities
    assert pred.relations, "expected relations"
    for rel in pred.relations:
        assert allowed_relation(rel.label, ents[rel.head].label, ents[rel.tail].label)
        assert 0 < rel.score <= 1
    assert {(r.head, r.tail, r.label) for r in pred.relations} == {
        ("a", "t", "imposes"),
        ("j", "t", "imposes"),
        ("a", "g", "party_to"),
        ("j", "g", "party_to"),
    }
    assert model.widths == sorted(model.widths)  # batches sorted by length
    # with other entities (e.g. predicted ones, without ids) relations link those entities
    subset = [e.__class__(e.start, e.end, e.label) for e in doc.entities if e.id in ("a", "g")]
    [pred2] = clf.predict([doc], [subset])
    assert [(r.head, r.tail, r.label) for r in pred2.relations] == [("e1", "e2", "party_to")]
    assert [e.id for e in pred2.entities] == ["e1", "e2"]


def test_downsample_negatives(toy_docs):
    cands = [c for d in toy_docs for c in candidate_pairs(d)]
    feats = [{"labels": LABEL2ID[c.label]} for c in cands]
    pos = sum(c.label != NO_RELATION for c in cands)
    neg = len(cands) - pos
    assert pos > 0 and neg > round(0.1 * pos) > 0
    kept_feats, kept = downsample_negatives(feats, cands, 0.1, seed=1)
    assert sum(c.label != NO_RELATION for c in kept) == pos
    assert sum(c.label == NO_RELATION for c in kept) == round(0.1 * pos)
    assert [f["labels"] for f in kept_feats] == [LABEL2ID[c.label] for c in kept]
    assert downsample_negatives(feats, cands, 0.1, seed=1)[1] == kept  # deterministic
    assert downsample_negatives(feats, cands, 0.0, seed=1)[1] == cands  # 0 keeps everything
    assert downsample_negatives(feats, cands, 100.0, seed=1)[1] == cands  # more than available


def _eval_pred(logits, gold):
    from transformers import EvalPrediction

    return EvalPrediction(predictions=np.array(logits, dtype=float), label_ids=np.array(gold))


def test_pair_metrics_decode_with_the_type_constraints(marked_doc):
    from tradeie.training.relation import _pair_metrics

    doc = marked_doc("d", "[India|ACTOR|a] cut [tariffs|TARIFF|t] in the [deal|AGREEMENT|g] .")
    cands = {(c.head.id, c.tail.id): c for c in candidate_pairs(doc)}
    pairs = [cands[("a", "g")], cands[("a", "t")]]
    imposes = [0.0] * len(RELATION_CLASSES)
    imposes[LABEL2ID["imposes"]], imposes[LABEL2ID["party_to"]] = 3.0, 2.0
    gold = [LABEL2ID["party_to"], LABEL2ID["imposes"]]
    # "imposes" is not allowed ACTOR -> AGREEMENT: the first pair decodes to party_to, so both are right
    metrics = _pair_metrics([allowed_mask(c) for c in pairs])(_eval_pred([imposes, imposes], gold))
    assert metrics == {"f1": 1.0, "accuracy": 1.0, "selection": 1.001}


def test_pair_metrics_refuse_predictions_that_do_not_match_the_masks(marked_doc):
    """Never decode without the type constraints: a count mismatch is an internal error, not a zip that drops pairs."""
    from tradeie.training.relation import _pair_metrics

    doc = marked_doc("d", "[India|ACTOR|a] cut [tariffs|TARIFF|t] in the [deal|AGREEMENT|g] .")
    masks = [allowed_mask(c) for c in candidate_pairs(doc)]
    assert len(masks) == 4
    compute = _pair_metrics(masks)
    row = [0.0] * len(RELATION_CLASSES)
    with pytest.raises(RuntimeError) as info:
        compute(_eval_pred([row] * 3, [0] * 3))
    assert str(info.value) == (
        "relation evaluation: 3 predictions for 4 candidate pairs "
        "(the type masks must match the evaluation pairs one to one)"
    )
    with pytest.raises(RuntimeError, match="5 predictions for 4 candidate pairs"):
        compute(_eval_pred([row] * 5, [0] * 5))
    assert compute(_eval_pred([row] * 4, [0] * 4))["f1"] == 0.0


def test_relation_rows_become_the_candidates_they_describe(toy_docs, marker_tokenizer):
    from tradeie.training.relation import pair_examples, published_pairs, row_candidate

    doc = toy_docs[0]
    rows = published_pairs([doc], 0)
    cands = candidate_pairs(doc)
    assert [row_candidate(r) for r in rows] == cands
    assert [(c.head.id, c.tail.id, c.head.text) for c in map(row_candidate, rows)] == [
        (c.head.id, c.tail.id, c.head.text) for c in cands
    ]
    feats, kept, skipped = pair_examples(marker_tokenizer, rows, 96)
    assert skipped == 0 and kept == cands
    assert [f["input_ids"] for f in feats] == [encode_candidate(marker_tokenizer, doc.text, c, 96) for c in cands]
    assert [f["labels"] for f in feats] == [LABEL2ID[c.label] for c in cands]
