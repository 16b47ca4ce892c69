"""Pair features of relation candidates, written as a short text the relation classifier reads first.

The marker classifier (:mod:`tradeie.training.relation`) reads ``[CLS] features
[SEP] marked context [SEP]``. The features of a candidate pair are

- ``path``: the dependency path between the two mentions in the spaCy parse
  (each entity merged into one token, as the relation rules see it): the
  dependency relations up from the head mention to the lowest common
  ancestor and down to the tail mention, with the words on the way, e.g.
  ``subject < sign > object`` for "India signed the deal" (India -> deal);
  ``long path`` beyond :data:`MAX_PATH_EDGES` edges; ``list item under its
  lead-in`` for a list-scope pair (:func:`tradeie.data.relcands.scope_pairs`);
- ``distance``: how many words and other mentions lie between the two
  mentions (``2 words apart ; no mention between``), or how many sentences
  apart pairs of different sentences are;
- ``rules``: the label the dependency rules (``re-rules``) give the pair, or
  ``none`` (``rules: party_to``): the rules as features of the hybrid.

Example: ``subject < sign > object ; 2 words apart ; no mention between ; rules: party_to``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from tradeie.document import Document, Entity
from tradeie.text.linguistic import DEFAULT_PIPELINE

#: Feature names, in the order they are written.
FEATURES: tuple[str, ...] = ("path", "distance", "rules")
#: Paths with more edges than this are written ``long path``.
MAX_PATH_EDGES = 6

#: Readable words for the spaCy (ClearNLP) dependency labels on a path; "" leaves the label out.
DEP_WORDS = {
    "nsubj": "subject",
    "csubj": "subject",
    "nsubjpass": "passive subject",
    "csubjpass": "passive subject",
    "expl": "subject",
    "dobj": "object",
    "pobj": "object",
    "dative": "object",
    "attr": "attribute",
    "oprd": "predicate",
    "agent": "agent",
    "poss": "possessive",
    "case": "",
    "compound": "compound",
    "amod": "modifier",
    "nmod": "modifier",
    "npadvmod": "modifier",
    "advmod": "adverb",
    "nummod": "number",
    "quantmod": "number",
    "appos": "apposition",
    "conj": "and",
    "cc": "",
    "prep": "",
    "relcl": "relative clause",
    "acl": "clause",
    "advcl": "clause",
    "xcomp": "clause",
    "ccomp": "clause",
    "pcomp": "clause",
    "det": "determiner",
    "neg": "not",
    "punct": "punctuation",
    "dep": "dependent",
    "parataxis": "clause",
}

PairKey = tuple[str, int, int, str, int, int, str]


def pair_key(doc_id: str, head: Entity, tail: Entity) -> PairKey:
    """The key of a candidate pair in :meth:`PairFeatures.texts` (document, head span and label, tail's)."""
    return (doc_id, head.start, head.end, head.label, tail.start, tail.end, tail.label)


def token_word(tok) -> str:
    """A token on a path: an entity's label (``actor``), else the verb lemma of the rules' table, else the
    lower-cased text."""
    label = getattr(tok._, "tie_label", "") if hasattr(tok, "_") else ""
    if label:
        return label.lower()
    return (getattr(tok._, "tie_lemma", "") if hasattr(tok, "_") else "") or tok.lower_


def _dep(tok) -> str:
    return DEP_WORDS.get(tok.dep_, tok.dep_.lower())


def _chain(tok, limit: int = 64) -> list:
    out = [tok]
    while out[-1].head.i != out[-1].i and len(out) < limit:
        out.append(out[-1].head)
    return out


def dependency_path(a, b, word=token_word, max_edges: int = MAX_PATH_EDGES) -> str:
    """The dependency path from token ``a`` to token ``b`` of one parse, e.g. ``subject < sign > object``.

    Going up from ``a``: each relation, then ``<`` and the word above it; the lowest common ancestor's
    word (unless it is ``a`` or ``b``); going down to ``b``: ``>``, each relation and the word below it
    (``b``'s own word is left out). ``long path`` beyond ``max_edges`` edges, ``no path`` if the tokens
    are not in one tree or are the same token.
    """
    up_a, up_b = _chain(a), _chain(b)
    where_b = {t.i: k for k, t in enumerate(up_b)}
    k_a = next((k for k, t in enumerate(up_a) if t.i in where_b), None)
    if k_a is None or a.i == b.i:
        return "no path"
    k_b = where_b[up_a[k_a].i]
    if k_a + k_b > max_edges:
        return "long path"
    lca = up_a[k_a]
    parts: list[str] = []
    for t in up_a[:k_a]:
        parts += [_dep(t), "<"]
        if t.head.i != lca.i:
            parts.append(word(t.head))
    if k_a and k_b:
        parts.append(word(lca))
    for t in reversed(up_b[:k_b]):
        parts += [">", _dep(t)]
        if t.i != b.i:
            parts.append(word(t))
    return " ".join(p for p in parts if p)


def words_apart(n: int) -> str:
    """``adjacent``, ``1 word apart``, ``2 words apart``, ``3-4 words apart``, ``5-8``, ``9-15``, ``16+``."""
    if n <= 0:
        return "adjacent"
    if n == 1:
        return "1 word apart"
    if n == 2:
        return "2 words apart"
    for lo, hi in ((3, 4), (5, 8), (9, 15)):
        if n <= hi:
            return f"{lo}-{hi} words apart"
    return "16+ words apart"


def mentions_between(n: int) -> str:
    """``no mention between``, ``1 mention between``, ``2 mentions between``, ``3+ mentions between``."""
    if n <= 0:
        return "no mention between"
    if n == 1:
        return "1 mention between"
    return "2 mentions between" if n == 2 else "3+ mentions between"


def sentences_apart(n: int) -> str:
    """``1 sentence apart``, ``2 sentences apart``, ``3-5 sentences apart``, ``6+ sentences apart``."""
    if n <= 1:
        return "1 sentence apart"
    if n == 2:
        return "2 sentences apart"
    return "3-5 sentences apart" if n <= 5 else "6+ sentences apart"


def same_sentence_text(sdoc, head_i: int, tail_i: int, features: Sequence[str], entity_tokens: set[int]) -> list[str]:
    """The ``path`` and ``distance`` parts of a pair whose mentions are tokens ``head_i`` and ``tail_i``
    of the parsed sentence ``sdoc`` (``entity_tokens``: the indices of every merged mention)."""
    parts = []
    if "path" in features:
        parts.append(dependency_path(sdoc[head_i], sdoc[tail_i]))
    if "distance" in features:
        lo, hi = sorted((head_i, tail_i))
        words = sum(1 for t in sdoc[lo + 1 : hi] if not t.is_punct)
        parts.append(words_apart(words))
        parts.append(mentions_between(sum(1 for i in range(lo + 1, hi) if i in entity_tokens)))
    return parts


class PairFeatures:
    """Feature texts of candidate pairs (module docstring), computed from one spaCy parse per document.

    ``features``: a subset of :data:`FEATURES`; ``pipeline``: the spaCy pipeline of the parse and of the
    rules. Results are cached per document text and entity set.
    """

    def __init__(self, features: Sequence[str], pipeline: str = DEFAULT_PIPELINE) -> None:
        unknown = [f for f in features if f not in FEATURES]
        if unknown:
            raise ValueError(f"unknown pair features {unknown}; choose from {list(FEATURES)}")
        self.features = tuple(f for f in FEATURES if f in features)
        self.pipeline = pipeline
        self._cache: dict[str, dict[PairKey, str]] = {}

    def __bool__(self) -> bool:
        return bool(self.features)

    @staticmethod
    def _doc_key(doc: Document, entities: Sequence[Entity]) -> str:
        blob = repr((doc.id, doc.text, sorted(e.key for e in entities), doc.meta.get("sentences")))
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    def texts(self, docs: Sequence[Document], entities: Sequence[Sequence[Entity]], cands: Sequence[Any]) -> dict:
        """``pair_key -> feature text`` for every candidate of ``cands`` (with ``doc_id``, ``head``, ``tail``,
        ``sentence_distance``, ``lead``), over ``docs`` carrying ``entities``."""
        if not self.features:
            return {}
        todo = []
        for doc, ents in zip(docs, entities, strict=True):
            key = self._doc_key(doc, ents)
            if key not in self._cache:
                todo.append((key, doc.with_annotations(tuple(sorted(ents, key=lambda e: (e.start, e.end))), ())))
        if todo:
            for (key, _), table in zip(todo, self._compute([d for _, d in todo]), strict=True):
                self._cache[key] = table
        by_doc = {doc.id: self._cache[self._doc_key(doc, ents)] for doc, ents in zip(docs, entities)}
        out = {}
        for cand in cands:
            table = by_doc.get(cand.doc_id, {})
            key = pair_key(cand.doc_id, cand.head, cand.tail)
            out[key] = self._text(table, key, cand)
        return out

    def _text(self, table: dict, key: PairKey, cand) -> str:
        """A candidate's text: from the parse when both mentions are in one sentence, else list scope /
        sentences apart."""
        found = table.get(key)
        if found is not None:
            return found
        parts = []
        vote = table.get(("rules",) + key[1:])
        if getattr(cand, "lead", None) is not None or cand.sentence_distance > 0:
            if "path" in self.features:
                parts.append("list item under its lead-in" if getattr(cand, "lead", None) else "different sentences")
            if "distance" in self.features:
                parts.append(sentences_apart(cand.sentence_distance))
        elif "path" in self.features:
            parts.append("no path")
        if "rules" in self.features:
            parts.append(f"rules: {vote or 'none'}")
        return " ; ".join(parts)

    def _compute(self, docs: list[Document]) -> list[dict]:
        from tradeie.schema import is_candidate_pair
        from tradeie.systems.relations import RelationRulesConfig, RelationRuleSystem, parse_documents

        parsed = parse_documents(docs, self.pipeline)
        votes: list[dict[tuple, str]] = [{} for _ in docs]
        if "rules" in self.features:
            rules = RelationRuleSystem(RelationRulesConfig(pipeline=self.pipeline))
            for k, out in enumerate(rules.predict_parsed(docs, parsed)):
                index = out.entity_index()
                for rel in out.relations:
                    votes[k][(index[rel.head].key, index[rel.tail].key)] = rel.label
        tables = []
        for doc, sents, doc_votes in zip(docs, parsed, votes, strict=True):
            table: dict = {}
            for sent in sents:
                entity_tokens = set(sent.ents)
                for hi, head in sent.ents.items():
                    for ti, tail in sent.ents.items():
                        if hi == ti or not is_candidate_pair(head.label, tail.label):
                            continue
                        parts = same_sentence_text(sent.sdoc, hi, ti, self.features, entity_tokens)
                        if "rules" in self.features:
                            parts.append(f"rules: {doc_votes.get((head.key, tail.key)) or 'none'}")
                        table[pair_key(doc.id, head, tail)] = " ; ".join(parts)
            for (hk, tk), label in doc_votes.items():  # votes across sentences (list scope)
                table[("rules", *hk, *tk)] = label
            tables.append(table)
        return tables
