"""The marker-based relation classifier (``tradeie train re``) and a rules + classifier hybrid,
behind the System interface (task ``re``: relations between the documents' own entities)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tradeie.document import Document, Relation
from tradeie.text.linguistic import DEFAULT_PIPELINE
from tradeie.training.config import REConfig
from tradeie.systems.base import System
from tradeie.systems.transformer import ModelFolderSystem, project_config

DEFAULT_RE_CONFIG = "training/re.toml"


def default_re_config() -> REConfig:
    """The project's relation training config (``training/re.toml``) when present, else the defaults."""
    return project_config(DEFAULT_RE_CONFIG, "re", REConfig)


def hybrid_classifier_config(config: HybridConfig) -> REConfig:
    """The project's relation config with the hybrid's epochs and pipeline, plus the ``rules`` feature
    when ``rule_features``."""
    base = default_re_config()
    features = [f for f in base.features if f != "rules"] + (["rules"] if config.rule_features else [])
    return dataclasses.replace(
        base,
        epochs=config.classifier_epochs or base.epochs,
        progress_bars=False,
        pipeline=config.pipeline,
        features=features,
    )


#: Config fields that do not change what a relation classifier learns.
_RUNTIME_FIELDS = ("run_name", "progress_bars", "logging_steps", "eval_batch_size", "num_threads", "device")
#: Classifiers trained in this process, by :func:`fit_key` (the last two).
_TRAINED: OrderedDict[str, TransformerRESystem] = OrderedDict()
_TRAINED_KEEP = 2


def fit_key(config: REConfig, train: Sequence[Document], dev: Sequence[Document] | None) -> str:
    """A fingerprint of a classifier fit: its config (runtime fields left out) and its documents' text,
    sentences, entities and relations."""

    def doc_part(doc: Document) -> list:
        ents = sorted((*e.key, e.referent) for e in doc.entities)
        return [doc.id, doc.text, doc.meta.get("sentences"), ents, sorted(doc.relation_keys())]

    settings = {k: v for k, v in dataclasses.asdict(config).items() if k not in _RUNTIME_FIELDS}
    blob = json.dumps(
        [settings, [doc_part(d) for d in train], [doc_part(d) for d in dev or ()]], sort_keys=True, default=str
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class TransformerRESystem(ModelFolderSystem):
    """Typed entity markers + sequence classification over same-sentence candidate pairs and list-scope
    pairs, with the pair features of ``config.features`` (dependency path, distance)."""

    name = "re-transformer"
    task = "re"
    config_class = REConfig
    default_config = staticmethod(default_re_config)

    @property
    def classifier(self):
        """The :class:`~tradeie.training.relation.RelationClassifier` (None before fit or load)."""
        return self.predictor

    def fit(self, train: Sequence[Document], dev: Sequence[Document] | None = None) -> TransformerRESystem:
        """Train (:func:`tradeie.training.relation.fit_re`); a classifier this process already trained with
        the same settings on the same documents (the hybrid's and re-transformer's on one cross-validation
        fold) is reused: training is seeded, so it would learn the same model again."""
        key = fit_key(self.config, train, dev)
        done = _TRAINED.get(key)
        if done is not None and done._folder is not None and done._folder.is_dir():
            self._tmp, self._folder, self.predictor = done._tmp, done._folder, done.predictor
            _TRAINED.move_to_end(key)
            return self
        super().fit(train, dev)
        _TRAINED[key] = self
        while len(_TRAINED) > _TRAINED_KEEP:
            _TRAINED.popitem(last=False)
        return self

    def _train(self, train: list[Document], dev: list[Document] | None, folder: Path) -> None:
        from tradeie.training.relation import fit_re

        fit_re(train, dev, self.config, folder)

    def _open(self, folder: Path):
        from tradeie.training.relation import RelationClassifier

        return RelationClassifier.load(folder)


@dataclass
class HybridConfig:
    """Settings of the rules + classifier hybrid."""

    pipeline: str = field(default=DEFAULT_PIPELINE, metadata={"help": "spaCy pipeline of the dependency rules"})
    min_score: float = field(
        default=0.8,
        metadata={"help": "classifier links the rules did not find are added when their probability reaches this"},
    )
    classifier_epochs: float = field(
        default=0.0, metadata={"help": "training epochs of the classifier (0: the relation config's `epochs`)"}
    )
    rule_features: bool = field(
        default=False,
        metadata={
            "help": "the classifier also reads the rules' label of each pair (rules as features; on validation "
            "it then copies the rules and adds no link of its own)"
        },
    )


class HybridRESystem(System):
    """The dependency rules as high-precision votes, the classifier's confident links (probability at
    least ``min_score``) that the rules did not find added for recall. With ``rule_features`` the classifier
    also reads the rules' label of each pair."""

    name = "re-hybrid"
    task = "re"
    config_class = HybridConfig

    def __init__(self, config: HybridConfig | None = None) -> None:
        from tradeie.systems.relations import RelationRuleSystem, RelationRulesConfig

        super().__init__(config)
        self.rules = RelationRuleSystem(RelationRulesConfig(pipeline=self.config.pipeline))
        self.classifier = TransformerRESystem(hybrid_classifier_config(self.config))

    def fit(self, train: Sequence[Document], dev: Sequence[Document] | None = None) -> HybridRESystem:
        self.rules.fit(train, dev)
        self.classifier.fit(train, dev)
        return self

    def predict(self, docs: Sequence[Document]) -> list[Document]:
        by_rules = self.rules.predict(docs)
        by_model = self.classifier.predict(docs)
        out = []
        for doc, r, m in zip(docs, by_rules, by_model):
            have = {(x.head, x.tail) for x in r.relations}
            extra = [x for x in m.relations if (x.head, x.tail) not in have and (x.score or 0) >= self.config.min_score]
            out.append(
                doc.with_annotations(
                    r.entities, [*r.relations, *(Relation(x.head, x.tail, x.label, x.score) for x in extra)]
                )
            )
        return out

    def _save_state(self, folder: Path) -> None:
        (folder / "classifier").mkdir(exist_ok=True)
        self.classifier.save(folder / "classifier")

    def _load_state(self, folder: Path) -> None:
        self.classifier = TransformerRESystem.load(folder / "classifier")
