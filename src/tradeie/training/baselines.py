"""NER baselines on the same token rows: a sklearn-crfsuite CRF and a gazetteer built from training only.

The CRF trains on the published ``ner`` rows of the training documents
(:func:`tradeie.training.ner.published_rows`); scores come from the one scorer
(:func:`tradeie.training.ner.score_entities`), on predictions from bare texts.

Both train on the training documents passed in (never on anything else) and
return documents with predicted entities (no relations) from ``predict``.
"""

from __future__ import annotations

import json
import logging
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from tradeie.corpus import document_tokens
from tradeie.document import Document, Entity
from tradeie.errors import TradeieError
from tradeie.text.tokens import Token, spans_from_bio, tokenize, word_shape
from tradeie.training.config import BASELINE_KINDS, BaselineConfig

log = logging.getLogger(__name__)


class Baseline(Protocol):
    kind: str

    def predict(self, docs: Sequence[Document]) -> list[Document]: ...

    def save(self, path: str | Path) -> Path: ...


def _entities(doc: Document, spans: list[tuple[int, int, str]], scores: list[float] | None = None) -> Document:
    spans = sorted(spans)
    ents = [
        Entity(s, e, label, f"e{i}", doc.text[s:e], None if scores is None else scores[i - 1])
        for i, (s, e, label) in enumerate(spans, 1)
    ]
    return doc.with_annotations(ents, ())


# --------------------------------------------------------------------------- CRF


def _word_feats(word: str, prefix: str) -> dict[str, Any]:
    return {
        f"{prefix}lower": word.lower(),
        f"{prefix}istitle": word.istitle(),
        f"{prefix}isupper": word.isupper(),
        f"{prefix}shape": word_shape(word),
    }


def token_features(tokens: Sequence[Token], i: int) -> dict[str, Any]:
    """crfsuite features of token ``i``: word, affixes, shape and a +-2 token window."""
    word = tokens[i].text
    feats: dict[str, Any] = {
        "bias": 1.0,
        "suffix3": word[-3:].lower(),
        "suffix2": word[-2:].lower(),
        "prefix3": word[:3].lower(),
        "isdigit": word.isdigit(),
        "hasdigit": any(c.isdigit() for c in word),
        "ispunct": not any(c.isalnum() for c in word),
        "len": min(len(word), 10),
        **_word_feats(word, ""),
    }
    for off in (-2, -1, 1, 2):
        j = i + off
        if 0 <= j < len(tokens):
            feats.update(_word_feats(tokens[j].text, f"{off:+d}:"))
        else:
            feats[f"{off:+d}:pad"] = True
    return feats


def sentence_features(tokens: Sequence[Token]) -> list[dict[str, Any]]:
    return [token_features(tokens, i) for i in range(len(tokens))]


class CRFBaseline:
    """Linear-chain CRF (sklearn-crfsuite, L-BFGS) over hand-made token features."""

    kind = "crf"

    def __init__(self, crf) -> None:
        self.crf = crf

    @classmethod
    def fit(
        cls, train_docs: Sequence[Document], c1: float = 0.1, c2: float = 0.1, max_iterations: int = 100
    ) -> CRFBaseline:
        import sklearn_crfsuite

        from tradeie.training.ner import published_rows, tagged_tokens

        X, y = [], []
        for toks, tags in tagged_tokens(published_rows(train_docs)):
            X.append(sentence_features(toks))
            y.append(tags)
        if not X:
            raise TradeieError("CRF baseline: no training sentences", hint="pass annotated training documents")
        crf = sklearn_crfsuite.CRF(
            algorithm="lbfgs", c1=c1, c2=c2, max_iterations=max_iterations, all_possible_transitions=True
        )
        crf.fit(X, y)
        return cls(crf)

    def predict(self, docs: Sequence[Document]) -> list[Document]:
        out = []
        for doc in docs:
            spans = []
            for toks in document_tokens(doc):
                if toks:
                    tags = self.crf.predict_single(sentence_features(toks))
                    spans += spans_from_bio(toks, tags)
            out.append(_entities(doc, spans))
        return out

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        from tradeie.io.atomic import write_bytes_atomic, write_json_atomic

        write_bytes_atomic(path / "crf.crfsuite", Path(self.crf.modelfile.name).read_bytes())
        write_json_atomic(path / "baseline.json", {"kind": self.kind})
        return path

    @classmethod
    def load(cls, path: str | Path) -> CRFBaseline:
        import sklearn_crfsuite

        return cls(sklearn_crfsuite.CRF(model_filename=str(Path(path) / "crf.crfsuite")))


# --------------------------------------------------------------------- gazetteer


