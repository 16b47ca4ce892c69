"""Relation classification with typed entity markers.

Training rows are the published dataset ``relations`` rows (one per ordered
candidate pair: the marked ``text``, ``head``/``tail`` spans with their types,
``label``): ``tradeie train re`` reads them from the dataset folder
(:func:`fit_re_dataset`), and documents (cross-validation folds, augmented
copies) become rows through :func:`tradeie.data.dataset.relation_rows`, the
function that builds the published ones. Candidates are
:func:`tradeie.data.relcands.candidate_pairs` (ordered pairs the schema allows,
within ``window`` sentences) rendered with :func:`tradeie.data.relcands.marked_text`
(``[H:ACTOR] India [/H] ... [T:AGREEMENT] deal [/T]``, markers added to the
tokenizer as special tokens) and classified by a sequence-classification head
over ``no_relation`` + the schema's labels. Decoding only allows the labels
the pair's types permit. A context longer than ``max_length`` is cropped
around the two marked mentions.

What the classifier reads (``features``, ``list_scope``, ``pooling``):

- ``[CLS] pair features [SEP] marked context [SEP]``: the features
  (:mod:`tradeie.systems.relfeatures`) are the dependency path between the two
  mentions, how many words and mentions lie between them, and optionally the
  label the dependency rules give the pair (the hybrid's "rules as features"),
  as a short text such as ``subject < sign > object ; 2 words apart ; no
  mention between``; they are computed from the documents (the rows'
  ``document_id``), so the published rows stay as they are;
- list-scope pairs across sentences (:func:`tradeie.data.relcands.scope_pairs`:
  tariffs of list items and the agreement or actor of the list's lead-in
  line) are added to the rows from the documents;
- the model (:mod:`tradeie.training.relation_model`) classifies from the
  states of ``[CLS]`` and of the two opening markers; the markers have their
  own embeddings, and the pretrained word embeddings stay frozen.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tradeie.document import Document, Entity, Relation
from tradeie.errors import TradeieError
from tradeie.data.relcands import (
    DEFAULT_WINDOW,
    Candidate,
    candidate_pairs,
    head_open,
    marked_text,
    marker_tokens,
    scope_pairs,
    tail_open,
)
from tradeie.schema import ENTITY_LABELS, NO_RELATION, RELATION_CLASSES, allowed_relation
from tradeie.systems.relfeatures import PairFeatures, pair_key
from tradeie.text.linguistic import DEFAULT_PIPELINE
from tradeie.training.config import REConfig

log = logging.getLogger(__name__)

LABELS: tuple[str, ...] = RELATION_CLASSES
LABEL2ID = {label: i for i, label in enumerate(LABELS)}


def add_marker_tokens(tokenizer) -> int:
    """Add the typed entity markers as special tokens; return how many were new."""
    return tokenizer.add_special_tokens(
        {"additional_special_tokens": marker_tokens()}, replace_extra_special_tokens=False
    )


def allowed_mask(cand: Candidate) -> np.ndarray:
    """Boolean mask over :data:`LABELS`: no_relation and the labels the pair's types allow."""
    return np.array(
        [label == NO_RELATION or allowed_relation(label, cand.head.label, cand.tail.label) for label in LABELS]
    )


def encode_candidate(tokenizer, text: str, cand: Candidate, max_length: int, features: str = "") -> list[int] | None:
    """Input ids ``[CLS] features [SEP] marked context [SEP]`` (``[CLS] marked context [SEP]`` without
    features) of a candidate pair of ``text`` (see :func:`encode_marked`)."""
    return encode_marked(tokenizer, marked_text(text, cand), max_length, features)


#: Sub-words of the pair features kept at most (the rest of ``max_length`` is the marked context's).
MAX_FEATURE_TOKENS = 32


