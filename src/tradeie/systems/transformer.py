"""The fine-tuned transformer NER model (``tradeie train ner``) behind the System interface, and
:class:`ModelFolderSystem`, the base of every system whose state is a trained model folder."""

from __future__ import annotations

import dataclasses
import shutil
from abc import abstractmethod
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

from tradeie.document import Document
from tradeie.errors import TradeieError
from tradeie.training.config import NERConfig, load_config
from tradeie.systems.base import SYSTEM_FILE, System

DEFAULT_NER_CONFIG = "training/ner.toml"


def project_config(path: str, task: str, cls: type) -> Any:
    """The project's training config at ``path`` (e.g. ``training/ner.toml``) when present, else ``cls``'s defaults."""
    if Path(path).is_file():
        return load_config(path, task=task)
    return cls(task=task)


def default_ner_config() -> NERConfig:
    """The project's NER training config (``training/ner.toml``) when present, else the defaults."""
    return project_config(DEFAULT_NER_CONFIG, "ner", NERConfig)


def copy_model_folder(src: Path, dst: Path) -> None:
    """Copy a trained model folder's files into ``dst`` (a system folder; its ``system.json`` is kept)."""
    for item in src.iterdir():
        if item.name == SYSTEM_FILE:
            continue
        if item.is_dir():
            shutil.copytree(item, dst / item.name, dirs_exist_ok=True)
        else:
            shutil.copy2(item, dst / item.name)


class ModelFolderSystem(System):
    """A system whose state is a model folder written by a trainer and read back by a predictor.

    Subclasses give :meth:`_train` (train into a folder) and :meth:`_open`
    (load the predictor of a folder, which has ``predict(docs)``).
    """

    default_config: ClassVar[Any] = None

    def __init__(self, config: Any = None) -> None:
        super().__init__(config if config is not None else type(self).default_config())
        self.predictor = None
        self._folder: Path | None = None
        self._tmp: tempfile.TemporaryDirectory | None = None

    @abstractmethod
    def _train(self, train: list[Document], dev: list[Document] | None, folder: Path) -> None:
        """Train on ``train`` (``dev`` for model selection) and write the model folder ``folder``."""

    @abstractmethod
    def _open(self, folder: Path):
        """The predictor of a model folder written by :meth:`_train`."""

    def fit(self, train: Sequence[Document], dev: Sequence[Document] | None = None) -> ModelFolderSystem:
        self._tmp = tempfile.TemporaryDirectory(prefix=f"tradeie-{self.name}-")
        folder = Path(self._tmp.name) / self.task
        self._train(list(train), list(dev) if dev else None, folder)
        self._load_state(folder)
        return self

    def predict(self, docs: Sequence[Document]) -> list[Document]:
        if self.predictor is None:
            raise TradeieError(f"system {self.name}: not trained", hint="fit or load it first")
        return self.predictor.predict(list(docs))

    def _save_state(self, folder: Path) -> None:
        if self._folder is None:
            raise TradeieError(f"system {self.name}: nothing to save", hint="fit it first")
        if self._folder.resolve() != folder.resolve():
            copy_model_folder(self._folder, folder)

    def _load_state(self, folder: Path) -> None:
        self._folder = folder
        self.predictor = self._open(folder)


class TransformerNERSystem(ModelFolderSystem):
    """Token classification fine-tuned from a Hugging Face encoder (MiniLM-L6 by default)."""

    name = "transformer"
    config_class = NERConfig
    default_config = staticmethod(default_ner_config)

    @property
    def tagger(self):
        """The :class:`~tradeie.training.ner.NERTagger` (None before fit or load)."""
        return self.predictor

    def _train(self, train: list[Document], dev: list[Document] | None, folder: Path) -> None:
        from tradeie.training.ner import fit_ner

        fit_ner(train, dev, self.config, folder)

    def _open(self, folder: Path):
        from tradeie.training.ner import NERTagger

        return NERTagger.load(folder)


class TransformerFeaturesNERSystem(TransformerNERSystem):
    """The fine-tuned transformer enriched with word shape, POS, OntoNotes entity-type and rule-match
    embeddings concatenated to the encoder's token states (``linguistic_features``)."""

    name = "transformer-features"

    def __init__(self, config: NERConfig | None = None) -> None:
        if config is None:
            from tradeie.training.features import FEATURE_NAMES

            config = dataclasses.replace(default_ner_config(), linguistic_features=list(FEATURE_NAMES))
        super().__init__(config)
