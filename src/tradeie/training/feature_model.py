"""A Hugging Face token classifier that concatenates word-feature embeddings to the encoder's states.

``FeatureTaggerForTokenClassification`` wraps any ``AutoModel`` encoder (its
config is stored in ``config.json`` under ``encoder_config``), embeds the
word features of :mod:`tradeie.training.features` (vocabularies in
``feature_vocabs``), concatenates them to each sub-word's hidden state and
classifies. It saves and loads with ``save_pretrained`` / ``from_pretrained``
(safetensors); importing this module registers the ``model_type`` with
``AutoConfig`` and ``AutoModelForTokenClassification``, so no
``trust_remote_code`` is needed.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from transformers import (
    AutoConfig,
    AutoModel,
    AutoModelForTokenClassification,
    PretrainedConfig,
    PreTrainedModel,
)
from transformers.modeling_outputs import TokenClassifierOutput

MODEL_TYPE = "tradeie-feature-tagger"


class FeatureTaggerConfig(PretrainedConfig):
    """Encoder config + the word features (names, vocabularies, embedding size, spaCy pipeline)."""

    model_type = MODEL_TYPE

    def __init__(
        self,
        encoder_config: dict[str, Any] | None = None,
        feature_names: list[str] | None = None,
        feature_vocabs: dict[str, list[str]] | None = None,
        feature_dim: int = 16,
        classifier_dropout: float = 0.1,
        spacy_pipeline: str = "",
        spacy_pipeline_version: str = "",
        rule_actors: list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        self.encoder_config = dict(encoder_config or {})
        self.feature_names = list(feature_names or [])
        self.feature_vocabs = {k: list(v) for k, v in (feature_vocabs or {}).items()}
        self.feature_dim = feature_dim
        self.classifier_dropout = classifier_dropout
        self.spacy_pipeline = spacy_pipeline
        self.spacy_pipeline_version = spacy_pipeline_version
        self.rule_actors = list(rule_actors or [])
        super().__init__(**kwargs)

    def encoder_settings(self) -> PretrainedConfig:
        values = dict(self.encoder_config)
        return AutoConfig.for_model(values.pop("model_type"), **values)


def _encoder_from_config(config: PretrainedConfig) -> nn.Module:
    try:  # BERT-like encoders: no pooler (unused weights would break DDP)
        return AutoModel.from_config(config, add_pooling_layer=False)
    except TypeError:
        return AutoModel.from_config(config)


class FeatureTaggerForTokenClassification(PreTrainedModel):
    """Encoder states ++ feature embeddings -> dropout -> linear classifier over the BIO tags."""

    config_class = FeatureTaggerConfig
    base_model_prefix = "encoder"
    main_input_name = "input_ids"

    def __init__(self, config: FeatureTaggerConfig, encoder: nn.Module | None = None) -> None:
        super().__init__(config)
        self.num_labels = config.num_labels
        self.encoder = encoder if encoder is not None else _encoder_from_config(config.encoder_settings())
        self.feature_embeddings = nn.ModuleList(
            nn.Embedding(len(config.feature_vocabs[name]), config.feature_dim, padding_idx=0)
            for name in config.feature_names
        )
        hidden = self.encoder.config.hidden_size + config.feature_dim * len(config.feature_names)
        self.dropout = nn.Dropout(config.classifier_dropout)
        self.classifier = nn.Linear(hidden, config.num_labels)
        self.post_init()

    def _init_weights(self, module: nn.Module) -> None:
        if module is self.classifier:
            nn.init.normal_(module.weight, std=0.02)
            nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding) and any(module is e for e in self.feature_embeddings):
            nn.init.normal_(module.weight, std=1.0)  # the scale of the encoder's layer-normed states
            with torch.no_grad():
                module.weight[0].zero_()

    @classmethod
    def from_encoder(
        cls,
        base: str,
        *,
        labels: list[str],
        features: dict[str, Any],
        feature_dim: int = 16,
    ) -> FeatureTaggerForTokenClassification:
        """A new tagger over the pretrained encoder ``base`` (folder or Hub id); new head and embeddings."""
        encoder_config = AutoConfig.from_pretrained(base)
        try:
            encoder = AutoModel.from_pretrained(base, add_pooling_layer=False)
        except TypeError:
            encoder = AutoModel.from_pretrained(base)
        config = FeatureTaggerConfig(
            encoder_config=encoder_config.to_dict(),
            feature_dim=feature_dim,
            classifier_dropout=getattr(encoder_config, "hidden_dropout_prob", 0.1),
            num_labels=len(labels),
            id2label=dict(enumerate(labels)),
            label2id={t: i for i, t in enumerate(labels)},
            **features,
        )
        return cls(config, encoder=encoder)

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        feature_ids: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        **kwargs: Any,
    ) -> TokenClassifierOutput:
        """``feature_ids``: ``[batch, length, n_features]`` vocabulary ids (0 = padding / special token)."""
        extra = {"token_type_ids": token_type_ids} if token_type_ids is not None else {}
        states = self.encoder(input_ids=input_ids, attention_mask=attention_mask, **extra).last_hidden_state
        if self.feature_embeddings:
            if feature_ids is None:
                feature_ids = torch.zeros(
                    (*states.shape[:2], len(self.feature_embeddings)), dtype=torch.long, device=states.device
                )
            parts = [emb(feature_ids[..., k]) for k, emb in enumerate(self.feature_embeddings)]
            states = torch.cat([states, *(p.to(states.dtype) for p in parts)], dim=-1)
        logits = self.classifier(self.dropout(states))
        loss = None
        if labels is not None:
            loss = nn.functional.cross_entropy(
                logits.view(-1, self.num_labels).float(), labels.view(-1), ignore_index=-100
            )
        return TokenClassifierOutput(loss=loss, logits=logits)


AutoConfig.register(MODEL_TYPE, FeatureTaggerConfig, exist_ok=True)
AutoModelForTokenClassification.register(FeatureTaggerConfig, FeatureTaggerForTokenClassification, exist_ok=True)


class FeatureCollator:
    """Wraps a token-classification collator: pads ``feature_ids`` (zeros) to the batch's sub-word width."""

    def __init__(self, base: Any, padding_side: str = "right") -> None:
        self.base = base
        self.padding_side = padding_side

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, Any]:
        rows = [f["feature_ids"] for f in features]
        batch = self.base([{k: v for k, v in f.items() if k != "feature_ids"} for f in features])
        width = batch["input_ids"].shape[1]
        n = len(self._first_row(rows))
        padded = []
        for row in rows:
            fill = [[0] * n] * (width - len(row))
            padded.append(row + fill if self.padding_side == "right" else fill + row)
        batch["feature_ids"] = torch.tensor(padded, dtype=torch.long).reshape(len(rows), width, n)
        return batch

    @staticmethod
    def _first_row(rows: list[list[list[int]]]) -> list[int]:
        return next((row[0] for row in rows if row), [])
