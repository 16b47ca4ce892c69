"""A Hugging Face relation classifier that reads the states of the typed entity markers.

``MarkerRelationForSequenceClassification`` wraps any ``AutoModel`` encoder
(its config is stored in ``config.json`` under ``encoder_config``) and
classifies a marked pair from ``[CLS]`` ++ the state of the head's opening
marker (``[H:ACTOR]`` ...) ++ the state of the tail's opening marker
(``pooling = "markers"``; ``"cls"``: ``[CLS]`` alone). The marker tokens have
their own embedding table (``extra_token_ids``), initialised from the
embedding of their entity label's word ("actor", "agreement", "tariff"), so
the encoder's pretrained word embeddings can stay frozen
(``freeze_embeddings``), which makes CPU training several times cheaper: the
optimiser no longer updates the 30k-row table. It saves and loads with
``save_pretrained`` / ``from_pretrained`` (safetensors); importing this
module registers the ``model_type`` with ``AutoConfig`` and
``AutoModelForSequenceClassification``, so no ``trust_remote_code`` is needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn
from transformers import AutoConfig, AutoModel, AutoModelForSequenceClassification, PretrainedConfig, PreTrainedModel
from transformers.modeling_outputs import SequenceClassifierOutput

MODEL_TYPE = "tradeie-marker-re"
POOLINGS = ("markers", "cls")


class MarkerRelationConfig(PretrainedConfig):
    """Encoder config + the marker tokens (ids, which open a head or a tail) and the pooling."""

    model_type = MODEL_TYPE

    def __init__(
        self,
        encoder_config: dict[str, Any] | None = None,
        extra_token_ids: list[int] | None = None,
        head_marker_ids: list[int] | None = None,
        tail_marker_ids: list[int] | None = None,
        pooling: str = "markers",
        classifier_dropout: float = 0.1,
        **kwargs: Any,
    ) -> None:
        self.encoder_config = dict(encoder_config or {})
        self.extra_token_ids = [int(i) for i in extra_token_ids or []]
        self.head_marker_ids = [int(i) for i in head_marker_ids or []]
        self.tail_marker_ids = [int(i) for i in tail_marker_ids or []]
        self.pooling = pooling
        self.classifier_dropout = classifier_dropout
        super().__init__(**kwargs)

    def encoder_settings(self) -> PretrainedConfig:
        values = dict(self.encoder_config)
        return AutoConfig.for_model(values.pop("model_type"), **values)


def _encoder_from_config(config: PretrainedConfig) -> nn.Module:
    try:  # BERT-like encoders: no pooler (unused weights would break DDP)
        return AutoModel.from_config(config, add_pooling_layer=False)
    except TypeError:
        return AutoModel.from_config(config)


def _encoder_layers(encoder: nn.Module) -> Sequence[nn.Module]:
    """The transformer layers of a BERT-like encoder ([] when not found)."""
    for path in ("encoder.layer", "layers", "transformer.layer", "encoder.layers"):
        module: Any = encoder
        for part in path.split("."):
            module = getattr(module, part, None)
            if module is None:
                break
        if isinstance(module, nn.ModuleList):
            return module
    return []


def first_position(input_ids: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
    """Per row, the first position holding one of ``ids`` (0, the ``[CLS]`` position, when none does)."""
    hits = torch.isin(input_ids, ids)
    return torch.where(hits.any(dim=1), hits.int().argmax(dim=1), torch.zeros_like(hits[:, 0], dtype=torch.long))


class MarkerRelationForSequenceClassification(PreTrainedModel):
    """Encoder -> [CLS] ++ head-marker state ++ tail-marker state -> dropout -> linear over the labels."""

    config_class = MarkerRelationConfig
    base_model_prefix = "encoder"
    main_input_name = "input_ids"

    def __init__(self, config: MarkerRelationConfig, encoder: nn.Module | None = None) -> None:
        super().__init__(config)
        if config.pooling not in POOLINGS:
            raise ValueError(f"pooling = {config.pooling!r}: choose from {list(POOLINGS)}")
        self.num_labels = config.num_labels
        self.encoder = encoder if encoder is not None else _encoder_from_config(config.encoder_settings())
        hidden = self.encoder.config.hidden_size
        self.extra_embeddings = nn.Embedding(max(len(config.extra_token_ids), 1), hidden)
        width = hidden * (3 if config.pooling == "markers" else 1)
        self.dropout = nn.Dropout(config.classifier_dropout)
        self.classifier = nn.Linear(width, config.num_labels)
        self._id_tensors: dict[tuple[str, str], torch.Tensor] = {}
        self.post_init()

    def _ids(self, which: str, device: torch.device) -> torch.Tensor:
        """``extra_token_ids`` / ``head_marker_ids`` / ``tail_marker_ids`` of the config as a tensor on ``device``
        (plain tensors, not buffers: nothing of them is saved, and loading cannot leave them uninitialised)."""
        key = (which, str(device))
        if key not in self._id_tensors:
            self._id_tensors[key] = torch.tensor(getattr(self.config, which), dtype=torch.long, device=device)
        return self._id_tensors[key]

    def _init_weights(self, module: nn.Module) -> None:
        if module is self.classifier:
            nn.init.normal_(module.weight, std=0.02)
            nn.init.zeros_(module.bias)
        elif module is self.extra_embeddings:
            nn.init.normal_(module.weight, std=0.02)

    @classmethod
    def from_encoder(
        cls,
        base: str,
        *,
        labels: Sequence[str],
        extra_token_ids: Sequence[int],
        init_token_ids: Sequence[Sequence[int]],
        head_marker_ids: Sequence[int],
        tail_marker_ids: Sequence[int],
        pooling: str = "markers",
        freeze_embeddings: bool = True,
        freeze_layers: int = 0,
    ) -> MarkerRelationForSequenceClassification:
        """A new classifier over the pretrained encoder ``base`` (folder or Hub id).

        Marker ``extra_token_ids[k]`` starts as the mean embedding of ``init_token_ids[k]``;
        ``freeze_embeddings`` keeps the encoder's embeddings fixed, ``freeze_layers`` its first layers.
        """
        encoder_config = AutoConfig.from_pretrained(base)
        try:
            encoder = AutoModel.from_pretrained(base, add_pooling_layer=False)
        except TypeError:
            encoder = AutoModel.from_pretrained(base)
        config = MarkerRelationConfig(
            encoder_config=encoder_config.to_dict(),
            extra_token_ids=list(extra_token_ids),
            head_marker_ids=list(head_marker_ids),
            tail_marker_ids=list(tail_marker_ids),
            pooling=pooling,
            classifier_dropout=getattr(encoder_config, "hidden_dropout_prob", 0.1),
            num_labels=len(labels),
            id2label=dict(enumerate(labels)),
            label2id={t: i for i, t in enumerate(labels)},
        )
        model = cls(config, encoder=encoder)
        words = model.encoder.get_input_embeddings().weight
        with torch.no_grad():
            for k, ids in enumerate(init_token_ids):
                ids = [i for i in ids if 0 <= i < words.shape[0]]
                if ids:
                    model.extra_embeddings.weight[k] = words[ids].mean(dim=0)
        if freeze_embeddings:
            for param in model.encoder.get_input_embeddings().parameters():
                param.requires_grad_(False)
        for layer in list(_encoder_layers(model.encoder))[: max(freeze_layers, 0)]:
            for param in layer.parameters():
                param.requires_grad_(False)
        return model

    def _embed(self, input_ids: torch.Tensor) -> torch.Tensor:
        words = self.encoder.get_input_embeddings()
        extra_ids = self._ids("extra_token_ids", input_ids.device)
        is_extra = torch.isin(input_ids, extra_ids)
        base = words(torch.where(is_extra, torch.zeros_like(input_ids), input_ids))
        if not bool(is_extra.any()):
            return base
        # index of each marker id in extra_token_ids (0 where the token is no marker)
        index = (input_ids.unsqueeze(-1) == extra_ids).int().argmax(dim=-1)
        return torch.where(is_extra.unsqueeze(-1), self.extra_embeddings(index).to(base.dtype), base)

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        **kwargs: Any,
    ) -> SequenceClassifierOutput:
        extra = {"token_type_ids": token_type_ids} if token_type_ids is not None else {}
        states = self.encoder(
            inputs_embeds=self._embed(input_ids), attention_mask=attention_mask, **extra
        ).last_hidden_state
        pooled = states[:, 0]
        if self.config.pooling == "markers":
            rows = torch.arange(states.shape[0], device=states.device)
            head = states[rows, first_position(input_ids, self._ids("head_marker_ids", input_ids.device))]
            tail = states[rows, first_position(input_ids, self._ids("tail_marker_ids", input_ids.device))]
            pooled = torch.cat([pooled, head, tail], dim=-1)
        logits = self.classifier(self.dropout(pooled))
        loss = None
        if labels is not None:
            loss = nn.functional.cross_entropy(logits.float(), labels.view(-1))
        return SequenceClassifierOutput(loss=loss, logits=logits)


AutoConfig.register(MODEL_TYPE, MarkerRelationConfig, exist_ok=True)
AutoModelForSequenceClassification.register(
    MarkerRelationConfig, MarkerRelationForSequenceClassification, exist_ok=True
)
