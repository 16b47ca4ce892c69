"""Relation candidates and typed entity markers, shared by the dataset and the RE model.

A candidate is an ordered entity pair whose type signature the schema allows
(:data:`tradeie.schema.SIGNATURES`) and whose sentences are at most
``window`` sentences apart. Its input text is the covering sentences with the
head and tail wrapped in typed markers, e.g.
``[H:ACTOR] India [/H] and ... [T:AGREEMENT] trade deal [/T]``.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

from tradeie.corpus import sentences_of
from tradeie.document import Document, Entity
from tradeie.schema import ENTITY_LABELS, NO_RELATION, is_candidate_pair

#: Same sentence only: on the seed gold a window of 1 doubles the negatives and adds no positive.
DEFAULT_WINDOW = 0


def head_open(label: str) -> str:
    return f"[H:{label}]"


def tail_open(label: str) -> str:
    return f"[T:{label}]"


HEAD_CLOSE = "[/H]"
TAIL_CLOSE = "[/T]"


def marker_tokens() -> list[str]:
    """Every marker string, to add to a tokenizer as special tokens."""
    return [m for label in ENTITY_LABELS for m in (head_open(label), tail_open(label))] + [HEAD_CLOSE, TAIL_CLOSE]


@dataclass(frozen=True)
class Candidate:
    """An ordered (head, tail) entity pair with its gold label (``no_relation`` if none)."""

    doc_id: str
    head: Entity
    tail: Entity
    label: str
    context_start: int
    context_end: int
    sentence_distance: int


def _sentence_index(sentences: list[tuple[int, int]], offset: int) -> int:
    return max(bisect_right([s for s, _ in sentences], offset) - 1, 0)


def candidate_pairs(doc: Document, window: int = DEFAULT_WINDOW, entities=None) -> list[Candidate]:
    """All allowed ordered pairs of ``entities`` (default: the document's) within ``window`` sentences.

    Gold relation labels come from ``doc.relations`` (matched by entity span
    and label, so predicted entities that equal gold ones get gold labels).
    """
    entities = sorted(doc.entities if entities is None else entities, key=lambda e: (e.start, e.end))
    sentences = sentences_of(doc) or [(0, len(doc.text))]
    gold = {(h, t): label for h, t, label in doc.relation_keys()}
    sent_of = {id(e): _sentence_index(sentences, e.start) for e in entities}
    out = []
    for head in entities:
        for tail in entities:
            if head is tail or not is_candidate_pair(head.label, tail.label):
                continue
            s_head, s_tail = sent_of[id(head)], sent_of[id(tail)]
            distance = abs(s_head - s_tail)
            if distance > window:
                continue
            lo, hi = min(s_head, s_tail), max(s_head, s_tail)
            out.append(
                Candidate(
                    doc_id=doc.id,
                    head=head,
                    tail=tail,
                    label=gold.get((head.key, tail.key), NO_RELATION),
                    context_start=sentences[lo][0],
                    context_end=sentences[hi][1],
                    sentence_distance=distance,
                )
            )
    return out


def marked_text(text: str, cand: Candidate) -> str:
    """The candidate's context with typed markers around head and tail."""
    inserts = sorted(
        [
            (cand.head.start, 1, head_open(cand.head.label) + " "),
            (cand.head.end, 0, " " + HEAD_CLOSE),
            (cand.tail.start, 1, tail_open(cand.tail.label) + " "),
            (cand.tail.end, 0, " " + TAIL_CLOSE),
        ]
    )
    out, pos = [], cand.context_start
    for offset, _, marker in inserts:
        out.append(text[pos:offset])
        out.append(marker)
        pos = offset
    out.append(text[pos : cand.context_end])
    return "".join(out)


def gold_relations_outside_window(doc: Document, window: int = DEFAULT_WINDOW) -> list[tuple]:
    """Gold relations no candidate covers (they are lost to a model using this window)."""
    covered = {(c.head.key, c.tail.key) for c in candidate_pairs(doc, window)}
    return [(h, t, label) for h, t, label in doc.relation_keys() if (h, t) not in covered]
