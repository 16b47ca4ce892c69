"""The relation classifier's inputs: list-scope pairs across sentences, pair features (dependency path,
distance, rule votes), the ``[CLS] features [SEP] marked [SEP]`` layout, and the marker-pooling model."""

from __future__ import annotations

import pytest

from tradeie.data.relcands import candidate_pairs, list_blocks, marked_text, marker_tokens, scope_pairs
from tradeie.schema import NO_RELATION
from tradeie.systems.relfeatures import (
    PairFeatures,
    dependency_path,
    mentions_between,
    pair_key,
    sentences_apart,
    words_apart,
)

LIST_DOC = (
    "[Brussels|ACTOR|b] and [Washington|ACTOR|w] signed the [Framework Agreement|AGREEMENT|fa] in August.\n"
    "Key terms of the [Framework Agreement|AGREEMENT|fa2]:\n"
    "1. The EU will eliminate its [tariffs|TARIFF|t1] on U.S. industrial goods.\n"
    "2. [Washington|ACTOR|w2] will apply a [15% tariff|TARIFF|t2] on EU goods.\n"
    "What [Washington|ACTOR|w3] charges\n"
    "- A [10 per cent duty|TARIFF|t3] applies to energy.\n"
    "Officials said more talks would follow."
)
LIST_RELATIONS = [("t1", "fa2", "part_of"), ("t2", "fa2", "part_of"), ("w2", "t2", "imposes"), ("w3", "t3", "imposes")]


@pytest.fixture
def list_doc(marked_doc):
    return marked_doc("lists", LIST_DOC, LIST_RELATIONS)


@pytest.fixture(scope="module")
def blank_pipeline(tmp_path_factory) -> str:
    """A spaCy pipeline folder without a parser: every token is its own head."""
    import spacy

    folder = tmp_path_factory.mktemp("blank-spacy") / "pipeline"
    spacy.blank("en").to_disk(folder)
    return str(folder)


# ------------------------------------------------------------------ list scope


def test_list_blocks_are_a_lead_in_line_and_the_items_under_it(list_doc):
    text = list_doc.text
    blocks = [(text[a:b], [text[x:y] for x, y in items]) for (a, b), items in list_blocks(text)]
    assert blocks == [
        (
            "Key terms of the Framework Agreement:",
            [
                "1. The EU will eliminate its tariffs on U.S. industrial goods.",
                "2. Washington will apply a 15% tariff on EU goods.",
            ],
        ),
        ("What Washington charges", ["- A 10 per cent duty applies to energy."]),
    ]


def test_scope_pairs_link_item_tariffs_to_the_lead_in_agreement_and_actor(list_doc):
    pairs = [(c.head.id, c.tail.id, c.label, c.sentence_distance) for c in scope_pairs(list_doc)]
    # part_of: item TARIFF -> lead-in AGREEMENT; imposes: lead-in ACTOR -> item TARIFF; the first line's
    # agreement and actors are no lead-in of a list, and Washington (w2) of item 2 shares t2's sentence
    assert pairs == [("t1", "fa2", "part_of", 2), ("t2", "fa2", "part_of", 4), ("w3", "t3", "imposes", 1)]
    [cand] = [c for c in scope_pairs(list_doc) if c.head.id == "t1"]
    assert marked_text(list_doc.text, cand) == (
        "Key terms of the [T:AGREEMENT] Framework Agreement [/T]:\n"
        "The EU will eliminate its [H:TARIFF] tariffs [/H] on U.S. industrial goods."
    )
    [imposes] = [c for c in scope_pairs(list_doc) if c.head.id == "w3"]
    assert marked_text(list_doc.text, imposes) == (
        "What [H:ACTOR] Washington [/H] charges\n- A [T:TARIFF] 10 per cent duty [/T] applies to energy."
    )


def test_scope_pairs_join_the_window_pairs_only_when_asked(list_doc):
    window = candidate_pairs(list_doc)
    both = candidate_pairs(list_doc, scope=True)
    assert both[: len(window)] == window and both[len(window) :] == scope_pairs(list_doc)
    assert all(c.lead is None for c in window)
    # a window that already covers a pair leaves it to candidate_pairs
    assert [(c.head.id, c.tail.id) for c in scope_pairs(list_doc, window=2)] == [("t2", "fa2")]
    # every gold relation of the document is a candidate once the list scope is added
    covered = {(c.head.id, c.tail.id, c.label) for c in both if c.label != NO_RELATION}
    assert {tuple(r) for r in LIST_RELATIONS} <= covered


