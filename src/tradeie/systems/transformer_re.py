"""The marker-based relation classifier (``tradeie train re``) and a rules + classifier hybrid,
behind the System interface (task ``re``: relations between the documents' own entities)."""

from __future__ import annotations

import dataclasses
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


class TransformerRESystem(ModelFolderSystem):
    """Typed entity markers + sequence classification over same-sentence candidate pairs."""

    name = "re-transformer"
    task = "re"
    config_class = REConfig
    default_config = staticmethod(default_re_config)

    @property
    def classifier(self):
        """The :class:`~tradeie.training.relation.RelationClassifier` (None before fit or load)."""
        return self.predictor

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
        default=0.9,
        metadata={"help": "classifier links the rules did not find are added when their probability reaches this"},
    )
    classifier_epochs: float = field(default=10.0, metadata={"help": "training epochs of the classifier"})


class HybridRESystem(System):
    """The dependency rules as high-precision votes, the classifier's confident links added for recall."""

    name = "re-hybrid"
    task = "re"
    config_class = HybridConfig

    def __init__(self, config: HybridConfig | None = None) -> None:
        from tradeie.systems.relations import RelationRuleSystem, RelationRulesConfig

        super().__init__(config)
        self.rules = RelationRuleSystem(RelationRulesConfig(pipeline=self.config.pipeline))
        classifier_config = dataclasses.replace(
            default_re_config(), epochs=self.config.classifier_epochs, progress_bars=False
        )
        self.classifier = TransformerRESystem(classifier_config)

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
