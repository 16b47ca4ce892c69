"""Label-preserving mention-replacement augmentation drawn from the training split itself.

Each augmented copy of a training document swaps some entity mentions for
other mentions of the same label seen in the training documents; offsets,
sentence boundaries and relations are carried over (relations link the same
entity ids, so their labels are preserved). Augmented documents are for
training only: evaluation is always on real documents.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence

from tradeie.corpus import paragraph_spans, sentences_of
from tradeie.document import Document, Entity
from tradeie.text.tokens import SpanAlignmentError, bio_tags, entity_cuts, sentence_tokens

log = logging.getLogger(__name__)

AUGMENTED_MARK = "#aug"


def mention_bank(docs: Sequence[Document]) -> dict[str, list[str]]:
    """Distinct mention texts per entity label in ``docs`` (sorted, for determinism)."""
    bank: dict[str, set[str]] = {}
    for doc in docs:
        for ent in doc.entities:
            surface = doc.text[ent.start : ent.end]
            if surface.strip() and "\n" not in surface:
                bank.setdefault(ent.label, set()).add(surface)
    return {label: sorted(texts) for label, texts in sorted(bank.items())}


def _shift(pos: int, edits: list[tuple[int, int, int]]) -> int:
    """New offset of old offset ``pos`` after edits ``(old_start, old_end, delta)``."""
    return pos + sum(delta for _, old_end, delta in edits if old_end <= pos)


def replace_mentions(
    doc: Document, bank: dict[str, list[str]], rng: random.Random, prob: float, suffix: str = "1"
) -> Document | None:
    """One augmented copy of ``doc``, or None if no mention was replaced or tokens no longer align."""
    sentences = sentences_of(doc)
    pieces: list[str] = []
    edits: list[tuple[int, int, int]] = []
    new_entities: list[Entity] = []
    pos = 0
    for ent in sorted(doc.entities, key=lambda e: (e.start, e.end)):
        if ent.start < pos:  # overlapping spans are not expected; leave them as they are
            return None
        old = doc.text[ent.start : ent.end]
        choices = [t for t in bank.get(ent.label, ()) if t != old]
        new = rng.choice(choices) if choices and rng.random() < prob else old
        pieces.append(doc.text[pos : ent.start])
        start = ent.start + sum(d for _, _, d in edits)
        pieces.append(new)
        new_entities.append(Entity(start, start + len(new), ent.label, ent.id, new))
        if new != old:
            edits.append((ent.start, ent.end, len(new) - len(old)))
        pos = ent.end
    if not edits:
        return None
    pieces.append(doc.text[pos:])
    text = "".join(pieces)
    new_sentences = [[_shift(s, edits), _shift(e, edits)] for s, e in sentences]
    meta = {k: v for k, v in doc.meta.items() if k not in ("offset_map", "sha256", "similar")}
    meta.update(sentences=new_sentences, paragraphs=[list(p) for p in paragraph_spans(text)], augmented_from=doc.id)
    out = Document(
        id=f"{doc.id}{AUGMENTED_MARK}{suffix}",
        text=text,
        entities=tuple(new_entities),
        relations=doc.relations,
        meta=meta,
    )
    try:
        for toks in sentence_tokens(text, [tuple(s) for s in new_sentences], entity_cuts(out.entities)):
            bio_tags(toks, out.entities, out.id)
    except SpanAlignmentError:
        return None
    return out


def augment_documents(
    docs: Sequence[Document],
    copies: int = 1,
    prob: float = 0.5,
    seed: int = 0,
    bank: dict[str, list[str]] | None = None,
    attempts: int = 3,
) -> list[Document]:
    """``copies`` mention-replacement copies of each document (the originals are not included).

    The mention bank defaults to the mentions of ``docs`` themselves, so pass
    only the training split. A copy whose new mentions do not fall on token
    boundaries is redrawn up to ``attempts`` times, then skipped.
    """
    bank = mention_bank(docs) if bank is None else bank
    rng = random.Random(seed)
    out: list[Document] = []
    skipped = 0
    for doc in docs:
        for k in range(1, copies + 1):
            for _ in range(attempts):
                aug = replace_mentions(doc, bank, rng, prob, suffix=str(k))
                if aug is not None:
                    out.append(aug)
                    break
            else:
                skipped += 1
    if skipped:
        log.info("augmentation: %d copies skipped (nothing replaced or tokens did not align)", skipped)
    return out


def is_augmented(doc: Document) -> bool:
    return "augmented_from" in doc.meta