# ------------------------------------------------------------------ pair features


def _parse(words, heads, deps):
    import spacy
    from spacy.tokens import Doc

    from tradeie.systems.relations import _register_extensions

    _register_extensions()
    return Doc(spacy.blank("en").vocab, words=words, heads=heads, deps=deps)


def test_dependency_path_goes_up_to_the_common_ancestor_and_down():
    # India signed the trade deal on tariffs from China .
    sdoc = _parse(
        ["India", "signed", "the", "deal", "on", "tariffs", "from", "China", "."],
        [1, 1, 3, 1, 3, 4, 5, 6, 1],
        ["nsubj", "ROOT", "det", "dobj", "prep", "pobj", "prep", "pobj", "punct"],
    )
    assert dependency_path(sdoc[0], sdoc[3]) == "subject < signed > object"
    assert dependency_path(sdoc[3], sdoc[0]) == "object < signed > subject"
    assert dependency_path(sdoc[5], sdoc[7]) == "> from > object"
    assert dependency_path(sdoc[7], sdoc[5]) == "object < from <"
    assert dependency_path(sdoc[0], sdoc[7]) == "subject < signed > object deal > on > object tariffs > from > object"
    assert dependency_path(sdoc[0], sdoc[7], max_edges=5) == "long path"
    assert dependency_path(sdoc[0], sdoc[0]) == "no path"


def test_distance_buckets():
    assert [words_apart(n) for n in (0, 1, 2, 3, 4, 5, 8, 9, 15, 16, 40)] == [
        "adjacent",
        "1 word apart",
        "2 words apart",
        "3-4 words apart",
        "3-4 words apart",
        "5-8 words apart",
        "5-8 words apart",
        "9-15 words apart",
        "9-15 words apart",
        "16+ words apart",
        "16+ words apart",
    ]
    assert [mentions_between(n) for n in (0, 1, 2, 3, 7)] == [
        "no mention between",
        "1 mention between",
        "2 mentions between",
        "3+ mentions between",
        "3+ mentions between",
    ]
    assert [sentences_apart(n) for n in (1, 2, 3, 5, 6)] == [
        "1 sentence apart",
        "2 sentences apart",
        "3-5 sentences apart",
        "3-5 sentences apart",
        "6+ sentences apart",
    ]


def test_pair_features_without_a_parser_keep_distances_and_list_scope(list_doc, blank_pipeline):
    features = PairFeatures(["path", "distance"], blank_pipeline)
    cands = candidate_pairs(list_doc, scope=True)
    texts = features.texts([list_doc], [list_doc.entities], cands)
    index = list_doc.entity_index()

    def text(head, tail):
        return texts[pair_key(list_doc.id, index[head], index[tail])]

    # "Brussels and Washington signed the Framework Agreement": no parse, so no path
    assert text("b", "fa") == "no path ; 3-4 words apart ; 1 mention between"
    assert text("w", "fa") == "no path ; 2 words apart ; no mention between"
    assert text("t1", "fa2") == "list item under its lead-in ; 2 sentences apart"
    assert text("w3", "t3") == "list item under its lead-in ; 1 sentence apart"
    assert set(texts) == {pair_key(c.doc_id, c.head, c.tail) for c in cands}
    # cached per document text and entities
    assert features.texts([list_doc], [list_doc.entities], cands) == texts
    with pytest.raises(ValueError, match="unknown pair features"):
        PairFeatures(["syntax"])


@pytest.mark.slow  # loads en_core_web_md
def test_pair_features_from_the_parse_and_the_rules(marked_doc):
    doc = marked_doc(
        "d",
        "[India|ACTOR|a] and [Japan|ACTOR|j] signed a [trade pact|AGREEMENT|g] on Monday.",
        [("a", "g", "party_to"), ("j", "g", "party_to")],
    )
    features = PairFeatures(["path", "distance", "rules"])
    texts = features.texts([doc], [doc.entities], candidate_pairs(doc))
    index = doc.entity_index()
    assert texts[pair_key("d", index["a"], index["g"])] == (
        "subject < sign > object ; 3-4 words apart ; 1 mention between ; rules: party_to"
    )
    assert texts[pair_key("d", index["j"], index["g"])] == (
        "and < actor subject < sign > object ; 2 words apart ; no mention between ; rules: party_to"
    )


# ------------------------------------------------------------------ encoding


