"""Conventions of real clients: the transformers token-classification example and SpanMarker."""

from __future__ import annotations

import warnings

import pytest

from tradeie.data.dataset import MODEL_MAX_LENGTH, dataset_stats, format_stats, load_hub_folder
from tradeie.data.splits import SPLIT_NAMES


@pytest.fixture(scope="module")
def ner(hub_dir):
    return load_hub_folder(hub_dir, "ner")


def test_transformers_run_ner_conventions(ner):
    """What examples/pytorch/token-classification/run_ner.py looks for."""
    from datasets import ClassLabel

    assert list(ner) == ["train", "validation", "test"]
    features = ner["train"].features
    column_names = ner["train"].column_names
    text_column = "tokens" if "tokens" in column_names else column_names[0]
    label_column = "ner_tags" if "ner_tags" in column_names else column_names[1]
    assert (text_column, label_column) == ("tokens", "ner_tags")
    assert isinstance(features[label_column].feature, ClassLabel)  # label_list from the ClassLabel names
    label_list = features[label_column].feature.names
    # run_ner's B- -> I- mapping for label_all_tokens needs every B-X to have an I-X
    for label in label_list:
        if label.startswith("B-"):
            assert label.replace("B-", "I-") in label_list


def test_alignment_with_a_tiny_tokenizer_and_max_length(ner, tiny_tokenizer, built):
    lengths = []
    for split in SPLIT_NAMES:
        ds = ner[split]
        enc = tiny_tokenizer(list(ds["tokens"]), is_split_into_words=True, truncation=False)
        for i, row in enumerate(ds):
            word_ids = enc.word_ids(i)
            assert max(w for w in word_ids if w is not None) == len(row["tokens"]) - 1
            lengths.append(len(enc["input_ids"][i]))
    stats = dataset_stats(built, tiny_tokenizer)
    assert stats["total"]["max_subword_length"] == max(lengths)
    assert max(lengths) <= MODEL_MAX_LENGTH
    assert stats["total"]["rows_over_model_limit"] == 0


def test_spanmarker_columns(ner):
    """SpanMarker's Trainer: REQUIRED (tokens, ner_tags), OPTIONAL (document_id, sentence_id) for context."""
    from datasets import Value

    for split in SPLIT_NAMES:
        ds = ner[split]
        assert {"tokens", "ner_tags", "document_id", "sentence_id"} <= set(ds.column_names)
        assert ds.features["sentence_id"] == Value("int32")
        assert ds.features["document_id"] == Value("int32")  # SpanMarker: torch.tensor(document_ids)
        assert all(isinstance(t, int) for row in ds["ner_tags"] for t in row)
        # SpanMarker sorts by (document_id, sentence_id) and adds neighbouring sentences as context:
        with warnings.catch_warnings():  # pyarrow deprecation inside datasets.sort
            warnings.simplefilter("ignore", FutureWarning)
            ordered = ds.sort(["document_id", "sentence_id"])
        rows = list(ordered)
        for prev, cur in zip(rows, rows[1:]):
            if prev["document_id"] == cur["document_id"]:
                assert cur["sentence_id"] == prev["sentence_id"] + 1
                assert cur["token_starts"][0] >= prev["token_ends"][-1]
        # IOB2: an I-X only continues a B-X / I-X (SpanMarker's label normaliser relies on it)
        names = ds.features["ner_tags"].feature.names
        for row in ds:
            tags = [names[t] for t in row["ner_tags"]]
            for prev, tag in zip(["O", *tags], tags):
                if tag.startswith("I-"):
                    assert prev in (f"B-{tag[2:]}", tag)


def test_stats_report_longest_entity(built, docs5, tiny_tokenizer):
    from tradeie.text.tokens import tokenize

    stats = dataset_stats(built, tiny_tokenizer)
    longest = max(len(tokenize(e.text)) for d in docs5 for e in d.entities)
    assert stats["total"]["longest_entity_words"] == longest
    assert len(tokenize(stats["total"]["longest_entity"])) == longest
    per_split = stats["splits"]
    assert sum(s["documents"] for s in per_split.values()) == len(docs5)
    assert sum(s["spans"]["ACTOR"] for s in per_split.values()) == sum(
        1 for d in docs5 for e in d.entities if e.label == "ACTOR"
    )
    assert sum(s["relations"]["party_to"] for s in per_split.values()) == sum(
        1 for d in docs5 for r in d.relations if r.label == "party_to"
    )
    table = format_stats(stats)
    assert table.splitlines()[0] == "|  | train | validation | test | total |"
    assert f"Longest entity: {longest} words" in table
