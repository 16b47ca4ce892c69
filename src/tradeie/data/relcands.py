"""Relation candidates and typed entity markers, shared by the dataset and the RE model.

A candidate is an ordered entity pair whose type signature the schema allows
(:data:`tradeie.schema.SIGNATURES`) and whose sentences are at most
``window`` sentences apart. Its input text is the covering sentences with the
head and tail wrapped in typed markers, e.g.
``[H:ACTOR] India [/H] and ... [T:AGREEMENT] trade deal [/T]``.

**List scope** (guideline D7) links across sentences: a line that introduces a
bulleted or numbered list ("Key terms of the CETA include:") scopes the items
under it, so :func:`scope_pairs` pairs each TARIFF of an item with each
AGREEMENT of the lead-in line (``part_of``) and each ACTOR of the lead-in line
with each TARIFF of an item (``imposes``), however many sentences apart. Their
text is the marked lead-in line and the marked item sentence, one per line.
The dataset's ``relations`` config publishes the ``window`` pairs only;
the relation classifier adds these (``list_scope``).
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass

from tradeie.corpus import sentences_of
from tradeie.document import Document, Entity
from tradeie.schema import ENTITY_LABELS, NO_RELATION, SIGNATURES

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
    #: List-scope pairs (:func:`scope_pairs`): the lead-in line ``(start, end)``; the context is then the
    #: sentence of the item's mention. None for the pairs of :func:`candidate_pairs`' window.
    lead: tuple[int, int] | None = None


def _sentence_index(starts: list[int], offset: int) -> int:
    """The sentence holding ``offset``, from the sentences' sorted start offsets."""
    return max(bisect_right(starts, offset) - 1, 0)


def candidate_pairs(
    doc: Document, window: int = DEFAULT_WINDOW, entities=None, *, scope: bool = False
) -> list[Candidate]:
    """All allowed ordered pairs of ``entities`` (default: the document's) within ``window`` sentences,
    followed, with ``scope``, by the list-scope pairs further apart (:func:`scope_pairs`).

    Gold relation labels come from ``doc.relations`` (matched by entity span
    and label, so predicted entities that equal gold ones get gold labels).
    """
    entities = sorted(doc.entities if entities is None else entities, key=lambda e: (e.start, e.end))
    sentences = sentences_of(doc) or [(0, len(doc.text))]
    gold = {(h, t): label for h, t, label in doc.relation_keys()}
    starts = [s for s, _ in sentences]
    sent = [_sentence_index(starts, e.start) for e in entities]  # non-decreasing: entities are sorted
    out = []
    for i, head in enumerate(entities):
        s_head = sent[i]
        # the tails within the window are one run of the sorted entities
        first, last = bisect_left(sent, s_head - window), bisect_right(sent, s_head + window)
        for j in range(first, last):
            tail = entities[j]
            if tail is head or (head.label, tail.label) not in SIGNATURES:
                continue
            s_tail = sent[j]
            lo, hi = min(s_head, s_tail), max(s_head, s_tail)
            out.append(
                Candidate(
                    doc_id=doc.id,
                    head=head,
                    tail=tail,
                    label=gold.get((head.key, tail.key), NO_RELATION),
                    context_start=sentences[lo][0],
                    context_end=sentences[hi][1],
                    sentence_distance=hi - lo,
                )
            )
    if scope:
        out.extend(scope_pairs(doc, entities, window))
    return out


def marked_text(text: str, cand: Candidate) -> str:
    """The candidate's context with typed markers around head and tail (a list-scope pair: the
    marked lead-in line, a line break, the marked item sentence)."""
    inserts = sorted(
        [
            (cand.head.start, 1, head_open(cand.head.label) + " "),
            (cand.head.end, 0, " " + HEAD_CLOSE),
            (cand.tail.start, 1, tail_open(cand.tail.label) + " "),
            (cand.tail.end, 0, " " + TAIL_CLOSE),
        ]
    )
    segments = [(cand.context_start, cand.context_end)]
    if cand.lead is not None:
        segments = sorted([cand.lead, *segments])
    parts = []
    for start, end in segments:
        out, pos = [], start
        for offset, _, marker in inserts:
            if start <= offset <= end:
                out.append(text[pos:offset])
                out.append(marker)
                pos = offset
        out.append(text[pos:end])
        parts.append("".join(out))
    return "\n".join(parts)