def encode_marked(tokenizer, marked: str, max_length: int, features: str = "") -> list[int] | None:
    """Input ids ``[CLS] features [SEP] marked [SEP]`` (no features: ``[CLS] marked [SEP]``); the marked
    text is cropped around the markers if too long, the features to :data:`MAX_FEATURE_TOKENS` sub-words.

    Returns None when the two marked mentions alone do not fit in ``max_length``.
    """
    prefix: list[int] = []
    if features:
        prefix = tokenizer(features, add_special_tokens=False)["input_ids"][:MAX_FEATURE_TOKENS]
        prefix.append(tokenizer.sep_token_id)
    ids = tokenizer(marked, add_special_tokens=False)["input_ids"]
    size = max_length - 2 - len(prefix)
    if len(ids) > size:
        marker_ids = set(tokenizer.convert_tokens_to_ids(marker_tokens()))
        where = [k for k, i in enumerate(ids) if i in marker_ids]
        lo, hi = min(where), max(where)
        if hi - lo + 1 > size:
            return None
        start = max(0, min(lo - (size - (hi - lo + 1)) // 2, len(ids) - size))
        ids = ids[start : start + size]
    return [tokenizer.cls_token_id, *prefix, *ids, tokenizer.sep_token_id]


def decode_relation(probs: np.ndarray, mask: np.ndarray, threshold: float = 0.0) -> tuple[str, float]:
    """Best label among those ``mask`` allows; no_relation if its probability is under ``threshold``."""
    masked = np.where(mask, probs, -1.0)
    best = int(masked.argmax())
    label, score = LABELS[best], float(probs[best])
    if label != NO_RELATION and score < threshold:
        return NO_RELATION, float(probs[LABEL2ID[NO_RELATION]])
    return label, score


# ------------------------------------------------------------- relations rows

#: A row of the dataset ``relations`` config (``document_id``, marked ``text``, ``context_start``,
#: ``context_end``, ``head``/``tail`` spans with ``label`` ids, ``sentence_distance``, ``label`` id).
PairRow = dict[str, Any]


def published_pairs(docs: Sequence[Document], window: int) -> list[PairRow]:
    """The ``relations`` rows of ``docs`` exactly as ``tradeie dataset build --window WINDOW`` publishes them."""
    from tradeie.data.dataset import relation_rows

    return [row for doc in docs for row in relation_rows(doc, window)]


def scope_rows(docs: Sequence[Document], window: int = DEFAULT_WINDOW) -> list[PairRow]:
    """Rows, in the ``relations`` config's format, of the list-scope pairs of ``docs``
    (:func:`tradeie.data.relcands.scope_pairs`; ids ``<document>-s0000``...); the dataset does not publish them."""
    from tradeie.data.dataset import _span_row

    rows = []
    for doc in docs:
        for k, cand in enumerate(scope_pairs(doc, None, window)):
            rows.append(
                {
                    "id": f"{doc.id}-s{k:04d}",
                    "document_id": doc.id,
                    "text": marked_text(doc.text, cand),
                    "context": doc.text[cand.context_start : cand.context_end],
                    "context_start": cand.context_start,
                    "context_end": cand.context_end,
                    "head": _span_row(cand.head, doc.text),
                    "tail": _span_row(cand.tail, doc.text),
                    "sentence_distance": cand.sentence_distance,
                    "label": RELATION_CLASSES.index(cand.label),
                }
            )
    return rows


class PairEncoder:
    """Model inputs of candidate pairs: ``[CLS] features [SEP] marked context [SEP]`` (:func:`encode_marked`).

    ``features`` (a :class:`~tradeie.systems.relfeatures.PairFeatures`, may be empty) gives each pair's
    feature text; :meth:`add_documents` computes them for documents with their own entities, so that
    ``relations`` rows of those documents (:meth:`encode_row`) find theirs by ``document_id`` and spans.
    """

    def __init__(self, tokenizer, features: PairFeatures | None = None, window: int = DEFAULT_WINDOW) -> None:
        self.tokenizer = tokenizer
        self.features = features if features is not None else PairFeatures(())
        self.window = window
        self.texts: dict = {}
        self.missing = 0

    def add_documents(self, docs: Sequence[Document], list_scope: bool = False) -> None:
        """Feature texts of every candidate pair of ``docs`` (their own entities)."""
        if not self.features or not docs:
            return
        cands = [c for doc in docs for c in candidate_pairs(doc, self.window, scope=list_scope)]
        self.texts.update(self.features.texts(docs, [d.entities for d in docs], cands))

    def feature_text(self, key) -> str:
        if not self.features:
            return ""
        text = self.texts.get(key)
        if text is None:
            self.missing += 1
            return ""
        return text

    def encode_row(self, row: PairRow, max_length: int) -> list[int] | None:
        key = pair_key(row["document_id"], _row_entity(row["head"]), _row_entity(row["tail"]))
        return encode_marked(self.tokenizer, row["text"], max_length, self.feature_text(key))

    def encode_candidates(
        self, docs: Sequence[Document], entities: Sequence[Sequence[Entity]], list_scope: bool, max_length: int
    ) -> tuple[list[list[int]], list[Candidate], int]:
        """Input ids of every candidate pair of ``entities`` in ``docs``, the candidates, and how many did
        not fit in ``max_length``."""
        per_doc = [
            candidate_pairs(doc, self.window, ents, scope=list_scope) for doc, ents in zip(docs, entities, strict=True)
        ]
        texts = self.features.texts(docs, entities, [c for cs in per_doc for c in cs]) if self.features else {}
        inputs, cands, skipped = [], [], 0
        for doc, doc_cands in zip(docs, per_doc):
            for cand in doc_cands:
                text = texts.get(pair_key(cand.doc_id, cand.head, cand.tail), "")
                ids = encode_candidate(self.tokenizer, doc.text, cand, max_length, text)
                if ids is None:
                    skipped += 1
                    continue
                inputs.append(ids)
                cands.append(cand)
        return inputs, cands, skipped


def _row_entity(span: dict[str, Any]) -> Entity:
    label = ENTITY_LABELS[span["label"]]
    return Entity(span["start"], span["end"], label, span["id"], span["text"], referent=span["referent"] or "")


def row_candidate(row: PairRow) -> Candidate:
    """The candidate pair a ``relations`` row describes (label ids into :data:`LABELS` and the entity labels)."""
    return Candidate(
        doc_id=row["document_id"],
        head=_row_entity(row["head"]),
        tail=_row_entity(row["tail"]),
        label=LABELS[row["label"]],
        context_start=row["context_start"],
        context_end=row["context_end"],
        sentence_distance=row["sentence_distance"],
    )


def pair_examples(
    encoder, rows: Sequence[PairRow], max_length: int
) -> tuple[list[dict[str, Any]], list[Candidate], int]:
    """Training examples (input_ids, attention_mask, labels) of ``relations`` rows, their candidates,
    and how many rows were skipped because their two marked mentions do not fit in ``max_length``.

    ``encoder``: a :class:`PairEncoder` (or a bare tokenizer: no pair features)."""
    if not isinstance(encoder, PairEncoder):
        encoder = PairEncoder(encoder)
    feats, cands, skipped = [], [], 0
    for row in rows:
        ids = encoder.encode_row(row, max_length)
        if ids is None:
            skipped += 1
            continue
        feats.append({"input_ids": ids, "attention_mask": [1] * len(ids), "labels": row["label"]})
        cands.append(row_candidate(row))
    return feats, cands, skipped


def downsample_negatives(
    feats: list[dict], cands: list[Candidate], ratio: float, seed: int
) -> tuple[list[dict], list[Candidate]]:
    """Keep every positive pair and at most ``ratio`` x positives negatives (all if ratio is 0)."""
    if ratio <= 0:
        return feats, cands
    pos = [i for i, c in enumerate(cands) if c.label != NO_RELATION]
    neg = [i for i, c in enumerate(cands) if c.label == NO_RELATION]
    keep_neg = int(round(ratio * max(len(pos), 1)))
    if keep_neg < len(neg):
        neg = sorted(random.Random(seed).sample(neg, keep_neg))
    keep = sorted(pos + neg)
    return [feats[i] for i in keep], [cands[i] for i in keep]


@dataclass
class RESettings:
    window: int = DEFAULT_WINDOW
    max_length: int = 128
    threshold: float = 0.0
    batch_size: int = 32
    #: Pair features the model reads (:data:`tradeie.systems.relfeatures.FEATURES`); () for models saved
    #: before they existed.
    features: tuple[str, ...] = ()
    list_scope: bool = False
    pipeline: str = DEFAULT_PIPELINE

    @classmethod
    def of(cls, config: REConfig) -> RESettings:
        return cls(
            config.window,
            config.max_length,
            config.threshold,
            config.eval_batch_size,
            tuple(config.features),
            config.list_scope,
            config.pipeline,
        )


class RelationClassifier:
    """A fine-tuned marker-based relation classifier."""

    def __init__(self, model, tokenizer, settings: RESettings, features: PairFeatures | None = None) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.settings = settings
        if features is None:
            features = PairFeatures(settings.features, settings.pipeline)
        self.encoder = PairEncoder(tokenizer, features, settings.window)

    @classmethod
    def load(cls, path: str | Path, device: str | None = None, batch_size: int | None = None) -> RelationClassifier:
        from tradeie.training import relation_model  # noqa: F401  (registers the marker classifier)
        from tradeie.training.common import load_trained

        model, tokenizer, saved = load_trained(
            path, "AutoModelForSequenceClassification", "relation", "tradeie train re", device
        )
        settings = RESettings(
            saved.get("window", DEFAULT_WINDOW),
            saved.get("max_length", 128),
            saved.get("threshold", 0.0),
            saved.get("eval_batch_size", 32),
            tuple(saved.get("features", ())),
            bool(saved.get("list_scope", False)),
            saved.get("pipeline", DEFAULT_PIPELINE),
        )
        if batch_size:
            settings.batch_size = batch_size
        return cls(model, tokenizer, settings)

    def pair_probs(self, inputs: Sequence[Sequence[int]]) -> np.ndarray:
        """Class probabilities per encoded pair (:func:`tradeie.training.common.batched_probs`)."""
        from tradeie.training.common import batched_probs

        out = np.zeros((len(inputs), len(LABELS)))
        pad = self.tokenizer.pad_token_id or 0
        for batch, probs in batched_probs(self.model, inputs, pad, self.settings.batch_size):
            out[batch] = probs
        return out

    def predict(self, docs: Sequence[Document], entities: Sequence[Sequence[Entity]] | None = None) -> list[Document]:
        """Copies of ``docs`` carrying ``entities`` (default: their own) and the predicted relations."""
        ents = [list(d.entities) if entities is None else list(entities[i]) for i, d in enumerate(docs)]
        ents = [_with_ids(e) for e in ents]
        inputs, cands, skipped = self.encoder.encode_candidates(
            docs, ents, self.settings.list_scope, self.settings.max_length
        )
        if skipped:
            log.warning(
                "%d candidate pairs longer than max_length=%d were not classified", skipped, self.settings.max_length
            )
        probs = self.pair_probs(inputs)
        by_doc: dict[str, list[Relation]] = {}
        for cand, p in zip(cands, probs, strict=True):
            label, score = decode_relation(p, allowed_mask(cand), self.settings.threshold)
            if label != NO_RELATION:
                by_doc.setdefault(cand.doc_id, []).append(Relation(cand.head.id, cand.tail.id, label, round(score, 4)))
        return [doc.with_annotations(e, by_doc.get(doc.id, [])) for doc, e in zip(docs, ents)]


def _with_ids(entities: Sequence[Entity]) -> list[Entity]:
    """Entities with unique ids (``e1``... given to those without one)."""
    from dataclasses import replace

    seen: set[str] = set()
    out = []
    for i, ent in enumerate(entities, 1):
        if not ent.id or ent.id in seen:
            ent = replace(ent, id=f"e{i}")
        seen.add(ent.id)
        out.append(ent)
    return out


def _pair_metrics(masks: list[np.ndarray]):
    """compute_metrics for Trainer: micro F1 over the relation labels with type-constrained decoding.

    ``masks`` holds one type mask per evaluation pair, in order; a different
    number of predictions is an internal error (decoding is never done
    without the constraints). P/R/F1 come from
    :func:`tradeie.evaluation.scores.prf`; only epochs are chosen on it.
    """
    from tradeie.evaluation.scores import prf

    def compute(eval_pred) -> dict[str, float]:
        logits, gold = eval_pred.predictions, eval_pred.label_ids
        if len(masks) != len(logits):
            raise RuntimeError(
                f"relation evaluation: {len(logits)} predictions for {len(masks)} candidate pairs "
                "(the type masks must match the evaluation pairs one to one)"
            )
        probs = np.exp(logits - logits.max(axis=1, keepdims=True))
        probs /= probs.sum(axis=1, keepdims=True)
        pred = np.array([LABEL2ID[decode_relation(p, mask)[0]] for p, mask in zip(probs, masks, strict=True)])
        neg = LABEL2ID[NO_RELATION]
        scores = prf(int(((pred == gold) & (gold != neg)).sum()), int((pred != neg).sum()), int((gold != neg).sum()))
        accuracy = float((pred == gold).mean()) if len(gold) else 0.0
        return {"f1": scores["f1"], "accuracy": accuracy, "selection": scores["f1"] + 1e-3 * accuracy}

    return compute


def score_relations(
    gold: Sequence[Document], pred_gold_entities: Sequence[Document], pred_end_to_end: Sequence[Document] | None = None
) -> dict[str, dict[str, Any]]:
    """Training-time RE scores (``metrics.json``, seed choice) from :func:`tradeie.evaluation.scores.relation_figures`:
    ``gold_entities`` (headline ``re_gold_entities_f1``) and, given, ``end_to_end`` (``re_f1``)."""
    from tradeie.evaluation.scores import relation_figures

    return {k: v.as_dict() for k, v in relation_figures(gold, pred_gold_entities, pred_end_to_end).items()}


# ----------------------------------------------------------------- training


def _check_relations_config(rows, folder: str | Path) -> None:
    """The ``relations`` config's label names must be this schema's, in the same order."""
    for split, ds in rows.items():
        features = ds.features
        found = (list(features["label"].names), list(features["head"]["label"].names))
        if found != (list(LABELS), list(ENTITY_LABELS)):
            raise TradeieError(
                f"{folder}: relations/{split}: labels {found[0]} and entity labels {found[1]} are not "
                f"this schema's {list(LABELS)} and {list(ENTITY_LABELS)}",
                hint="rebuild the dataset with this version of tradeie",
            )


def rows_within(rows, window: int, folder: str | Path) -> dict[str, list[PairRow]]:
    """Each split's ``relations`` rows whose mentions are at most ``window`` sentences apart.

    The rows hold the pairs of the window the dataset was built with; a larger
    ``window`` than any row's ``sentence_distance`` needs a rebuilt dataset.
    """
    published = max((max(ds["sentence_distance"], default=0) for ds in rows.values()), default=0)
    if window > published:
        raise TradeieError(
            f"{folder}: its relations rows pair mentions at most {published} sentence(s) apart, "
            f"fewer than window = {window}",
            hint=f"rebuild it with `tradeie dataset build --window {window}`, or --set window={published}",
        )
    return {split: [row for row in ds if row["sentence_distance"] <= window] for split, ds in rows.items()}


def fit_re_dataset(
    folder: str | Path,
    config: REConfig,
    output_dir: str | Path,
    *,
    documents: dict[str, list[Document]] | None = None,
    ner_dir: str | Path | None = None,
) -> Path:
    """``tradeie train re``: train on the dataset folder's ``relations`` rows as published.

    The rows are ``datasets.load_dataset(folder, "relations")``'s train and
    validation splits (those within ``config.window`` sentences), exactly what a
    user's own script gets; the ``documents`` config (``documents``: its splits,
    if already loaded) gives the documents that are scored end to end and augmented.
    """
    from tradeie.data.dataset import load_hub_folder
    from tradeie.training.runs import load_splits

    published = load_hub_folder(folder, "relations")
    _check_relations_config(published, folder)
    rows = rows_within(published, config.window, folder)
    documents = load_splits(folder) if documents is None else documents
    return fit_re(
        documents.get("train", []),
        documents.get("validation") or None,
        config,
        output_dir,
        test_docs=documents.get("test") or None,
        ner_dir=ner_dir,
        dataset_name=str(folder),
        train_rows=rows.get("train", []),
        eval_rows=rows.get("validation", []),
    )


def fit_re(
    train_docs: Sequence[Document],
    eval_docs: Sequence[Document] | None,
    config: REConfig,
    output_dir: str | Path,
    *,
    test_docs: Sequence[Document] | None = None,
    ner_dir: str | Path | None = None,
    dataset_name: str | None = None,
    train_rows: Sequence[PairRow] | None = None,
    eval_rows: Sequence[PairRow] | None = None,
) -> Path:
    """Fine-tune the relation classifier on the gold entities of ``train_docs``; save to ``output_dir``.

    The model trains on ``train_rows`` (published ``relations`` rows; default:
    those of ``train_docs`` through :func:`published_pairs`) plus the rows of
    augmented copies (if ``config.augment``). ``eval_rows`` (default: those of
    ``eval_docs``) select the best epoch; ``eval_docs`` (real documents, may be
    None) select the seed and are scored with gold entities (strict relation
    F1) and, when an NER model is given as ``ner_dir``, end to end with its
    predicted entities. ``test_docs`` are scored the same way once at the end.
    Candidate pairs follow ``config.window``; class imbalance is handled by
    ``negative_ratio`` (down-sampling), ``class_weights`` and/or
    ``balanced_sampling``. The shared steps are
    :func:`tradeie.training.common.fit_model`'s. Returns ``output_dir``; only
    rank 0 writes under DDP.
    """
    from transformers import AutoTokenizer, DataCollatorWithPadding

    from tradeie.evaluation.evaluate import strip_relations
    from tradeie.training import common

    base = common.prepare(config)
    train_docs, eval_docs, test_docs = list(train_docs), list(eval_docs or []), list(test_docs or [])
    augmented = common.augmented_copies(config, train_docs)
    tokenizer = AutoTokenizer.from_pretrained(base)
    add_marker_tokens(tokenizer)
    features = PairFeatures(config.features, config.pipeline)
    encoder = PairEncoder(tokenizer, features, config.window)
    encoder.add_documents([*train_docs, *augmented, *eval_docs], config.list_scope)
    train_rows = [
        *(published_pairs(train_docs, config.window) if train_rows is None else train_rows),
        *published_pairs(augmented, config.window),
        *(scope_rows([*train_docs, *augmented], config.window) if config.list_scope else []),
    ]
    train_feats, train_cands, skipped = pair_examples(encoder, train_rows, config.max_length)
    train_feats, train_cands = downsample_negatives(train_feats, train_cands, config.negative_ratio, config.seeds[0])
    if not any(c.label != NO_RELATION for c in train_cands):
        raise TradeieError(
            "RE training: the training documents have no relation within the candidate window",
            hint="annotate relations or raise `window`",
        )
    eval_rows = [
        *(published_pairs(eval_docs, config.window) if eval_rows is None else eval_rows),
        *(scope_rows(eval_docs, config.window) if config.list_scope else []),
    ]
    eval_feats, eval_cands, _ = pair_examples(encoder, eval_rows, config.max_length)
    if encoder.missing:
        log.warning("RE: %d pairs without their document: classified without pair features", encoder.missing)
    if eval_feats and not any(c.label != NO_RELATION for c in eval_cands):
        log.warning(
            "RE: the validation documents hold no relation to select epochs on; training all %d "
            "epochs without early stopping",
            config.epochs,
        )
        eval_feats, eval_cands = [], []
    counts = common.label_counts(train_feats)
    log.info(
        "RE: %d training pairs (%s), %d skipped as too long, %d eval pairs",
        len(train_feats),
        ", ".join(f"{LABELS[k]} {v}" for k, v in sorted(counts.items())),
        skipped,
        len(eval_feats),
    )
    settings = RESettings.of(config)

    def score(model) -> dict[str, Any] | None:
        if not eval_docs:
            return None
        classifier = RelationClassifier(model, tokenizer, settings, features)
        return score_relations(eval_docs, classifier.predict(strip_relations(eval_docs)))["gold_entities"]

    parts = common.TaskParts(
        task="re",
        labels=LABELS,
        train=train_feats,
        eval=eval_feats,
        groups=[str(f["labels"]) for f in train_feats],
        new_model=lambda: _new_classifier(base, tokenizer, config),
        collator=DataCollatorWithPadding(tokenizer),
        epoch_metrics=_pair_metrics([allowed_mask(c) for c in eval_cands]),
        score=score,
        report=lambda model: _final_scores(
            RelationClassifier(model, tokenizer, settings, features), eval_docs, test_docs, ner_dir
        ),
        metrics={
            "window": config.window,
            "train_pairs": dict(sorted((LABELS[k], v) for k, v in counts.items())),
            "list_scope_pairs": sum(1 for c in train_cands if c.sentence_distance > config.window),
        },
        settings_extra={"markers": marker_tokens()},
    )
    documents = common.TrainingDocuments(train_docs, eval_docs, augmented)
    return common.fit_model(
        parts, config, output_dir, base=base, tokenizer=tokenizer, documents=documents, dataset_name=dataset_name
    )


def marker_init_words(marker: str) -> str:
    """The word whose embedding a marker token starts from: its entity label's ("actor") for an opening
    marker, ``]`` for a closing one."""
    for label in ENTITY_LABELS:
        if marker in (head_open(label), tail_open(label)):
            return label.lower()
    return "]"


def _new_classifier(base: str, tokenizer, config: REConfig):
    """A :class:`~tradeie.training.relation_model.MarkerRelationForSequenceClassification` over ``base``:
    new head, own embeddings for the marker tokens, frozen word embeddings (``freeze_embeddings``)."""
    from tradeie.training.relation_model import MarkerRelationForSequenceClassification

    markers = marker_tokens()
    ids = tokenizer.convert_tokens_to_ids(markers)
    return MarkerRelationForSequenceClassification.from_encoder(
        base,
        labels=LABELS,
        extra_token_ids=ids,
        init_token_ids=[tokenizer(marker_init_words(m), add_special_tokens=False)["input_ids"] for m in markers],
        head_marker_ids=tokenizer.convert_tokens_to_ids([head_open(label) for label in ENTITY_LABELS]),
        tail_marker_ids=tokenizer.convert_tokens_to_ids([tail_open(label) for label in ENTITY_LABELS]),
        pooling=config.pooling,
        freeze_embeddings=config.freeze_embeddings,
        freeze_layers=config.freeze_layers,
    )


def _final_scores(
    classifier: RelationClassifier,
    eval_docs: Sequence[Document],
    test_docs: Sequence[Document],
    ner_dir: str | Path | None,
) -> dict[str, Any]:
    """``metrics.json`` entries of the kept model: test scores with gold entities and, with an NER
    model in ``ner_dir``, validation and test scores with its predicted entities."""
    from tradeie.evaluation.evaluate import strip_relations
    from tradeie.evaluation.experiments import strip_annotations

    out: dict[str, Any] = {}
    tagger = None
    if ner_dir is not None and (Path(ner_dir) / "config.json").exists():
        from tradeie.training.ner import NERTagger

        tagger = NERTagger.load(ner_dir)
        out["ner_model"] = str(ner_dir)
    for key, docs in (("eval", eval_docs), ("test", test_docs)):
        if not docs or (key == "eval" and tagger is None):
            continue
        with_gold = classifier.predict(strip_relations(docs))
        end_to_end = None
        if tagger is not None:
            bare = strip_annotations(docs)
            end_to_end = classifier.predict(bare, [p.entities for p in tagger.predict(bare)])
        scores = score_relations(docs, with_gold, end_to_end)
        if key == "test":
            out["test_documents"] = [d.id for d in docs]
            out["test"] = scores["gold_entities"]
        if end_to_end is not None:
            out[f"{key}_end_to_end"] = scores["end_to_end"]
    return out


__all__ = [
    "fit_re",
    "fit_re_dataset",
    "score_relations",
    "RelationClassifier",
    "encode_candidate",
    "encode_marked",
    "PairEncoder",
    "scope_rows",
    "decode_relation",
    "allowed_mask",
    "add_marker_tokens",
    "downsample_negatives",
    "LABELS",
]
