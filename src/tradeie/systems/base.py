"""The System interface every NER or relation system implements, and the registry of systems.

A system has a ``name``, a config dataclass, ``fit(train, dev)``,
``predict(docs)`` (copies of ``docs`` with predicted entities and, for
relation systems, relations), ``save(folder)`` and ``load(folder)``. A saved
system is a folder holding ``system.json`` (its name and config) and
whatever files the system needs; :func:`load_system` reads any of them.
"""

from __future__ import annotations

import dataclasses
import json
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

from tradeie.document import Document, Entity
from tradeie.errors import TradeieError
from tradeie.io.atomic import write_json_atomic

SYSTEM_FILE = "system.json"
_REGISTRY: dict[str, type[System]] = {}


class System(ABC):
    """An NER system (``task = "ner"``) or a relation system (``task = "re"``)."""

    name: ClassVar[str]
    task: ClassVar[str] = "ner"
    config_class: ClassVar[type]

    def __init__(self, config: Any = None) -> None:
        self.config = config if config is not None else self.config_class()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__:
            _REGISTRY[cls.name] = cls

    @abstractmethod
    def fit(self, train: Sequence[Document], dev: Sequence[Document] | None = None) -> System:
        """Learn from ``train`` (``dev`` only for model selection inside the system); returns self."""

    @abstractmethod
    def predict(self, docs: Sequence[Document]) -> list[Document]:
        """Copies of ``docs`` with predicted annotations (NER: entities; RE: relations between the
        documents' own entities)."""

    def save(self, folder: str | Path) -> Path:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        write_json_atomic(
            folder / SYSTEM_FILE, {"system": self.name, "task": self.task, "config": dataclasses.asdict(self.config)}
        )
        self._save_state(folder)
        if not (folder / "README.md").exists():
            from tradeie.systems.card import write_system_card

            write_system_card(self, folder, getattr(self, "n_train", None))
        return folder

    def _save_state(self, folder: Path) -> None:
        """Write the learned state (nothing for systems without one)."""

    @classmethod
    def load(cls, folder: str | Path) -> System:
        folder = Path(folder)
        meta = read_system_file(folder)
        try:
            config = cls.config_class(**meta.get("config", {}))
        except TypeError as exc:
            raise TradeieError(
                f"{folder / SYSTEM_FILE}: config does not fit system {cls.name} ({exc})",
                hint="retrain the system with this version of tradeie",
            ) from None
        system = cls(config)
        system._load_state(folder)
        return system

    def _load_state(self, folder: Path) -> None:
        """Read the learned state written by :meth:`_save_state`."""


def read_system_file(folder: Path) -> dict[str, Any]:
    path = Path(folder) / SYSTEM_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TradeieError(
            f"{folder}: not a saved system (no {SYSTEM_FILE})", hint="train one with `tradeie train system`"
        ) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise TradeieError(f"{path}: corrupt ({exc})", hint="retrain the system") from None


def system_class(name: str) -> type[System]:
    from tradeie.systems import crf, relations, rules, transformer, transformer_re  # noqa: F401  (registers the systems)

    try:
        return _REGISTRY[name]
    except KeyError:
        raise TradeieError(f"unknown system {name!r}", hint=f"use one of {', '.join(sorted(_REGISTRY))}") from None


def system_names() -> list[str]:
    system_class("rules")
    return sorted(_REGISTRY)


def load_system(folder: str | Path) -> System:
    """A saved system of any kind."""
    meta = read_system_file(Path(folder))
    return system_class(meta["system"]).load(folder)


def with_entities(
    doc: Document, spans: Sequence[tuple[int, int, str]], scores: Sequence[float] | None = None
) -> Document:
    """A copy of ``doc`` whose entities are ``spans`` (ids ``e1``... in text order), no relations."""
    order = sorted(range(len(spans)), key=lambda i: spans[i][:2])
    ents = [
        Entity(
            spans[i][0],
            spans[i][1],
            spans[i][2],
            f"e{k}",
            doc.text[spans[i][0] : spans[i][1]],
            None if scores is None else scores[i],
        )
        for k, i in enumerate(order, 1)
    ]
    return doc.with_annotations(ents, ())
