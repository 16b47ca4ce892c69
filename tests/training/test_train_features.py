"""The transformer enriched with linguistic features (``linguistic_features``, system ``transformer-features``)."""

from __future__ import annotations

import dataclasses
import json

import pytest

from tradeie.errors import TradeieError
from tradeie.schema import BIO_TAGS
from tradeie.text.tokens import tokenize

ALL = ["shape", "pos", "ent", "rules"]


@pytest.fixture(scope="session")
def blank_pipeline(tmp_path_factory):
    """A tiny spaCy pipeline folder (tokenizer only: no POS, no entity types)."""
    import spacy

    folder = tmp_path_factory.mktemp("spacy") / "blank_en"
    spacy.blank("en").to_disk(folder)
    return str(folder)


@pytest.fixture(scope="module")
def featured(tmp_path_factory, tiny_train_settings, toy_docs, blank_pipeline):
    """A transformer-features system trained a few steps on the toy documents and saved: (system, folder)."""
    from tradeie.systems.transformer import TransformerFeaturesNERSystem
    from tradeie.training.config import NERConfig

    config = NERConfig(
        **tiny_train_settings,
        linguistic_features=ALL,
        linguistic_pipeline=blank_pipeline,
    )
    system = TransformerFeaturesNERSystem(config).fit(toy_docs[:6], toy_docs[6:])
    folder = system.save(tmp_path_factory.mktemp("systems") / "transformer-features")
    return system, folder


def test_word_shape():
    from tradeie.training.features import word_shape

    assert [word_shape(w) for w in ("US", "us", "India", "18", "%", "U.S.", "McDonald", "COVID-19")] == [
        "X",
        "x",
        "Xx",
        "d",
        "%",
        "X.X.",
        "XxXx",
        "X-d",
    ]


def test_feature_names_are_checked(ner_config):
    bad = dataclasses.replace(ner_config, linguistic_features=["shape", "casing"])
    with pytest.raises(TradeieError, match=r"linguistic_features = \['shape', 'casing'\]"):
        bad.validate("training/ner.toml")
    with pytest.raises(TradeieError, match="feature_dim"):
        dataclasses.replace(ner_config, feature_dim=0).validate()
    dataclasses.replace(ner_config, linguistic_features=ALL).validate()


def test_cli_override_parses_feature_list(tmp_path):
    from tradeie.training.config import load_config

    path = tmp_path / "ner.toml"
    path.write_text('task = "ner"\n', encoding="utf-8")
    assert load_config(path, ["linguistic_features=shape,pos"]).linguistic_features == ["shape", "pos"]
    assert load_config(path, ['linguistic_features=["ent", "rules"]']).linguistic_features == ["ent", "rules"]
    assert load_config(path).linguistic_features == []
    with pytest.raises(TradeieError, match="linguistic_features"):
        load_config(path, ["linguistic_features=shape,shape"])


def test_default_systems(tmp_path, monkeypatch):
    from tradeie.systems.base import system_class

    monkeypatch.chdir(tmp_path)  # no training/ner.toml here: the NERConfig defaults
    assert system_class("transformer")().config.linguistic_features == []
    assert system_class("transformer-features")().config.linguistic_features == ALL


def test_window_features_carry_word_features(tiny_tokenizer):
    from tradeie.training.ner import window_features

    toks = tokenize("India zzq signed")  # "zzq" splits into sub-words: z ##z ##q
    rows = [(toks, ["B-ACTOR", "O", "O"])]
    feats = window_features(tiny_tokenizer, rows, 64, 8, word_feature_ids=[[[2, 3], [4, 5], [6, 7]]])
    assert len(feats) == 1
    assert feats[0]["feature_ids"] == [[0, 0], [2, 3], [4, 5], [4, 5], [4, 5], [6, 7], [0, 0]]
    assert len(feats[0]["feature_ids"]) == len(feats[0]["input_ids"])
    # without word features the windows are exactly as before
    assert "feature_ids" not in window_features(tiny_tokenizer, rows, 64, 8)[0]


def test_windows_of_a_long_row_keep_alignment(tiny_tokenizer):
    from tradeie.training.ner import window_features

    toks = tokenize(" ".join(["india"] * 30))
    ids = [[k + 2] for k in range(30)]
    feats = window_features(tiny_tokenizer, [(toks, ["O"] * 30)], 12, 3, word_feature_ids=[ids])
    assert len(feats) > 1
    seen = [f["feature_ids"][1:-1] for f in feats]
    assert seen[0] == [[k + 2] for k in range(10)]
    assert all(len(f["feature_ids"]) == len(f["input_ids"]) for f in feats)
    assert [f[0] for f in seen[1:]] == [[k + 2] for k in range(7, 30, 7)][: len(seen) - 1]


def test_collator_pads_feature_ids(tiny_tokenizer):
    from transformers import DataCollatorForTokenClassification

    from tradeie.training.feature_model import FeatureCollator

    collate = FeatureCollator(DataCollatorForTokenClassification(tiny_tokenizer))
    batch = collate(
        [
            {
                "input_ids": [2, 7, 3],
                "attention_mask": [1, 1, 1],
                "labels": [-100, 1, -100],
                "feature_ids": [[0, 0], [3, 4], [0, 0]],
            },
            {"input_ids": [2, 3], "attention_mask": [1, 1], "labels": [-100, -100], "feature_ids": [[0, 0], [0, 0]]},
        ]
    )
    assert batch["feature_ids"].tolist() == [[[0, 0], [3, 4], [0, 0]], [[0, 0], [0, 0], [0, 0]]]
    assert batch["input_ids"].shape == (2, 3)