@pytest.fixture
def marker_tokenizer(tiny_model):
    from transformers import AutoTokenizer

    from tradeie.training.relation import add_marker_tokens

    tok = AutoTokenizer.from_pretrained(tiny_model)
    add_marker_tokens(tok)
    return tok


def test_features_come_first_then_the_marked_context(marker_tokenizer):
    from tradeie.training.relation import MAX_FEATURE_TOKENS, encode_marked

    marked = "[H:ACTOR] india [/H] signed the [T:AGREEMENT] deal [/T] ."
    features = "by ; signed ; 1 of 2"  # words of the tiny vocabulary
    ids = encode_marked(marker_tokenizer, marked, 64, features)
    pieces = marker_tokenizer.convert_ids_to_tokens(ids)
    assert pieces == [
        "[CLS]",
        *["by", ";", "signed", ";", "1", "of", "2"],
        "[SEP]",
        *["[H:ACTOR]", "india", "[/H]", "signed", "the", "[T:AGREEMENT]", "deal", "[/T]", "."],
        "[SEP]",
    ]
    assert encode_marked(marker_tokenizer, marked, 64) == [ids[0], *ids[9:]]  # no features: as before
    # the features are cut to MAX_FEATURE_TOKENS sub-words; the marked text is cropped around its markers
    by = marker_tokenizer.convert_tokens_to_ids("by")
    long = encode_marked(marker_tokenizer, marked, 64, " ".join(["by"] * 50))
    assert long == [ids[0], *[by] * MAX_FEATURE_TOKENS, *ids[8:]]
    cropped = encode_marked(marker_tokenizer, "the " * 20 + marked, 20, features)
    assert marker_tokenizer.convert_ids_to_tokens(cropped) == [*pieces[:9], "the", *pieces[9:]]
    assert encode_marked(marker_tokenizer, marked, 16, features) is None  # the mentions alone need 8 + 10


def test_scope_rows_have_the_relations_row_format(list_doc):
    from tradeie.data.dataset import relation_rows
    from tradeie.training.relation import row_candidate, scope_rows

    rows = scope_rows([list_doc])
    published = relation_rows(list_doc)
    assert [set(r) for r in rows] == [set(published[0])] * 3
    assert [r["id"] for r in rows] == ["lists-s0000", "lists-s0001", "lists-s0002"]
    assert [(r["head"]["id"], r["tail"]["id"], r["label"], r["sentence_distance"]) for r in rows] == [
        ("t1", "fa2", 4, 2),
        ("t2", "fa2", 4, 4),
        ("w3", "t3", 2, 1),
    ]
    assert (
        rows[2]["text"]
        == "What [H:ACTOR] Washington [/H] charges\n- A [T:TARIFF] 10 per cent duty [/T] applies to energy."
    )
    assert rows[2]["context"] == "- A 10 per cent duty applies to energy."
    assert [row_candidate(r).label for r in rows] == ["part_of", "part_of", "imposes"]
    assert not any(r["sentence_distance"] for r in published)  # the dataset publishes the window pairs only


def test_rows_find_their_features_through_their_document(list_doc, marker_tokenizer, blank_pipeline):
    from tradeie.data.dataset import relation_rows
    from tradeie.training.relation import PairEncoder, encode_marked, pair_examples, scope_rows

    encoder = PairEncoder(marker_tokenizer, PairFeatures(["distance"], blank_pipeline))
    rows = relation_rows(list_doc) + scope_rows([list_doc])
    encoder.add_documents([list_doc], list_scope=True)
    feats, cands, skipped = pair_examples(encoder, rows, 96)
    assert skipped == 0 and encoder.missing == 0 and len(feats) == len(rows)
    assert feats[-1]["input_ids"] == encode_marked(marker_tokenizer, rows[-1]["text"], 96, "1 sentence apart")
    first = rows[0]
    assert (first["head"]["id"], first["tail"]["id"]) == ("b", "fa")
    assert feats[0]["input_ids"] == encode_marked(
        marker_tokenizer, first["text"], 96, "3-4 words apart ; 1 mention between"
    )
    # a row whose document was not given is encoded without features, and counted
    other = PairEncoder(marker_tokenizer, PairFeatures(["distance"], blank_pipeline))
    assert pair_examples(other, rows[:1], 96)[0][0]["input_ids"] == encode_marked(marker_tokenizer, first["text"], 96)
    assert other.missing == 1
    # a bare tokenizer: no features at all
    assert pair_examples(marker_tokenizer, rows[:1], 96)[0] == pair_examples(other, rows[:1], 96)[0]


