"""Word-level linguistic features for the enriched transformer (``linguistic_features`` in the NER config).

The uncased encoder cannot tell "US" from "us"; these features tell it:

- ``shape``: the word's collapsed character shape (``Xx``, ``X``, ``x``, ``d%``, ``X.X.``);
- ``pos``: spaCy's universal POS tag;
- ``ent``: spaCy's OntoNotes entity type in IOB form (``B-GPE``, ``I-ORG``, ``O``);
- ``rules``: the guideline rules' matches (:class:`tradeie.systems.rules.RuleSystem`) as IOB2 tags.

POS, entity types and rule matches come from :func:`tradeie.text.linguistic.parse_sentences`
over tradeie's own tokens, so every value lines up with a dataset token.
Each feature has a vocabulary (index 0 padding, 1 unknown) learned from the
training rows and stored in the model's ``config.json``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tradeie.errors import TradeieError
from tradeie.text.linguistic import DEFAULT_PIPELINE
from tradeie.text.tokens import Token, index_span_tags, word_shape

FEATURE_NAMES: tuple[str, ...] = ("shape", "pos", "ent", "rules")
#: Features that need the spaCy pipeline (``shape`` is computed from the word alone).
PARSED_FEATURES = frozenset({"pos", "ent", "rules"})
PAD, UNK = "<pad>", "<unk>"
#: A shape seen fewer times than this in training is mapped to ``<unk>``.
SHAPE_MIN_COUNT = 2


def check_feature_names(names: Sequence[str], where: str = "linguistic_features") -> None:
    unknown = [n for n in names if n not in FEATURE_NAMES]
    if unknown or len(set(names)) != len(names):
        raise TradeieError(
            f"{where} = {list(names)!r}: each feature at most once, from {list(FEATURE_NAMES)}",
            hint='e.g. --set linguistic_features=["shape","pos","ent","rules"]',
        )


@dataclass
class WordFeatures:
    """Which features, from which spaCy pipeline, with which vocabularies (and the rules' gazetteer)."""

    names: tuple[str, ...]
    pipeline: str = DEFAULT_PIPELINE
    rule_actors: tuple[str, ...] = ()
    vocabs: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def fit(cls, names: Sequence[str], pipeline: str, train_docs: Sequence[Any]) -> WordFeatures:
        """Features ``names``; the rules' actor gazetteer (if ``rules``) learned from ``train_docs``."""
        check_feature_names(names)
        actors: tuple[str, ...] = ()
        if "rules" in names:
            from tradeie.systems.rules import RulesConfig, RuleSystem

            actors = tuple(RuleSystem(RulesConfig(pipeline=pipeline)).fit(train_docs).actors)
        return cls(tuple(names), pipeline or DEFAULT_PIPELINE, actors)

    def values(self, rows: Sequence[Sequence[Token]]) -> list[list[tuple[str, ...]]]:
        """Per row, per word: the feature values in ``names`` order."""
        columns: dict[str, list[list[str]]] = {}
        if "shape" in self.names:
            columns["shape"] = [[word_shape(t.text) for t in toks] for toks in rows]
        if PARSED_FEATURES & set(self.names):
            from tradeie.text.linguistic import parse_sentences

            parsed = parse_sentences(rows, self.pipeline)
            if "pos" in self.names:
                columns["pos"] = [[tok.pos_ or "X" for tok in sdoc] for sdoc in parsed]
            if "ent" in self.names:
                columns["ent"] = [
                    [f"{tok.ent_iob_}-{tok.ent_type_}" if tok.ent_type_ else "O" for tok in sdoc] for sdoc in parsed
                ]
            if "rules" in self.names:
                columns["rules"] = [
                    index_span_tags(len(sdoc), spans)
                    for sdoc, spans in zip(parsed, self._rules().match_sentences(rows, parsed))
                ]
        return [[tuple(columns[n][r][i] for n in self.names) for i in range(len(toks))] for r, toks in enumerate(rows)]

    def _rules(self):
        from tradeie.systems.rules import RulesConfig, RuleSystem

        system = RuleSystem(RulesConfig(pipeline=self.pipeline))
        system.actors = list(self.rule_actors)
        return system

    def build_vocabs(self, values: Sequence[Sequence[tuple[str, ...]]]) -> None:
        """Vocabularies from training ``values``: ``<pad>``, ``<unk>``, then the values seen (sorted)."""
        for k, name in enumerate(self.names):
            counts = Counter(word[k] for row in values for word in row)
            floor = SHAPE_MIN_COUNT if name == "shape" else 1
            self.vocabs[name] = [PAD, UNK, *sorted(v for v, c in counts.items() if c >= floor)]

    def ids(self, values: Sequence[Sequence[tuple[str, ...]]]) -> list[list[list[int]]]:
        """Vocabulary ids per row, per word, per feature (unknown values -> 1)."""
        index = [{v: i for i, v in enumerate(self.vocabs[n])} for n in self.names]
        return [[[index[k].get(v, 1) for k, v in enumerate(word)] for word in row] for row in values]

    def row_ids(self, rows: Sequence[Sequence[Token]]) -> list[list[list[int]]]:
        return self.ids(self.values(rows))

    def to_config(self) -> dict[str, Any]:
        """The keys stored in the model's ``config.json``."""
        return {
            "feature_names": list(self.names),
            "feature_vocabs": {n: self.vocabs[n] for n in self.names},
            "spacy_pipeline": self.pipeline,
            "rule_actors": list(self.rule_actors),
        }

    @classmethod
    def from_config(cls, config: Any) -> WordFeatures | None:
        """The features a saved model was trained with (None for a plain token classifier)."""
        names = tuple(getattr(config, "feature_names", None) or ())
        if not names:
            return None
        return cls(
            names,
            getattr(config, "spacy_pipeline", DEFAULT_PIPELINE),
            tuple(getattr(config, "rule_actors", ()) or ()),
            dict(config.feature_vocabs),
        )


def subword_feature_ids(word_ids: Sequence[int | None], word_feats: Sequence[list[int]], width: int) -> list[list[int]]:
    """Each sub-word gets its word's feature ids; special tokens get padding (zeros)."""
    zero = [0] * width
    return [zero if w is None else list(word_feats[w]) for w in word_ids]