# ----------------------------------------------------------------- list scope

#: A bulleted or numbered list item: "- ", "– ", "• ", "* ", "1. ", "2) ", "(a) ".
ITEM_LINE = re.compile(r"^\s*(?:[-\u2013\u2014\u2022*\u25aa\u00b7]|\(?\d{1,2}[.)]|\(?[a-z][.)])\s+")

#: The pairs a lead-in line scopes (D7): (head label, tail label, where the head is: "item" or "lead").
SCOPE_SIGNATURES: tuple[tuple[str, str, str], ...] = (("TARIFF", "AGREEMENT", "item"), ("ACTOR", "TARIFF", "lead"))


def line_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of every non-blank line of ``text``."""
    spans, pos = [], 0
    for line in text.split("\n"):
        if line.strip():
            spans.append((pos, pos + len(line)))
        pos += len(line) + 1
    return spans


def list_blocks(text: str) -> list[tuple[tuple[int, int], list[tuple[int, int]]]]:
    """Every list of ``text``: (its lead-in line, its item lines).

    A lead-in is a line that is no list item itself and is followed (blank
    lines skipped) by one or more item lines (:data:`ITEM_LINE`); the list is
    those consecutive item lines.
    """
    lines = line_spans(text)
    is_item = [bool(ITEM_LINE.match(text[a:b])) for a, b in lines]
    blocks = []
    for k, lead in enumerate(lines):
        if is_item[k]:
            continue
        items = []
        for j in range(k + 1, len(lines)):
            if not is_item[j]:
                break
            items.append(lines[j])
        if items:
            blocks.append((lead, items))
    return blocks


def scope_pairs(doc: Document, entities=None, window: int = DEFAULT_WINDOW) -> list[Candidate]:
    """The list-scope candidates of ``entities`` (default: the document's): for every list
    (:func:`list_blocks`), each TARIFF of an item with each AGREEMENT of the lead-in line and each ACTOR
    of the lead-in line with each TARIFF of an item, when more than ``window`` sentences apart (nearer
    pairs are :func:`candidate_pairs`' already). Gold labels as in :func:`candidate_pairs`.
    """
    entities = sorted(doc.entities if entities is None else entities, key=lambda e: (e.start, e.end))
    sentences = sentences_of(doc) or [(0, len(doc.text))]
    starts = [s for s, _ in sentences]
    gold = {(h, t): label for h, t, label in doc.relation_keys()}
    out = []
    for lead, items in list_blocks(doc.text):

        def inside(label: str, spans) -> list[Entity]:
            return [e for e in entities if e.label == label and any(a <= e.start and e.end <= b for a, b in spans)]

        for head_label, tail_label, head_side in SCOPE_SIGNATURES:
            lead_label, item_label = (head_label, tail_label) if head_side == "lead" else (tail_label, head_label)
            for in_lead in inside(lead_label, [lead]):
                for in_item in inside(item_label, items):
                    head, tail = (in_lead, in_item) if head_side == "lead" else (in_item, in_lead)
                    s_item = _sentence_index(starts, in_item.start)
                    distance = abs(s_item - _sentence_index(starts, in_lead.start))
                    if distance <= window:
                        continue
                    out.append(
                        Candidate(
                            doc_id=doc.id,
                            head=head,
                            tail=tail,
                            label=gold.get((head.key, tail.key), NO_RELATION),
                            context_start=max(sentences[s_item][0], lead[1] + 1),
                            context_end=sentences[s_item][1],
                            sentence_distance=distance,
                            lead=lead,
                        )
                    )
    return sorted(out, key=lambda c: (c.head.start, c.tail.start))


def gold_relations_outside_window(doc: Document, window: int = DEFAULT_WINDOW) -> list[tuple]:
    """Gold relations no candidate covers (they are lost to a model using this window)."""
    covered = {(c.head.key, c.tail.key) for c in candidate_pairs(doc, window)}
    return [(h, t, label) for h, t, label in doc.relation_keys() if (h, t) not in covered]
