"""The fine-tuned transformer NER model (``tradeie train ner``) behind the System interface."""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from tradeie.document import Document
from tradeie.errors import TradeieError
from tradeie.training.config import NERConfig, load_config
from tradeie.systems.base import SYSTEM_FILE, System

DEFAULT_NER_CONFIG = "training/ner.toml"


def default_ner_config() -> NERConfig:
    """The project's NER training config (``training/ner.toml``) when present, else the defaults."""
    if Path(DEFAULT_NER_CONFIG).is_file():
        return load_config(DEFAULT_NER_CONFIG, task="ner")
    return NERConfig(task="ner")


class TransformerNERSystem(System):
    """Token classification fine-tuned from a Hugging Face encoder (MiniLM-L6 by default)."""

    name = "transformer"
    config_class = NERConfig

    def __init__(self, config: NERConfig | None = None) -> None:
        super().__init__(config if config is not None else default_ner_config())
        self.tagger = None
        self._folder: Path | None = None
        self._tmp: tempfile.TemporaryDirectory | None = None

    def fit(self, train: Sequence[Document], dev: Sequence[Document] | None = None) -> TransformerNERSystem:
        from tradeie.training.ner import NERTagger, fit_ner

        self._tmp = tempfile.TemporaryDirectory(prefix="tradeie-transformer-")
        self._folder = Path(self._tmp.name) / "ner"
        fit_ner(list(train), list(dev) if dev else None, self.config, self._folder)
        self.tagger = NERTagger.load(self._folder)
        return self

    def predict(self, docs: Sequence[Document]) -> list[Document]:
        if self.tagger is None:
            raise TradeieError(f"system {self.name}: not trained", hint="fit or load it first")
        return self.tagger.predict(list(docs))

    def _save_state(self, folder: Path) -> None:
        if self._folder is None:
            raise TradeieError(f"system {self.name}: nothing to save", hint="fit it first")
        if self._folder.resolve() != folder.resolve():
            for item in self._folder.iterdir():
                if item.name == SYSTEM_FILE:
                    continue
                target = folder / item.name
                if item.is_dir():
                    shutil.copytree(item, target, dirs_exist_ok=True)
                else:
                    shutil.copy2(item, target)

    def _load_state(self, folder: Path) -> None:
        from tradeie.training.ner import NERTagger

        self._folder = folder
        self.tagger = NERTagger.load(folder)


class TransformerFeaturesNERSystem(TransformerNERSystem):
    """The fine-tuned transformer enriched with word shape, POS, OntoNotes entity-type and rule-match
    embeddings concatenated to the encoder's token states (``linguistic_features``)."""

    name = "transformer-features"

    def __init__(self, config: NERConfig | None = None) -> None:
        if config is None:
            from tradeie.training.features import FEATURE_NAMES

            config = dataclasses.replace(default_ner_config(), linguistic_features=list(FEATURE_NAMES))
        super().__init__(config)
