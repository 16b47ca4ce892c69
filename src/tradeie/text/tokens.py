"""Tokenisation with character offsets: the only module that knows tokens.

Uses spaCy's rule-based English tokenizer and sentencizer from a blank
pipeline (no model download), with one extra infix rule: a hyphen or dash
after an abbreviation's period splits (``U.S.-India`` gives ``U.S.``, ``-``,
``India``), as it does between letters (``US-India``). ``18%`` gives ``18``,
``%``. Token boundaries also follow annotation boundaries: a token that an
entity starts or ends inside is split there (:func:`split_at`), so a gold
span is never unrepresentable.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from tradeie.errors import TradeieError


@dataclass(frozen=True)
class Token:
    text: str
    start: int
    end: int


@lru_cache(maxsize=1)
def _nlp():
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    configure_tokenizer(nlp)
    return nlp


#: Documents between two rebuilds of the tokenizer in a long build (see :class:`VocabBudget`).
VOCAB_DOCUMENTS = 10_000


class VocabBudget:
    """Rebuilds the blank tokenizer (:func:`_nlp`) every ``every`` documents of a long build.

    spaCy's vocabulary keeps every string the tokenizer meets, with a lexeme and a
    cache entry, so a build's memory would grow with the distinct words of its
    corpus. A fresh pipeline frees them; tokens are the same either way. (spaCy's
    memory zones free them too, but turn the tokenizer's cache off inside a zone,
    which doubles the tokenizer's time.) Call :meth:`tick` after each document.
    """

    def __init__(self, every: int = VOCAB_DOCUMENTS) -> None:
        self.every, self.count = every, 0

    def tick(self) -> None:
        """One more document done: at every ``every``-th, the next call of :func:`_nlp` builds a new one."""
        self.count += 1
        if self.count % self.every == 0:
            _nlp.cache_clear()


#: Splits a hyphen or dash that follows an abbreviation's period ("U.S.-India", "E.U.-led").
ABBREVIATION_HYPHEN_INFIX = r"(?<=[A-Za-z]\.)[-\u2013\u2014](?=[A-Za-z])"


def configure_tokenizer(nlp) -> None:
    """Give ``nlp`` tradeie's tokenisation rules (any spaCy English pipeline)."""
    from spacy.util import compile_infix_regex

    infixes = list(nlp.Defaults.infixes) + [ABBREVIATION_HYPHEN_INFIX]
    nlp.tokenizer.infix_finditer = compile_infix_regex(infixes).finditer


def tokenize(text: str, offset: int = 0, cuts: frozenset[int] | set[int] = frozenset()) -> list[Token]:
    """Tokens of ``text`` (whitespace dropped) with offsets shifted by ``offset``, split at ``cuts``."""
    doc = _nlp().make_doc(text)
    tokens = [Token(t.text, t.idx + offset, t.idx + len(t.text) + offset) for t in doc if not t.is_space]
    return split_at(tokens, cuts) if cuts else tokens


def split_at(tokens: list[Token], cuts: frozenset[int] | set[int]) -> list[Token]:
    """``tokens`` with every token split at the character offsets in ``cuts`` that fall inside it."""
    out: list[Token] = []
    for tok in tokens:
        inner = sorted(c for c in cuts if tok.start < c < tok.end)
        if not inner:
            out.append(tok)
            continue
        bounds = [tok.start, *inner, tok.end]
        for s, e in zip(bounds, bounds[1:]):
            piece = tok.text[s - tok.start : e - tok.start]
            if piece.strip():
                out.append(Token(piece, s, e))
    return out


def sentence_spans(text: str, offset: int = 0) -> list[tuple[int, int]]:
    """Sentence (start, end) character offsets within one paragraph of ``text``."""
    doc = _nlp()(text)
    spans = []
    for sent in doc.sents:
        tokens = [t for t in sent if not t.is_space]
        if tokens:
            spans.append((tokens[0].idx + offset, tokens[-1].idx + len(tokens[-1].text) + offset))
    return spans


def word_shape(word: str) -> str:
    """Character classes with runs collapsed: ``US`` -> ``X``, ``India`` -> ``Xx``, ``18%`` -> ``d%``."""
    out: list[str] = []
    for ch in word:
        c = "X" if ch.isupper() else "x" if ch.islower() else "d" if ch.isdigit() else ch
        if not out or out[-1] != c:
            out.append(c)
    return "".join(out)


class SpanAlignmentError(TradeieError, ValueError):
    """An entity span does not start and end on token boundaries (a user-data error)."""


def bio_tags(tokens: list[Token], entities, doc_id: str = "?") -> list[str]:
    """IOB2 tags for ``tokens`` from entities (objects with start/end/label/text).

    Entities outside the tokens' extent are ignored; an entity that starts or
    ends inside a token raises :class:`SpanAlignmentError` naming the document,
    offsets and text (never a silent drop).
    """
    tags = ["O"] * len(tokens)
    if not tokens:
        return tags
    starts = {t.start: i for i, t in enumerate(tokens)}
    ends = {t.end: i for i, t in enumerate(tokens)}
    lo, hi = tokens[0].start, tokens[-1].end
    for ent in entities:
        if ent.end <= lo or ent.start >= hi:
            continue
        if ent.start not in starts or ent.end not in ends:
            near = [t.text for t in tokens if t.end > ent.start and t.start < ent.end]
            raise SpanAlignmentError(
                f"document {doc_id}: {ent.label} span [{ent.start}:{ent.end}] {ent.text!r} does not "
                f"align with token boundaries (overlapping tokens: {near}); fix the span so it "
                "starts and ends on token boundaries"
            )
        first, last = starts[ent.start], ends[ent.end]
        tags[first] = f"B-{ent.label}"
        for k in range(first + 1, last + 1):
            tags[k] = f"I-{ent.label}"
    return tags


def index_span_tags(n: int, spans) -> list[str]:
    """IOB2 tags for ``n`` tokens from token-index spans ``(i, j, label)`` (``j`` exclusive)."""
    tags = ["O"] * n
    for i, j, label in spans:
        tags[i] = f"B-{label}"
        for k in range(i + 1, j):
            tags[k] = f"I-{label}"
    return tags


def spans_from_bio(tokens: list[Token], tags: list[str]) -> list[tuple[int, int, str]]:
    """(start, end, label) character spans from IOB2 tags; a stray I- starts a span."""
    spans: list[tuple[int, int, str]] = []
    current: list | None = None
    for tok, tag in zip(tokens, tags):
        prefix, _, label = tag.partition("-")
        if prefix == "I" and current is not None and current[2] == label:
            current[1] = tok.end
            continue
        if current is not None:
            spans.append(tuple(current))
            current = None
        if prefix in ("B", "I"):
            current = [tok.start, tok.end, label]
    if current is not None:
        spans.append(tuple(current))
    return spans


def sentence_tokens(
    text: str, sentences: list[tuple[int, int]], cuts: frozenset[int] | set[int] = frozenset()
) -> list[list[Token]]:
    """Tokens of each sentence ``(start, end)`` of ``text``, offsets into ``text``, split at ``cuts``."""
    return [tokenize(text[s:e], offset=s, cuts=cuts) for s, e in sentences]


def entity_cuts(*entity_sets) -> frozenset[int]:
    """Start and end offsets of every entity in ``entity_sets`` (where tokens must break)."""
    return frozenset(x for ents in entity_sets for e in ents for x in (e.start, e.end))
