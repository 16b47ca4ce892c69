"""A feature CRF (sklearn-crfsuite) over spaCy's cased features, with the rules as features.

Each token is described by its word (lower-cased form, shape, affixes,
casing), spaCy's POS tag, fine tag, dependency label, head word and
OntoNotes entity type, the rule system's matches (gazetteer actor,
agreement or tariff pattern) and the same for its neighbours. Variants:

- ``crf``: the CRF predicts every label;
- ``crf-rules``: the CRF predicts ACTOR, the rules AGREEMENT and TARIFF
  (``rule_labels``), the split the guidelines' head-noun rules suggest.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tradeie.corpus import document_tokens
from tradeie.document import Document
from tradeie.errors import TradeieError
from tradeie.io.atomic import write_bytes_atomic
from tradeie.text.linguistic import DEFAULT_PIPELINE, parse_sentences
from tradeie.text.tokens import Token, bio_tags, index_span_tags, spans_from_bio, word_shape
from tradeie.systems.base import System, with_entities
from tradeie.systems.constraints import DEFAULT_CONSTRAINTS, Sentence, check_names
from tradeie.systems.rules import RulesConfig, RuleSystem, finish_spans, token_spans_to_chars


@dataclass
class CRFConfig:
    """Settings of the feature CRF."""

    pipeline: str = field(default=DEFAULT_PIPELINE, metadata={"help": "spaCy pipeline for the token features"})
    c1: float = field(default=0.05, metadata={"help": "L1 regularisation"})
    c2: float = field(default=0.05, metadata={"help": "L2 regularisation"})
    max_iterations: int = field(default=200, metadata={"help": "L-BFGS iterations"})
    window: int = field(default=2, metadata={"help": "neighbouring tokens described on each side"})
    spacy_features: bool = field(default=True, metadata={"help": "POS, tag, dependency and entity-type features"})
    rule_features: bool = field(default=True, metadata={"help": "rule and gazetteer matches as features"})
    rule_labels: tuple[str, ...] = field(
        default=(), metadata={"help": "labels taken from the rules instead of the CRF (crf-rules: AGREEMENT, TARIFF)"}
    )
    min_precision: float = field(default=0.5, metadata={"help": "gazetteer precision threshold (see rules)"})
    use_countryinfo: bool = field(
        default=True, metadata={"help": "countryinfo's country names and capitals in the gazetteer (see rules)"}
    )
    org_actors: bool = field(default=True, metadata={"help": "spaCy ORG entities as actor rule matches (see rules)"})
    long_rule_actors: int = field(
        default=3,
        metadata={
            "help": "rule ACTOR matches of at least this many tokens (gazetteer names, spaCy persons and "
            "organisations) replace the CRF's spans they overlap (0: off)"
        },
    )
    rule_premodifiers: bool = field(
        default=True,
        metadata={
            "help": "a rule AGREEMENT or TARIFF match ending where the CRF's span of that label ends, but starting "
            "earlier, gives the span its start (pre-modifiers the CRF dropped: 'combined duty')"
        },
    )
    propagate: bool = field(
        default=True,
        metadata={"help": "one sense per document: other occurrences of a predicted actor name are actors too"},
    )
    constraints: tuple[str, ...] = field(
        default=DEFAULT_CONSTRAINTS,
        metadata={"help": "guideline constraints applied to the predictions (see tradeie.systems.constraints)"},
    )

    def __post_init__(self) -> None:
        check_names(self.constraints)


def sentence_features(sdoc, rule_tags: Sequence[str] | None, config: CRFConfig) -> list[dict[str, Any]]:
    """crfsuite feature dicts for one parsed sentence."""
    own = []
    for tok in sdoc:
        w = tok.text
        f: dict[str, Any] = {
            "lower": w.lower(),
            "shape": word_shape(w),
            "suf3": w[-3:].lower(),
            "suf2": w[-2:].lower(),
            "pre3": w[:3].lower(),
            "title": w.istitle(),
            "upper": w.isupper(),
            "digit": any(c.isdigit() for c in w),
            "punct": not any(c.isalnum() for c in w),
        }
        if config.spacy_features:
            f.update(
                pos=tok.pos_,
                tag=tok.tag_,
                dep=tok.dep_,
                ent=f"{tok.ent_iob_}-{tok.ent_type_}",
                head=tok.head.lower_,
                headpos=tok.head.pos_,
                head_dep=f"{tok.dep_}>{tok.head.lower_}",
            )
        if rule_tags is not None:
            f["rule"] = rule_tags[tok.i]
        own.append(f)
    feats = []
    keys = ("lower", "shape", "pos", "ent", "rule", "dep", "title")
    for i, f in enumerate(own):
        row = {"bias": 1.0, **f}
        for off in range(-config.window, config.window + 1):
            if off == 0:
                continue
            j = i + off
            if 0 <= j < len(own):
                row.update({f"{off:+d}:{k}": own[j][k] for k in keys if k in own[j]})
            else:
                row[f"{off:+d}:edge"] = True
        feats.append(row)
    return feats


class CRFSystem(System):
    """sklearn-crfsuite CRF over spaCy features and rule matches (all labels)."""

    name = "crf"
    config_class = CRFConfig

    def __init__(self, config: CRFConfig | None = None) -> None:
        super().__init__(config)
        self.crf = None
        self.rules = RuleSystem(
            RulesConfig(
                pipeline=self.config.pipeline,
                min_precision=self.config.min_precision,
                use_countryinfo=self.config.use_countryinfo,
                org_actors=self.config.org_actors,
            )
        )

    def _units(self, docs: Sequence[Document], gold: bool):
        units, sentences = [], []
        for d, doc in enumerate(docs):
            view = doc if gold else doc.with_annotations(())
            for toks in document_tokens(view):
                if toks:
                    units.append((d, toks))
                    sentences.append(toks)
        parsed = parse_sentences(sentences, self.config.pipeline)
        rule_spans = (
            self.rules.match_sentences(sentences, parsed)
            if self.config.rule_features or self.config.rule_labels
            else [[] for _ in parsed]
        )
        return units, parsed, rule_spans

    def _features(self, sdoc, spans) -> list[dict[str, Any]]:
        tags = index_span_tags(len(sdoc), spans) if self.config.rule_features else None
        return sentence_features(sdoc, tags, self.config)

    def fit(self, train: Sequence[Document], dev: Sequence[Document] | None = None) -> CRFSystem:
        import sklearn_crfsuite

        self.rules.fit(train)
        units, parsed, rule_spans = self._units(train, gold=True)
        X = [self._features(sdoc, spans) for sdoc, spans in zip(parsed, rule_spans)]
        y = [bio_tags(toks, train[d].entities, train[d].id) for d, toks in units]
        if not X:
            raise TradeieError("CRF: no training sentences", hint="pass annotated training documents")
        self.crf = sklearn_crfsuite.CRF(
            algorithm="lbfgs",
            c1=self.config.c1,
            c2=self.config.c2,
            max_iterations=self.config.max_iterations,
            all_possible_transitions=True,
        )
        self.crf.fit(X, y)
        self.n_train = len(train)
        return self

    def predict(self, docs: Sequence[Document]) -> list[Document]:
        if self.crf is None:
            raise TradeieError(f"system {self.name}: not trained", hint="fit or load it first")
        units, parsed, rule_spans = self._units(docs, gold=False)
        spans: list[list[tuple[int, int, str]]] = [[] for _ in docs]
        keep_rules = set(self.config.rule_labels)
        for (d, toks), sdoc, found in zip(units, parsed, rule_spans):
            tags = self.crf.predict_single(self._features(sdoc, found))
            predicted = [s for s in spans_from_bio(toks, tags) if s[2] not in keep_rules]
            if self.config.rule_premodifiers:
                predicted = _widen_to_rules(predicted, token_spans_to_chars(toks, found))
            spans[d] += predicted
            spans[d] += [s for s in token_spans_to_chars(toks, found) if s[2] in keep_rules]
            if self.config.long_rule_actors:  # a full name the CRF split or missed ("Democratic Republic of the Congo")
                long = [(i, j, lab) for i, j, lab in found if lab == "ACTOR" and j - i >= self.config.long_rule_actors]
                spans[d] += token_spans_to_chars(toks, long)
        out = []
        for d, doc in enumerate(docs):
            sentences = [Sentence(toks, sdoc) for (k, toks), sdoc in zip(units, parsed) if k == d]
            found = finish_spans(
                doc.text, sentences, _drop_overlaps(spans[d]), self.config.constraints, self.config.propagate
            )
            out.append(with_entities(doc, found))
        return out

    def _save_state(self, folder: Path) -> None:
        write_bytes_atomic(folder / "crf.crfsuite", Path(self.crf.modelfile.name).read_bytes())
        self.rules._save_state(folder)

    def _load_state(self, folder: Path) -> None:
        import sklearn_crfsuite

        path = folder / "crf.crfsuite"
        if not path.is_file():
            raise TradeieError(f"{folder}: no crf.crfsuite", hint="retrain the system")
        self.crf = sklearn_crfsuite.CRF(model_filename=str(path))
        self.rules.actors = json.loads((folder / "gazetteer.json").read_text(encoding="utf-8"))["actors"]


class CRFRulesSystem(CRFSystem):
    """The CRF for ACTOR, the guideline rules for AGREEMENT and TARIFF."""

    name = "crf-rules"

    def __init__(self, config: CRFConfig | None = None) -> None:
        super().__init__(config if config is not None else CRFConfig(rule_labels=("AGREEMENT", "TARIFF")))


def _widen_to_rules(spans: list[tuple[int, int, str]], rules: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Each AGREEMENT/TARIFF span widened to the start of a same-label rule match with the same end, unless
    the widened part would cover another predicted span (an actor the rules did not know)."""
    starts = {(end, label): start for start, end, label in rules if label in ("AGREEMENT", "TARIFF")}
    out = []
    for start, end, label in spans:
        wider = min(start, starts.get((end, label), start))
        if any(s < start and e > wider for s, e, _ in spans):
            wider = start
        out.append((wider, end, label))
    return out


def _drop_overlaps(spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Non-overlapping spans, longer first where two overlap."""
    kept: list[tuple[int, int, str]] = []
    for s in sorted(spans, key=lambda x: (-(x[1] - x[0]), x[0])):
        if all(s[1] <= k[0] or s[0] >= k[1] for k in kept):
            kept.append(s)
    return sorted(kept)


__all__ = ["CRFConfig", "CRFRulesSystem", "CRFSystem", "Token"]