def test_config_json_carries_feature_vocabularies(featured, blank_pipeline):
    _, folder = featured
    config = json.loads((folder / "config.json").read_text())
    assert config["model_type"] == "tradeie-feature-tagger"
    assert config["architectures"] == ["FeatureTaggerForTokenClassification"]
    assert config["feature_names"] == ALL
    vocabs = config["feature_vocabs"]
    assert sorted(vocabs) == sorted(ALL)  # config.json keys are written sorted
    # the blank pipeline has no tagger and no entity recogniser: one value each
    assert vocabs["pos"] == ["<pad>", "<unk>", "X"]
    assert vocabs["ent"] == ["<pad>", "<unk>", "O"]
    assert vocabs["shape"] == ["<pad>", "<unk>", "%", ".", "X", "Xx", "d", "x"]
    assert vocabs["rules"][:2] == ["<pad>", "<unk>"] and {"B-ACTOR", "I-ACTOR", "O"} <= set(vocabs["rules"])
    assert config["spacy_pipeline"] == blank_pipeline
    assert "India" in config["rule_actors"] and "United States" in config["rule_actors"]
    assert [config["id2label"][str(i)] for i in range(len(BIO_TAGS))] == list(BIO_TAGS)
    assert (folder / "model.safetensors").is_file()
    assert "trust_remote_code" not in (folder / "config.json").read_text() and "auto_map" not in config
    training = json.loads((folder / "training_config.json").read_text())
    assert training["linguistic_features"] == ALL
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["linguistic"]["features"] == ALL
    assert metrics["linguistic"]["vocab_sizes"]["pos"] == 3


def test_saved_system_reloads_and_predicts_the_same(featured, toy_docs):
    from tradeie.systems.base import load_system
    from tradeie.training.feature_model import FeatureTaggerForTokenClassification

    system, folder = featured
    before = system.predict(toy_docs[6:])
    reloaded = load_system(folder)
    assert reloaded.name == "transformer-features"
    assert isinstance(reloaded.tagger.model, FeatureTaggerForTokenClassification)
    after = reloaded.predict(toy_docs[6:])
    assert [d.entities for d in after] == [d.entities for d in before]
    assert sum(len(d.entities) for d in after) > 0


def test_auto_class_loads_the_saved_model(featured):
    import torch
    from transformers import AutoModelForTokenClassification

    import tradeie.training.feature_model  # noqa: F401  (registers the model_type)

    system, folder = featured
    model = AutoModelForTokenClassification.from_pretrained(folder).eval()
    ids = torch.tensor([[2, 10, 11, 3]])
    feats = torch.tensor([[[0, 0, 0, 0], [5, 2, 2, 2], [4, 2, 2, 6], [0, 0, 0, 0]]])
    with torch.inference_mode():
        a = model(input_ids=ids, attention_mask=torch.ones_like(ids), feature_ids=feats).logits
        b = system.tagger.model(input_ids=ids, attention_mask=torch.ones_like(ids), feature_ids=feats).logits
        c = model(input_ids=ids, attention_mask=torch.ones_like(ids), feature_ids=torch.zeros_like(feats)).logits
    assert torch.equal(a, b)
    assert not torch.equal(a, c)  # the features change the logits


def test_new_tagger_keeps_the_pretrained_encoder(tiny_model):
    import torch
    from transformers import AutoModel

    from tradeie.training.feature_model import FeatureTaggerForTokenClassification

    tagger = FeatureTaggerForTokenClassification.from_encoder(
        str(tiny_model),
        labels=list(BIO_TAGS),
        features={"feature_names": ["shape"], "feature_vocabs": {"shape": ["<pad>", "<unk>", "Xx"]}},
    )
    encoder = AutoModel.from_pretrained(tiny_model)
    theirs = encoder.state_dict()
    for key, value in tagger.encoder.state_dict().items():
        assert torch.equal(value, theirs[key]), key
    assert tagger.classifier.in_features == encoder.config.hidden_size + 16
    assert torch.count_nonzero(tagger.feature_embeddings[0].weight[0]) == 0  # padding row


@pytest.mark.slow  # loads the real spaCy pipeline (en_core_web_md)
def test_real_pipeline_features(marked_doc):
    from tradeie.corpus import document_tokens
    from tradeie.training.features import WordFeatures

    train = [marked_doc("t", "[India|ACTOR|a] and the [US|ACTOR|b] signed a [trade deal|AGREEMENT|c].")]
    features = WordFeatures.fit(ALL, "en_core_web_md", train)
    doc = marked_doc("d", "The US raised tariffs on India to 18% in Washington.")
    rows = [t for t in document_tokens(doc) if t]
    values = features.values(rows)[0]
    words = [t.text for t in rows[0]]
    by_word = dict(zip(words, values))
    assert by_word["US"] == ("X", "PROPN", "B-GPE", "B-ACTOR")
    assert by_word["India"] == ("Xx", "PROPN", "B-GPE", "B-ACTOR")
    assert by_word["tariffs"] == ("x", "NOUN", "O", "B-TARIFF")
    assert by_word["18"][:1] == ("d",) and by_word["18"][2] == "B-PERCENT"