class GazetteerBaseline:
    """Longest-match lookup of the training split's mentions (case-sensitive, on token boundaries).

    A mention text enters the gazetteer with its majority label only if, in
    the training documents, that token sequence is annotated with that label
    at least ``min_precision`` of the times it occurs (so "agreement" counts
    only if it is usually annotated).
    """

    kind = "gazetteer"

    def __init__(self, entries: dict[tuple[str, ...], tuple[str, float]]) -> None:
        self.entries = entries
        self.max_len = max((len(k) for k in entries), default=0)

    @classmethod
    def fit(cls, train_docs: Sequence[Document], min_precision: float = 0.5) -> GazetteerBaseline:
        labelled: dict[tuple[str, ...], Counter] = defaultdict(Counter)
        for doc in train_docs:
            for ent in doc.entities:
                key = tuple(t.text for t in tokenize(doc.text[ent.start : ent.end]))
                if key:
                    labelled[key][ent.label] += 1
        occurrences: Counter = Counter()
        max_len = max((len(k) for k in labelled), default=0)
        for doc in train_docs:
            for toks in document_tokens(doc):
                words = [t.text for t in toks]
                for n in range(1, max_len + 1):
                    for i in range(len(words) - n + 1):
                        key = tuple(words[i : i + n])
                        if key in labelled:
                            occurrences[key] += 1
        entries = {}
        for key, labels in labelled.items():
            label, count = labels.most_common(1)[0]
            precision = count / max(occurrences[key], count)
            if precision >= min_precision:
                entries[key] = (label, round(precision, 4))
        return cls(entries)

    def match(self, tokens: Sequence[Token]) -> list[tuple[int, int, str, float]]:
        """Greedy left-to-right longest matches as ``(start, end, label, precision)``."""
        words = [t.text for t in tokens]
        out, i = [], 0
        while i < len(words):
            for n in range(min(self.max_len, len(words) - i), 0, -1):
                hit = self.entries.get(tuple(words[i : i + n]))
                if hit:
                    out.append((tokens[i].start, tokens[i + n - 1].end, hit[0], hit[1]))
                    i += n
                    break
            else:
                i += 1
        return out

    def predict(self, docs: Sequence[Document]) -> list[Document]:
        out = []
        for doc in docs:
            hits = [m for toks in document_tokens(doc) for m in self.match(toks)]
            out.append(_entities(doc, [h[:3] for h in hits], [h[3] for h in sorted(hits)]))
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "entries": [{"tokens": list(k), "label": v[0], "precision": v[1]} for k, v in sorted(self.entries.items())],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GazetteerBaseline:
        return cls({tuple(e["tokens"]): (e["label"], float(e["precision"])) for e in data["entries"]})

    def save(self, path: str | Path) -> Path:
        from tradeie.io.atomic import write_json_atomic

        path = Path(path)
        write_json_atomic(path / "baseline.json", self.to_dict(), indent=1)
        return path

    @classmethod
    def load(cls, path: str | Path) -> GazetteerBaseline:
        return cls.from_dict(json.loads((Path(path) / "baseline.json").read_text(encoding="utf-8")))


def fit_baseline(kind: str, train_docs: Sequence[Document], config: BaselineConfig | None = None) -> Baseline:
    """Train the ``"crf"`` or ``"gazetteer"`` NER baseline on ``train_docs`` only.

    Returns an object whose ``predict(docs)`` gives copies of ``docs`` with
    predicted entities (ids ``e1``..., no relations) and ``save(dir)`` writes it.
    """
    config = config or BaselineConfig()
    if kind == "crf":
        return CRFBaseline.fit(train_docs, config.crf_c1, config.crf_c2, config.crf_max_iterations)
    if kind == "gazetteer":
        return GazetteerBaseline.fit(train_docs, config.gazetteer_min_precision)
    raise TradeieError(f"unknown baseline {kind!r}", hint=f"choose from {list(BASELINE_KINDS)}")


def load_baseline(path: str | Path) -> Baseline:
    """Load a baseline saved by ``save`` (a folder with ``baseline.json``)."""
    path = Path(path)
    meta = path / "baseline.json"
    if not meta.exists():
        raise TradeieError(f"{path}: not a saved baseline (no baseline.json)")
    kind = json.loads(meta.read_text(encoding="utf-8")).get("kind")
    if kind == "crf":
        return CRFBaseline.load(path)
    if kind == "gazetteer":
        return GazetteerBaseline.load(path)
    raise TradeieError(f"{meta}: unknown baseline kind {kind!r}")


def train_baselines(
    train_docs: Sequence[Document],
    eval_docs: Sequence[Document] | None,
    config: BaselineConfig,
    output_dir: str | Path,
    *,
    test_docs: Sequence[Document] | None = None,
) -> Path:
    """Fit every baseline in ``config.kinds`` on ``train_docs``; save each under ``output_dir/<kind>``.

    ``eval_docs`` (validation) and ``test_docs`` are scored like the neural
    NER model (seqeval, strict IOB2) into ``metrics.json``.
    """
    from tradeie.io.atomic import atomic_directory, write_json_atomic
    from tradeie.evaluation.experiments import strip_annotations
    from tradeie.training.ner import score_entities

    output_dir = Path(output_dir)
    splits = {"eval": list(eval_docs or []), "test": list(test_docs or [])}
    with atomic_directory(output_dir) as tmp:
        summary: dict[str, Any] = {
            "config": config.to_dict(),
            "train_documents": [d.id for d in train_docs],
            "eval_documents": [d.id for d in splits["eval"]],
            "test_documents": [d.id for d in splits["test"]],
        }
        for kind in config.kinds:
            model = fit_baseline(kind, train_docs, config)
            model.save(tmp / kind)
            scores = {
                key: score_entities(docs, model.predict(strip_annotations(docs)))
                for key, docs in splits.items()
                if docs
            }
            summary[kind] = scores
            write_json_atomic(tmp / kind / "metrics.json", scores)
            for key, value in scores.items():
                log.info("%s baseline: %s entity F1 %.3f", kind, key, value["f1"])
        write_json_atomic(tmp / "metrics.json", summary)
    return output_dir