# ------------------------------------------------------------------ the model


def test_marker_model_pools_the_opening_markers_and_round_trips(tiny_model, marker_tokenizer, tmp_path):
    import torch
    from transformers import AutoModelForSequenceClassification

    from tradeie.training.config import REConfig
    from tradeie.training.relation import LABELS, _new_classifier, encode_marked, marker_init_words
    from tradeie.training.relation_model import MarkerRelationForSequenceClassification, first_position

    assert [marker_init_words(m) for m in marker_tokens()] == [
        "actor",
        "actor",
        "agreement",
        "agreement",
        "tariff",
        "tariff",
        "]",
        "]",
    ]
    model = _new_classifier(str(tiny_model), marker_tokenizer, REConfig(freeze_layers=1))
    assert isinstance(model, MarkerRelationForSequenceClassification)
    words = model.encoder.get_input_embeddings()
    assert not words.weight.requires_grad and model.extra_embeddings.weight.requires_grad
    layers = model.encoder.encoder.layer
    assert not any(p.requires_grad for p in layers[0].parameters())
    assert all(p.requires_grad for p in layers[1].parameters())
    actor = marker_tokenizer("actor", add_special_tokens=False)["input_ids"]  # a, ##c, ##t, ##o, ##r here
    assert torch.allclose(model.extra_embeddings.weight[0], words.weight[actor].mean(dim=0))  # [H:ACTOR]: "actor"
    bracket = marker_tokenizer.convert_tokens_to_ids("]") if "]" in marker_tokenizer.vocab else None
    assert bracket is None  # not in the tiny vocabulary: the closing markers keep their random start
    assert model.config.id2label == dict(enumerate(LABELS))

    marked = "[H:ACTOR] india [/H] signed the [T:AGREEMENT] deal [/T] ."
    ids = encode_marked(marker_tokenizer, marked, 64, "signed")
    bare = encode_marked(marker_tokenizer, marked, 64) + [0, 0]  # without features, padded
    batch = torch.tensor([ids, bare])
    head_ids, tail_ids = torch.tensor(model.config.head_marker_ids), torch.tensor(model.config.tail_marker_ids)
    assert first_position(batch, head_ids).tolist() == [3, 1]
    assert first_position(batch, tail_ids).tolist() == [8, 6]
    assert first_position(torch.tensor([[1, 2, 3]]), head_ids).tolist() == [0]  # no marker: [CLS]
    model.eval()
    with torch.no_grad():
        logits = model(input_ids=batch, attention_mask=torch.ones_like(batch)).logits
    assert logits.shape == (2, len(LABELS))
    model.save_pretrained(tmp_path / "m")
    again = AutoModelForSequenceClassification.from_pretrained(tmp_path / "m", use_safetensors=True).eval()
    assert type(again) is MarkerRelationForSequenceClassification
    with torch.no_grad():
        assert torch.allclose(again(input_ids=batch, attention_mask=torch.ones_like(batch)).logits, logits)
    labels = torch.tensor([0, 1])
    assert model(input_ids=batch, labels=labels).loss > 0


class _PreferPartOf:
    """A stand-in classifier: part_of if allowed, else no_relation."""

    def __init__(self):
        import torch

        self.torch = torch
        self._param = torch.zeros(1)

    def parameters(self):
        yield self._param

    def __call__(self, input_ids, attention_mask):
        from tradeie.training.relation import LABEL2ID, LABELS

        logits = self.torch.zeros(input_ids.shape[0], len(LABELS))
        logits[:, LABEL2ID["part_of"]] = 4.0
        logits[:, LABEL2ID[NO_RELATION]] = 2.0
        return type("Out", (), {"logits": logits})()


def test_the_classifier_links_list_items_across_sentences_with_list_scope(list_doc, marker_tokenizer):
    from tradeie.training.relation import RelationClassifier, RESettings

    def links(list_scope: bool) -> set:
        settings = RESettings(max_length=96, list_scope=list_scope, threshold=0.8)
        [pred] = RelationClassifier(_PreferPartOf(), marker_tokenizer, settings).predict([list_doc])
        return {(r.head, r.tail, r.label) for r in pred.relations}

    # p(part_of) = e^4 / (e^4 + e^2 + 3) = 0.85 >= 0.8 for every TARIFF -> AGREEMENT pair
    assert links(False) == set()  # no tariff shares a sentence with an agreement
    assert links(True) == {("t1", "fa2", "part_of"), ("t2", "fa2", "part_of")}
