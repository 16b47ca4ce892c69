"""The frozen data model every stage speaks: Entity, Relation, Document.

Formats (Label Studio JSON, BIO tags, datasets rows, JSONL) are converted
only at the edges, in their own modules.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from typing import Any


def text_sha256(text: str) -> str:
    """sha256 of a text's UTF-8 bytes (used to tie annotations to a corpus text)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, order=True)
class Entity:
    """A labelled character span ``text[start:end]`` of a document."""

    start: int
    end: int
    label: str
    id: str = field(default="", compare=False)
    text: str = field(default="", compare=False)
    score: float | None = field(default=None, compare=False)
    #: The entity this mention denotes within its document ("US", "U.S." and
    #: "Washington" as a government share one referent); "" when unannotated.
    referent: str = field(default="", compare=False)

    @property
    def key(self) -> tuple[int, int, str]:
        return (self.start, self.end, self.label)

    def to_dict(self, *, scores: bool = False) -> dict[str, Any]:
        """The entity's JSON row; ``score`` only when set, or always (``None`` if unscored) with ``scores``."""
        row = {"id": self.id, "start": self.start, "end": self.end, "label": self.label, "text": self.text}
        if self.referent:
            row["referent"] = self.referent
        if scores or self.score is not None:
            row["score"] = self.score
        return row

    @classmethod
    def from_dict(cls, row: dict[str, Any]) -> Entity:
        return cls(
            start=int(row["start"]),
            end=int(row["end"]),
            label=str(row["label"]),
            id=str(row.get("id", "")),
            text=str(row.get("text", "")),
            score=None if row.get("score") is None else float(row["score"]),
            referent=str(row.get("referent") or ""),
        )


@dataclass(frozen=True)
class Relation:
    """A directed, labelled link between two entities (by id) of one document."""

    head: str
    tail: str
    label: str
    score: float | None = field(default=None, compare=False)

    def to_dict(self, *, scores: bool = False) -> dict[str, Any]:
        """The relation's JSON row; ``score`` as for :meth:`Entity.to_dict`."""
        row = {"head": self.head, "tail": self.tail, "label": self.label}
        if scores or self.score is not None:
            row["score"] = self.score
        return row

    @classmethod
    def from_dict(cls, row: dict[str, Any]) -> Relation:
        return cls(
            head=str(row["head"]),
            tail=str(row["tail"]),
            label=str(row["label"]),
            score=None if row.get("score") is None else float(row["score"]),
        )


@dataclass(frozen=True)
class Document:
    """A text with (possibly empty) entity and relation annotations and metadata.

    ``meta`` holds corpus metadata (date, source, sha256 of the raw file,
    near-duplicate group, paragraph/sentence offsets, raw offset map) and
    provenance (annotator, Label Studio task/annotation ids).
    """

    id: str
    text: str
    entities: tuple[Entity, ...] = ()
    relations: tuple[Relation, ...] = ()
    meta: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def text_sha256(self) -> str:
        return text_sha256(self.text)

    def entity_index(self) -> dict[str, Entity]:
        return {ent.id: ent for ent in self.entities}

    def relation_keys(self) -> set[tuple[tuple[int, int, str], tuple[int, int, str], str]]:
        """Relations as ((head span), (tail span), label), independent of entity ids."""
        index = self.entity_index()
        return {
            (index[r.head].key, index[r.tail].key, r.label)
            for r in self.relations
            if r.head in index and r.tail in index
        }

    def with_annotations(self, entities, relations=None) -> Document:
        return replace(
            self, entities=tuple(entities), relations=tuple(self.relations if relations is None else relations)
        )

    def to_dict(self, *, scores: bool = False, meta: bool = True) -> dict[str, Any]:
        """The Documents JSONL row (:mod:`tradeie.io.jsonl`); ``scores``: every score, set or not;
        ``meta``: include non-empty metadata."""
        return {
            "id": self.id,
            "text": self.text,
            "entities": [e.to_dict(scores=scores) for e in self.entities],
            "relations": [r.to_dict(scores=scores) for r in self.relations],
            **({"meta": self.meta} if meta and self.meta else {}),
        }

    @classmethod
    def from_dict(cls, row: dict[str, Any]) -> Document:
        return cls(
            id=str(row["id"]),
            text=str(row["text"]),
            entities=tuple(Entity.from_dict(e) for e in row.get("entities", [])),
            relations=tuple(Relation.from_dict(r) for r in row.get("relations", [])),
            meta=dict(row.get("meta", {})),
        )


def make_entity(text: str, start: int, end: int, label: str, entity_id: str = "", score: float | None = None) -> Entity:
    """Build an entity whose ``text`` is read from the document text."""
    return Entity(start=start, end=end, label=label, id=entity_id, text=text[start:end], score=score)
