"""Relation classification with typed entity markers.

Candidates are :func:`tradeie.data.relcands.candidate_pairs` (ordered pairs the
schema allows, within ``window`` sentences); each is rendered with
:func:`tradeie.data.relcands.marked_text` (``[H:ACTOR] India [/H] ... [T:AGREEMENT]
deal [/T]``, markers added to the tokenizer as special tokens) and classified
by a sequence-classification head over ``no_relation`` + the schema's labels.
Decoding only allows the labels the pair's types permit. A context longer
than ``max_length`` is cropped around the two marked mentions.
"""

from __future__ import annotations

import logging
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tradeie.document import Document, Entity, Relation
from tradeie.errors import TradeieError
from tradeie.data.relcands import DEFAULT_WINDOW, Candidate, candidate_pairs, marked_text, marker_tokens
from tradeie.schema import NO_RELATION, RELATION_CLASSES, allowed_relation
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


def encode_candidate(tokenizer, text: str, cand: Candidate, max_length: int) -> list[int] | None:
    """Input ids ``[CLS] marked context [SEP]``; cropped around the markers if too long.

    Returns None when the two marked mentions alone do not fit in ``max_length``.
    """
    ids = tokenizer(marked_text(text, cand), add_special_tokens=False)["input_ids"]
    size = max_length - 2
    if len(ids) > size:
        marker_ids = set(tokenizer.convert_tokens_to_ids(marker_tokens()))
        where = [k for k, i in enumerate(ids) if i in marker_ids]
        lo, hi = min(where), max(where)
        if hi - lo + 1 > size:
            return None
        start = max(0, min(lo - (size - (hi - lo + 1)) // 2, len(ids) - size))
        ids = ids[start : start + size]
    return [tokenizer.cls_token_id, *ids, tokenizer.sep_token_id]


def decode_relation(probs: np.ndarray, mask: np.ndarray, threshold: float = 0.0) -> tuple[str, float]:
    """Best label among those ``mask`` allows; no_relation if its probability is under ``threshold``."""
    masked = np.where(mask, probs, -1.0)
    best = int(masked.argmax())
    label, score = LABELS[best], float(probs[best])
    if label != NO_RELATION and score < threshold:
        return NO_RELATION, float(probs[LABEL2ID[NO_RELATION]])
    return label, score


def _features(
    tokenizer, docs: Sequence[Document], window: int, max_length: int, entities=None
) -> tuple[list[dict[str, Any]], list[Candidate], int]:
    feats, cands, skipped = [], [], 0
    for d, doc in enumerate(docs):
        for cand in candidate_pairs(doc, window, None if entities is None else entities[d]):
            ids = encode_candidate(tokenizer, doc.text, cand, max_length)
            if ids is None:
                skipped += 1
                continue
            feats.append({"input_ids": ids, "attention_mask": [1] * len(ids), "labels": LABEL2ID[cand.label]})
            cands.append(cand)
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


class RelationClassifier:
    """A fine-tuned marker-based relation classifier."""

    def __init__(self, model, tokenizer, settings: RESettings) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.settings = settings

    @classmethod
    def load(cls, path: str | Path, device: str | None = None, batch_size: int | None = None) -> RelationClassifier:
        from tradeie.training.common import load_trained

        model, tokenizer, saved = load_trained(
            path, "AutoModelForSequenceClassification", "relation", "tradeie train re", device
        )
        settings = RESettings(
            saved.get("window", DEFAULT_WINDOW),
            saved.get("max_length", 128),
            saved.get("threshold", 0.0),
            saved.get("eval_batch_size", 32),
        )
        if batch_size:
            settings.batch_size = batch_size
        return cls(model, tokenizer, settings)

    def pair_probs(self, feats: Sequence[dict[str, Any]]) -> np.ndarray:
        """Class probabilities per encoded pair (batched, sorted by length, inference mode)."""
        import torch

        order = sorted(range(len(feats)), key=lambda i: len(feats[i]["input_ids"]))
        out = np.zeros((len(feats), len(LABELS)))
        device = next(self.model.parameters()).device
        pad = self.tokenizer.pad_token_id or 0
        with torch.inference_mode():
            for b in range(0, len(order), self.settings.batch_size):
                idx = order[b : b + self.settings.batch_size]
                width = max(len(feats[i]["input_ids"]) for i in idx)
                ids = torch.tensor(
                    [feats[i]["input_ids"] + [pad] * (width - len(feats[i]["input_ids"])) for i in idx], device=device
                )
                mask = torch.tensor(
                    [[1] * len(feats[i]["input_ids"]) + [0] * (width - len(feats[i]["input_ids"])) for i in idx],
                    device=device,
                )
                logits = self.model(input_ids=ids, attention_mask=mask).logits.float()
                out[idx] = torch.softmax(logits, -1).cpu().numpy()
        return out

    def predict(self, docs: Sequence[Document], entities: Sequence[Sequence[Entity]] | None = None) -> list[Document]:
        """Copies of ``docs`` carrying ``entities`` (default: their own) and the predicted relations."""
        ents = [list(d.entities) if entities is None else list(entities[i]) for i, d in enumerate(docs)]
        ents = [_with_ids(e) for e in ents]
        feats, cands, skipped = _features(self.tokenizer, docs, self.settings.window, self.settings.max_length, ents)
        if skipped:
            log.warning(
                "%d candidate pairs longer than max_length=%d were not classified", skipped, self.settings.max_length
            )
        probs = self.pair_probs(feats) if feats else np.zeros((0, len(LABELS)))
        by_doc: dict[str, list[Relation]] = {}
        for cand, p in zip(cands, probs):
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
    number of predictions is an error (never decoding without the constraints).
    P/R/F1 come from :func:`tradeie.evaluation.scores.prf`; only epochs are chosen on it.
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
        pred = np.array([LABEL2ID[decode_relation(p, mask)[0]] for p, mask in zip(probs, masks)])
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


def fit_re(
    train_docs: Sequence[Document],
    eval_docs: Sequence[Document] | None,
    config: REConfig,
    output_dir: str | Path,
    *,
    test_docs: Sequence[Document] | None = None,
    ner_dir: str | Path | None = None,
    dataset_name: str | None = None,
) -> Path:
    """Fine-tune the relation classifier on the gold entities of ``train_docs``; save to ``output_dir``.

    ``eval_docs`` (real documents, may be None) select the best epoch and
    seed and are scored with gold entities (strict relation F1) and, when an
    NER model is given as ``ner_dir``, end to end with its predicted
    entities. ``test_docs`` are scored the same way once at the end.
    Candidate pairs follow ``config.window``; class imbalance is handled by
    ``negative_ratio`` (down-sampling), ``class_weights`` and/or
    ``balanced_sampling``. Returns ``output_dir``; only rank 0 writes under DDP.
    """
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, DataCollatorWithPadding
    from transformers import set_seed

    from tradeie.evaluation.experiments import strip_annotations
    from tradeie.evaluation.evaluate import strip_relations
    from tradeie.training import common
    from tradeie.training.augment import augment_documents

    config.validate()
    common.setup_torch(config)
    output_dir = Path(output_dir)
    base = config.resolved_base_model()
    common.check_length(config, base)
    train_docs, eval_docs = list(train_docs), list(eval_docs or [])
    augmented = (
        augment_documents(train_docs, config.augment_copies, config.augment_prob, config.seeds[0])
        if config.augment
        else []
    )
    tokenizer = AutoTokenizer.from_pretrained(base)
    add_marker_tokens(tokenizer)
    train_feats, train_cands, skipped = _features(tokenizer, train_docs + augmented, config.window, config.max_length)
    train_feats, train_cands = downsample_negatives(train_feats, train_cands, config.negative_ratio, config.seeds[0])
    if not any(c.label != NO_RELATION for c in train_cands):
        raise TradeieError(
            "RE training: the training documents have no relation within the candidate window",
            hint="annotate relations or raise `window`",
        )
    eval_feats, eval_cands, _ = _features(tokenizer, eval_docs, config.window, config.max_length)
    if eval_feats and not any(c.label != NO_RELATION for c in eval_cands):
        log.warning(
            "RE: the validation documents hold no relation to select epochs on; training all %d "
            "epochs without early stopping",
            config.epochs,
        )
        eval_feats, eval_cands = [], []
    has_eval = bool(eval_feats)
    counts = Counter(f["labels"] for f in train_feats)
    log.info(
        "RE: %d training pairs (%s), %d skipped as too long, %d eval pairs",
        len(train_feats),
        ", ".join(f"{LABELS[k]} {v}" for k, v in sorted(counts.items())),
        skipped,
        len(eval_feats),
    )
    sample_weights = (
        common.balanced_sample_weights([str(f["labels"]) for f in train_feats]) if config.balanced_sampling else None
    )
    loss_func = (
        common.weighted_loss(common.inverse_frequency_weights(counts, len(LABELS))) if config.class_weights else None
    )
    settings = RESettings(config.window, config.max_length, config.threshold, config.eval_batch_size)
    trainer_cls = common.make_trainer_class()
    work_dir = output_dir.parent / f".{output_dir.name}.checkpoints"
    masks = [allowed_mask(c) for c in eval_cands]

    def train_one(seed: int, args):
        set_seed(seed)
        with common.quiet_transformers():  # the new classifier head is expected to be missing
            model = AutoModelForSequenceClassification.from_pretrained(
                base, num_labels=len(LABELS), id2label=dict(enumerate(LABELS)), label2id=LABEL2ID
            )
            model.resize_token_embeddings(len(tokenizer))
        trainer = trainer_cls(
            model=model,
            args=args,
            train_dataset=common.ListDataset(train_feats),
            eval_dataset=common.ListDataset(eval_feats) if has_eval else None,
            data_collator=DataCollatorWithPadding(tokenizer),
            processing_class=tokenizer,
            compute_metrics=_pair_metrics(masks) if has_eval else None,
            compute_loss_func=loss_func,
            callbacks=common.early_stopping(config, has_eval),
            sample_weights=sample_weights,
        )
        trainer.train()
        return trainer

    def score(model) -> dict | None:
        if not eval_docs:
            return None
        classifier = RelationClassifier(model, tokenizer, settings)
        return score_relations(eval_docs, classifier.predict(strip_relations(eval_docs)))["gold_entities"]

    model, runs, best = common.run_seeds(config, work_dir, has_eval, train_one, score)
    classifier = RelationClassifier(model, tokenizer, settings)
    metrics: dict[str, Any] = {
        "task": "re",
        "base_model": base,
        "dataset": dataset_name,
        "window": config.window,
        "train_documents": [d.id for d in train_docs],
        "eval_documents": [d.id for d in eval_docs],
        "augmented_documents": len(augmented),
        "train_pairs": dict(sorted((LABELS[k], v) for k, v in counts.items())),
        **common.seed_summary(runs, best),
        "eval": runs[best].eval,
    }
    tagger = None
    if ner_dir is not None and (Path(ner_dir) / "config.json").exists():
        from tradeie.training.ner import NERTagger

        tagger = NERTagger.load(ner_dir)
        metrics["ner_model"] = str(ner_dir)
    for key, docs in (("eval", eval_docs), ("test", test_docs or [])):
        if not docs or (key == "eval" and tagger is None):
            continue
        with_gold = classifier.predict(strip_relations(docs))
        end_to_end = None
        if tagger is not None:
            bare = strip_annotations(docs)
            end_to_end = classifier.predict(bare, [p.entities for p in tagger.predict(bare)])
        scores = score_relations(docs, with_gold, end_to_end)
        if key == "test":
            metrics["test_documents"] = [d.id for d in docs]
            metrics["test"] = scores["gold_entities"]
        if end_to_end is not None:
            metrics[f"{key}_end_to_end"] = scores["end_to_end"]
    return common.save_trained(
        output_dir,
        "re",
        model,
        tokenizer,
        config,
        base,
        metrics,
        dataset_name,
        settings_extra={"markers": marker_tokens()},
    )


__all__ = [
    "fit_re",
    "score_relations",
    "RelationClassifier",
    "encode_candidate",
    "decode_relation",
    "allowed_mask",
    "add_marker_tokens",
    "downsample_negatives",
    "LABELS",
]
