"""The marker-based relation classifier (``tradeie train re``) and a rules + classifier hybrid,
behind the System interface (task ``re``: relations between the documents' own entities)."""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tradeie.document import Document, Relation
from tradeie.errors import TradeieError
from tradeie.text.linguistic import DEFAULT_PIPELINE
from tradeie.training.config import REConfig, load_config
from tradeie.systems.base import SYSTEM_FILE, System

DEFAULT_RE_CONFIG = "training/re.toml"


def default_re_config() -> REConfig:
    """The project's relation training config (``training/re.toml``) when present, else the defaults."""
    if Path(DEFAULT_RE_CONFIG).is_file():
        return load_config(DEFAULT_RE_CONFIG, task="re")
    return REConfig(task="re")


def _copy_tree(src: Path, dst: Path) -> None:
    for item in src.iterdir():
        if item.name == SYSTEM_FILE:
            continue
        if item.is_dir():
            shutil.copytree(item, dst / item.name, dirs_exist_ok=True)
        else:
            shutil.copy2(item, dst / item.name)


class TransformerRESystem(System):
    """Typed entity markers + sequence classification over same-sentence candidate pairs."""

    name = "re-transformer"
    task = "re"
    config_class = REConfig

    def __init__(self, config: REConfig | None = None) -> None:
        super().__init__(config if config is not None else default_re_config())
        self.classifier = None
        self._folder: Path | None = None
        self._tmp: tempfile.TemporaryDirectory | None = None

    def fit(self, train: Sequence[Document], dev: Sequence[Document] | None = None) -> TransformerRESystem:
        from tradeie.training.relation import RelationClassifier, fit_re

        self._tmp = tempfile.TemporaryDirectory(prefix="tradeie-re-")
        self._folder = Path(self._tmp.name) / "re"
        fit_re(list(train), list(dev) if dev else None, self.config, self._folder)
        self.classifier = RelationClassifier.load(self._folder)
        return self

    def predict(self, docs: Sequence[Document]) -> list[Document]:
        if self.classifier is None:
            raise TradeieError(f"system {self.name}: not trained", hint="fit or load it first")
        return self.classifier.predict(list(docs))

    def _save_state(self, folder: Path) -> None:
        if self._folder is None:
            raise TradeieError(f"system {self.name}: nothing to save", hint="fit it first")
        if self._folder.resolve() != folder.resolve():
            _copy_tree(self._folder, folder)

    def _load_state(self, folder: Path) -> None:
        from tradeie.training.relation import RelationClassifier

        self._folder = folder
        self.classifier = RelationClassifier.load(folder)


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
