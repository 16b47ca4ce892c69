"""NER: BIO token classification with a transformers encoder.

Training rows are the published dataset ``ner`` rows (``tokens``, ``ner_tags``,
``token_starts``, ``token_ends``): ``tradeie train ner`` reads them from the
dataset folder (:func:`fit_ner_dataset`), and documents (cross-validation folds,
augmented copies) become rows through :func:`tradeie.data.dataset.ner_rows`, the
function that builds the published ones. Each word is split into sub-words; only
the first sub-word carries the word's label (others -100, unless
``label_all_subtokens``). A row longer than ``max_length`` is cut into
overlapping windows (``stride`` sub-words of overlap) for training and
prediction, never truncated; at prediction a word's probabilities are
averaged over the windows that contain its first sub-word, then decoded
(strict IOB2 Viterbi by default) into character-offset entities.

With ``linguistic_features`` in the config the model is a
:class:`~tradeie.training.feature_model.FeatureTaggerForTokenClassification`:
word shape, spaCy POS / entity-type and rule-match embeddings
(:mod:`tradeie.training.features`) are concatenated to the encoder's states.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tradeie.corpus import document_tokens
from tradeie.document import Document, Entity
from tradeie.errors import TradeieError
from tradeie.schema import BIO_TAGS
from tradeie.text.tokens import Token
from tradeie.training.config import NERConfig

log = logging.getLogger(__name__)

LABELS: tuple[str, ...] = BIO_TAGS
LABEL2ID = {tag: i for i, tag in enumerate(LABELS)}


# ------------------------------------------------------------------ token rows

#: A row of the dataset ``ner`` config (at least ``tokens``, ``ner_tags``, ``token_starts``, ``token_ends``).
NERRow = dict[str, Any]


def published_rows(docs: Sequence[Document]) -> list[NERRow]:
    """The ``ner`` rows of ``docs`` exactly as ``tradeie dataset build`` publishes them."""
    from tradeie.data.dataset import ner_rows

    return [row for i, doc in enumerate(docs) for row in ner_rows(doc, i)]


def tagged_tokens(rows: Sequence[NERRow]) -> list[tuple[list[Token], list[str]]]:
    """``(tokens, IOB2 tags)`` of ``ner`` rows (``ner_tags`` are ids into :data:`LABELS`)."""
    return [
        (
            [Token(t, s, e) for t, s, e in zip(r["tokens"], r["token_starts"], r["token_ends"], strict=True)],
            [LABELS[i] for i in r["ner_tags"]],
        )
        for r in rows
    ]


# ------------------------------------------------------------ sub-words, windows


def encode_words(tokenizer, word_lists: Sequence[Sequence[str]]) -> list[tuple[list[int], list[int | None]]]:
    """Sub-word ids and their word index for each pre-split word list (no special tokens)."""
    if not word_lists:
        return []
    enc = tokenizer([list(w) for w in word_lists], is_split_into_words=True, add_special_tokens=False)
    return [(list(enc["input_ids"][i]), list(enc.word_ids(i))) for i in range(len(word_lists))]


def window_spans(word_ids: Sequence[int | None], size: int, stride: int) -> list[tuple[int, int]]:
    """``[start, end)`` sub-word ranges of at most ``size`` covering the sequence, overlapping by ``stride``.

    A sequence that fits gives one window. Later windows start on a word's
    first sub-word when that keeps the overlap at least ``stride``.
    """
    n = len(word_ids)
    if size < 1:
        raise ValueError("window size must be >= 1")
    if n <= size:
        return [(0, n)]
    stride = min(stride, size - 1)
    spans, start = [], 0
    while True:
        end = min(start + size, n)
        spans.append((start, end))
        if end >= n:
            return spans
        nxt = end - stride
        while nxt > start + 1 and word_ids[nxt] is not None and word_ids[nxt] == word_ids[nxt - 1]:
            nxt -= 1
        start = max(nxt, start + 1)


def first_subword_mask(word_ids: Sequence[int | None]) -> list[bool]:
    """True at the first sub-word of each word."""
    return [w is not None and (k == 0 or word_ids[k - 1] != w) for k, w in enumerate(word_ids)]


def _inside(tag: str) -> str:
    return "I-" + tag[2:] if tag.startswith("B-") else tag


def window_features(
    tokenizer,
    rows: Sequence[tuple[Sequence[Token], Sequence[str]]],
    max_length: int,
    stride: int,
    label_all_subtokens: bool = False,
    word_feature_ids: Sequence[Sequence[list[int]]] | None = None,
) -> list[dict[str, Any]]:
    """Training features (input_ids, attention_mask, labels) for every window of every row.

    With ``word_feature_ids`` (per row, per word: linguistic feature ids, see
    :mod:`tradeie.training.features`) each window also gets ``feature_ids``
    per sub-word (a word's ids on all its sub-words, zeros on special tokens).
    """
    encoded = encode_words(tokenizer, [[t.text for t in toks] for toks, _ in rows])
    cls, sep = tokenizer.cls_token_id, tokenizer.sep_token_id
    feats = []
    for r, ((toks, tags), (ids, wids)) in enumerate(zip(rows, encoded)):
        sub_feats = None
        if word_feature_ids is not None:
            from tradeie.training.features import subword_feature_ids

            width = len(word_feature_ids[r][0]) if word_feature_ids[r] else 0
            sub_feats = subword_feature_ids(wids, word_feature_ids[r], width)
            edge = [[0] * width]
        first = first_subword_mask(wids)
        labels_all = []
        for k, w in enumerate(wids):
            if w is None:
                labels_all.append(-100)
            elif first[k]:
                labels_all.append(LABEL2ID[tags[w]])
            else:
                labels_all.append(LABEL2ID[_inside(tags[w])] if label_all_subtokens else -100)
        for a, b in window_spans(wids, max_length - 2, stride):
            input_ids = [cls, *ids[a:b], sep]
            feats.append(
                {
                    "input_ids": input_ids,
                    "attention_mask": [1] * len(input_ids),
                    "labels": [-100, *labels_all[a:b], -100],
                }
            )
            if sub_feats is not None:
                feats[-1]["feature_ids"] = edge + sub_feats[a:b] + edge
    return feats


# ----------------------------------------------------------------- decoding


def allowed_transition(prev: str, tag: str) -> bool:
    """Strict IOB2: I-X only after B-X or I-X."""
    return not tag.startswith("I-") or (prev != "O" and prev[2:] == tag[2:])


def viterbi_decode(probs: np.ndarray, labels: Sequence[str]) -> list[int]:
    """Most probable tag path under strict IOB2 constraints (no I-X after O or another type, nor first)."""
    n, k = probs.shape
    if n == 0:
        return []
    logp = np.log(np.clip(probs, 1e-12, 1.0))
    trans = np.array(
        [[0.0 if allowed_transition(labels[i], labels[j]) else -np.inf for j in range(k)] for i in range(k)]
    )
    start = np.array([-np.inf if t.startswith("I-") else 0.0 for t in labels])
    score = start + logp[0]
    back = np.zeros((n, k), dtype=int)
    for t in range(1, n):
        cand = score[:, None] + trans
        back[t] = cand.argmax(axis=0)
        score = cand.max(axis=0) + logp[t]
    path = [int(score.argmax())]
    for t in range(n - 1, 0, -1):
        path.append(int(back[t, path[-1]]))
    return path[::-1]


def decode_entities(
    doc: Document, tokens: Sequence[Token], probs: np.ndarray, labels: Sequence[str], constrained: bool = True
) -> list[tuple[int, int, str, float]]:
    """``(start, end, label, score)`` spans from per-word tag probabilities; score = mean tag probability."""
    ids = viterbi_decode(probs, labels) if constrained else [int(i) for i in probs.argmax(axis=1)]
    spans, current = [], None
    for i, tag_id in enumerate(ids):
        tag = labels[tag_id]
        prefix, label = tag[:1], tag[2:]
        if prefix == "I" and current is not None and current[2] == label:
            current[1] = i
            continue
        if current is not None:
            spans.append(current)
            current = None
        if prefix in ("B", "I"):
            current = [i, i, label]
    if current is not None:
        spans.append(current)
    out = []
    for first, last, label in spans:
        score = float(np.mean([probs[i, ids[i]] for i in range(first, last + 1)]))
        out.append((tokens[first].start, tokens[last].end, label, round(score, 4)))
    return out


# ---------------------------------------------------------------- the tagger


@dataclass
class NERSettings:
    max_length: int = 128
    stride: int = 32
    constrained_decoding: bool = True
    batch_size: int = 32


class NERTagger:
    """A fine-tuned token classifier that turns documents into entity predictions."""

    def __init__(self, model, tokenizer, settings: NERSettings, gazetteer=None) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.settings = settings
        self.gazetteer = gazetteer
        id2label = model.config.id2label
        self.labels = [id2label[i] for i in range(len(id2label))]
        from tradeie.training.features import WordFeatures

        self.features = WordFeatures.from_config(model.config)  # None for a plain token classifier

    @classmethod
    def load(cls, path: str | Path, device: str | None = None, batch_size: int | None = None) -> NERTagger:
        """Load ``path`` (a saved ``ner/`` folder)."""
        from tradeie.training import feature_model  # noqa: F401  (registers the feature tagger's model_type)
        from tradeie.training.common import load_trained

        path = Path(path)
        model, tokenizer, saved = load_trained(
            path, "AutoModelForTokenClassification", "NER", "tradeie train ner", device
        )
        settings = NERSettings(
            saved.get("max_length", 128),
            saved.get("stride", 32),
            saved.get("constrained_decoding", True),
            saved.get("eval_batch_size", 32),
        )
        if batch_size:
            settings.batch_size = batch_size
        gazetteer = None
        if (path / "gazetteer" / "baseline.json").exists():
            from tradeie.training.baselines import GazetteerBaseline

            gazetteer = GazetteerBaseline.load(path / "gazetteer")
        return cls(model, tokenizer, settings, gazetteer)

    def word_probs(self, rows: Sequence[Sequence[Token]]) -> list[np.ndarray]:
        """Per-word tag probabilities for each row, averaged over the windows holding its first sub-word."""
        flat, offsets = self._flat_word_probs(rows)
        return [flat[offsets[i] : offsets[i + 1]] for i in range(len(rows))]

    def _flat_word_probs(self, rows: Sequence[Sequence[Token]]) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`word_probs` of every row stacked, ``[words, labels]``, and the row offsets into it.

        Windows are run shortest first in batches of at most ``batch_size * max_length``
        padded sub-words (``batch_size`` full windows, up to ``4 * batch_size`` short ones:
        :func:`_token_budget_batches`), under ``torch.inference_mode``; only the first
        sub-word of each word is read back, and spread onto the words with array indexing
        (no per-token Python).
        """
        import torch

        encoded = encode_words(self.tokenizer, [[t.text for t in toks] for toks in rows])
        cls, sep = self.tokenizer.cls_token_id, self.tokenizer.sep_token_id
        size = self.settings.max_length - 2
        offsets = np.zeros(len(rows) + 1, dtype=np.int64)
        offsets[1:] = np.cumsum([len(toks) for toks in rows])
        windows = []  # (row, a, b, positions of first sub-words in the window input, their words' flat index)
        for r, (_, wids) in enumerate(encoded):
            word = np.array(wids, dtype=np.int64)  # no special tokens: every sub-word has a word
            first = np.ones(len(word), dtype=bool)  # first_subword_mask, as an array operation
            first[1:] = word[1:] != word[:-1]
            for a, b in window_spans(wids, size, self.settings.stride) if len(word) > size else [(0, len(word))]:
                at = np.flatnonzero(first[a:b])
                windows.append((r, a, b, at + 1, word[a:b][at] + offsets[r]))
        n_labels = len(self.labels)
        sums = np.zeros((int(offsets[-1]), n_labels))
        counts = np.zeros(int(offsets[-1]))
        sub_feats = self._subword_features(rows, encoded)
        n_feats = len(self.features.names) if sub_feats is not None else 0
        pad = self.tokenizer.pad_token_id or 0
        device = next(self.model.parameters()).device
        order = sorted(range(len(windows)), key=lambda i: windows[i][2] - windows[i][1])
        with torch.inference_mode():
            lengths = [w[2] - w[1] + 2 for w in windows]
            for batch in _token_budget_batches(order, lengths, self.settings.batch_size, self.settings.max_length):
                width = max(windows[i][2] - windows[i][1] for i in batch) + 2
                ids = np.full((len(batch), width), pad, dtype=np.int64)
                mask = np.zeros((len(batch), width), dtype=np.int64)
                for j, i in enumerate(batch):
                    r, a, b = windows[i][:3]
                    ids[j, 0], ids[j, 1 : b - a + 1], ids[j, b - a + 1] = cls, encoded[r][0][a:b], sep
                    mask[j, : b - a + 2] = 1
                extra = {}
                if sub_feats is not None:
                    extra["feature_ids"] = _feature_batch(
                        sub_feats, [windows[i][:3] for i in batch], width, n_feats
                    ).to(device)
                logits = self.model(
                    input_ids=torch.from_numpy(ids).to(device),
                    attention_mask=torch.from_numpy(mask).to(device),
                    **extra,
                ).logits
                rows_at = np.concatenate([np.full(len(windows[i][3]), j) for j, i in enumerate(batch)])
                cols_at = np.concatenate([windows[i][3] for i in batch])
                picked = logits[torch.from_numpy(rows_at).to(device), torch.from_numpy(cols_at).to(device)]
                probs = torch.softmax(picked.float(), -1).cpu().numpy()
                words = np.concatenate([windows[i][4] for i in batch])
                np.add.at(sums, words, probs)
                np.add.at(counts, words, 1.0)
        missing = counts == 0  # words with no sub-word at all (e.g. only control characters)
        sums[missing, self.labels.index("O")] = 1.0
        counts[missing] = 1.0
        return sums / counts[:, None], offsets

    def _subword_features(self, rows: Sequence[Sequence[Token]], encoded) -> list[list[list[int]]] | None:
        """Per row, per sub-word: the linguistic feature ids (None without features)."""
        if self.features is None:
            return None
        from tradeie.training.features import subword_feature_ids

        word_feats = self.features.row_ids(rows)
        return [subword_feature_ids(wids, wf, len(self.features.names)) for (_, wids), wf in zip(encoded, word_feats)]

    def predict(self, docs: Sequence[Document]) -> list[Document]:
        """Copies of ``docs`` with predicted entities (ids ``e1``... in text order, scores) and no relations.

        Every sentence of every document is tagged in one pass (:meth:`_flat_word_probs`) and
        decoded for all sentences at once (:func:`decode_rows`).
        """
        units = []
        for d, doc in enumerate(docs):
            for toks in document_tokens(doc):
                if toks:
                    units.append((d, toks))
        rows = [toks for _, toks in units]
        probs, offsets = self._flat_word_probs(rows)
        decoded = decode_rows(rows, probs, offsets, self.labels, self.settings.constrained_decoding)
        spans: list[list[tuple[int, int, str, float]]] = [[] for _ in docs]
        for (d, toks), found in zip(units, decoded):
            if self.gazetteer is not None:
                taken = [(s, e) for s, e, _, _ in found]
                for s, e, label, prec in self.gazetteer.match(toks):
                    if all(e <= s2 or s >= e2 for s2, e2 in taken):
                        found.append((s, e, label, prec))
            spans[d] += found
        out = []
        for doc, found in zip(docs, spans):
            found.sort()
            ents = [
                Entity(s, e, label, f"e{i}", doc.text[s:e], score) for i, (s, e, label, score) in enumerate(found, 1)
            ]
            out.append(doc.with_annotations(ents, ()))
        return out


def _token_budget_batches(order: Sequence[int], lengths: Sequence[int], batch_size: int, max_length: int):
    """Consecutive groups of ``order`` (indices sorted by length): length-sorted dynamic batches of
    at most ``batch_size * max_length`` padded sub-words (``batch_size`` full windows) and
    ``batch_size * 4`` windows.

    Sorting leaves almost no padding; the sub-word budget lets short sentences go in larger
    batches: fewer, larger matrix products, which keep two threads busier.
    """
    budget = max(batch_size, 1) * max(max_length, 1)
    cap = max(batch_size, 1) * 4
    batch: list[int] = []
    for i in order:
        if batch and ((len(batch) + 1) * max(lengths[i], lengths[batch[-1]]) > budget or len(batch) >= cap):
            yield batch
            batch = []
        batch.append(i)
    if batch:
        yield batch


def viterbi_rows(probs: np.ndarray, offsets: np.ndarray, labels: Sequence[str]) -> np.ndarray:
    """:func:`viterbi_decode` of every row of stacked ``probs`` (rows ``offsets[i]:offsets[i+1]``) at
    once: one array step per position over all rows (same arithmetic, same tie-breaking)."""
    n, k = probs.shape
    out = np.zeros(n, dtype=np.int64)
    lengths = np.diff(offsets)
    rows = np.flatnonzero(lengths)
    if not len(rows):
        return out
    trans = np.array(
        [[0.0 if allowed_transition(labels[i], labels[j]) else -np.inf for j in range(k)] for i in range(k)]
    )
    start = np.array([-np.inf if t.startswith("I-") else 0.0 for t in labels])
    logp_all = np.log(np.clip(probs, 1e-12, 1.0))
    rows = rows[np.argsort(lengths[rows], kind="stable")]
    for chunk in np.array_split(rows, max(1, len(rows) // 2048)):  # similar lengths together, bounded memory
        lens = lengths[chunk]
        width = int(lens.max())
        pos = np.arange(width)
        valid = pos[None, :] < lens[:, None]
        index = np.where(valid, offsets[chunk][:, None] + pos[None, :], 0)
        logp = logp_all[index]  # [rows, width, k]
        score = start + logp[:, 0]
        back = np.zeros((len(chunk), width, k), dtype=np.int64)
        for t in range(1, width):
            cand = score[:, :, None] + trans[None]
            back[:, t] = cand.argmax(axis=1)
            score = np.where(valid[:, t, None], cand.max(axis=1) + logp[:, t], score)
        cur = score.argmax(axis=1)
        path = np.zeros((len(chunk), width), dtype=np.int64)
        every = np.arange(len(chunk))
        for t in range(width - 1, 0, -1):
            active = valid[:, t]
            path[active, t] = cur[active]
            cur = np.where(active, back[every, t, cur], cur)
        path[:, 0] = cur
        out[index[valid]] = path[valid]
    return out


def decode_rows(
    rows: Sequence[Sequence[Token]], probs: np.ndarray, offsets: np.ndarray, labels: Sequence[str], constrained=True
) -> list[list[tuple[int, int, str, float]]]:
    """:func:`decode_entities` of every row at once (stacked ``probs``, rows ``offsets[i]:offsets[i+1]``):
    the tag path by :func:`viterbi_rows` or argmax, spans and their mean tag probability with array
    operations; only the entities themselves are built in Python."""
    n = len(probs)
    spans: list[list[tuple[int, int, str, float]]] = [[] for _ in rows]
    if not n:
        return spans
    ids = viterbi_rows(probs, offsets, labels) if constrained else probs.argmax(axis=1)
    kinds = [tag.partition("-") for tag in labels]
    names = sorted({lab for prefix, _, lab in kinds if prefix in ("B", "I")})
    label_of = np.array([names.index(lab) if prefix in ("B", "I") else -1 for prefix, _, lab in kinds])
    is_inside = np.array([prefix == "I" for prefix, _, _ in kinds])
    label = label_of[ids]
    row_start = np.zeros(n, dtype=bool)
    row_start[offsets[:-1][offsets[:-1] < n]] = True
    prev = np.concatenate([[-1], label[:-1]])
    continues = is_inside[ids] & ~row_start & (prev == label) & (label >= 0)
    starts = np.flatnonzero((label >= 0) & ~continues)
    stops = np.flatnonzero(~continues)  # a span runs from its start up to the next position that does not continue
    after = np.searchsorted(stops, starts, side="right")
    ends = np.where(after < len(stops), stops[np.minimum(after, len(stops) - 1)], n)
    chosen = probs[np.arange(n), ids]
    row_of = np.searchsorted(offsets, starts, side="right") - 1
    for s, e, r in zip(starts.tolist(), ends.tolist(), row_of.tolist()):
        toks = rows[r]
        score = float(chosen[s]) if e - s == 1 else float(np.mean(chosen[s:e]))  # as decode_entities
        tag = names[label_of[ids[s]]]
        spans[r].append((toks[s - int(offsets[r])].start, toks[e - 1 - int(offsets[r])].end, tag, round(score, 4)))
    return spans


def _feature_batch(sub_feats: Sequence[list[list[int]]], windows: Sequence[tuple[int, int, int]], width: int, n: int):
    """``[batch, width, n]`` feature ids of windows ``(row, a, b)``: zeros on specials and padding."""
    import torch

    edge = [[0] * n]
    rows = [edge + sub_feats[r][a:b] + edge + edge * (width - (b - a + 2)) for r, a, b in windows]
    return torch.tensor(rows, dtype=torch.long).reshape(len(windows), width, n)


# ----------------------------------------------------------------- training


def _window_metrics(labels: Sequence[str]):
    """compute_metrics for Trainer: entity F1 over the labelled sub-words of each window.

    The scores come from :mod:`tradeie.evaluation.scores` (seqeval strict IOB2, micro, as
    headline ``ner_f1``; token F1 through its :func:`~tradeie.evaluation.scores.prf`). Only
    epochs are chosen on it: windows overlap, so it is not the reported figure.
    """
    from tradeie.evaluation.scores import prf, seqeval_scores
    from tradeie.schema import ENTITY_LABELS

    def compute(eval_pred) -> dict[str, float]:
        preds, gold = eval_pred.predictions, eval_pred.label_ids
        y_true, y_pred = [], []
        for p_row, g_row in zip(preds, gold):
            keep = g_row != -100
            y_true.append([labels[i] for i in g_row[keep]])
            y_pred.append([labels[i] for i in p_row[keep]])
        entity = seqeval_scores(y_true, y_pred, "strict", list(ENTITY_LABELS))["micro"]
        pairs = [(a, b) for t, p in zip(y_true, y_pred) for a, b in zip(t, p)]
        token = prf(
            sum(a == b != "O" for a, b in pairs), sum(b != "O" for _, b in pairs), sum(a != "O" for a, _ in pairs)
        )
        # entity F1 decides; token F1 only breaks ties (e.g. while entity F1 is still 0)
        return {
            "f1": entity["f1"],
            "precision": entity["precision"],
            "recall": entity["recall"],
            "token_f1": token["f1"],
            "selection": entity["f1"] + 1e-3 * token["f1"],
        }

    return compute


def score_entities(gold: Sequence[Document], pred: Sequence[Document]) -> dict[str, Any]:
    """Training-time NER scores (``metrics.json`` ``eval``/``test``, seed choice): headline ``ner_f1``
    of :func:`tradeie.evaluation.scores.compute_metrics`, the figure ``tradeie evaluate`` reports."""
    from tradeie.evaluation.scores import ner_figure

    return ner_figure(gold, pred).as_dict()


def _argmax_logits(logits, labels):
    return logits.argmax(dim=-1)


def _window_group(labels: Sequence[int], counts: Counter) -> str:
    """The rarest entity label in a window's labels ('O' when it has none)."""
    present = {LABELS[i][2:] for i in labels if i > 0}
    return min(present, key=lambda lab: (counts[lab], lab)) if present else "O"


def _linguistic_features(config: NERConfig, train_docs: Sequence[Document], train_rows, eval_rows):
    """With ``config.linguistic_features``: (model config keys, train ids, eval ids, summary); else None.

    Vocabularies come from the training rows (augmented copies included); the
    rules' gazetteer from the real training documents.
    """
    if not config.linguistic_features:
        return None
    from tradeie.text.linguistic import DEFAULT_PIPELINE, pipeline_info
    from tradeie.training.features import PARSED_FEATURES, WordFeatures

    features = WordFeatures.fit(config.linguistic_features, config.linguistic_pipeline or DEFAULT_PIPELINE, train_docs)
    train_values = features.values([toks for toks, _ in train_rows])
    features.build_vocabs(train_values)
    keys = features.to_config()
    summary = {"features": list(features.names), "vocab_sizes": {n: len(v) for n, v in features.vocabs.items()}}
    if PARSED_FEATURES & set(features.names):
        info = pipeline_info(features.pipeline)
        keys["spacy_pipeline_version"] = f"{info.name} {info.version} (spaCy {info.spacy_version})"
        summary["spacy_pipeline"] = {
            "name": info.name,
            "version": info.version,
            "spacy": info.spacy_version,
            "package": info.package,
        }
    return keys, features.ids(train_values), features.row_ids([toks for toks, _ in eval_rows]), summary


def fit_ner_dataset(
    folder: str | Path, config: NERConfig, output_dir: str | Path, *, documents: dict[str, list[Document]] | None = None
) -> Path:
    """``tradeie train ner``: train on the dataset folder's ``ner`` rows as published.

    The rows are ``datasets.load_dataset(folder, "ner")``'s train and validation
    splits, exactly what a user's own script gets; the ``documents`` config
    (``documents``: its splits, if already loaded) gives the documents that are
    scored end to end, augmented and fed to the gazetteer.
    """
    from tradeie.data.dataset import load_hub_folder
    from tradeie.training.runs import load_splits

    rows = load_hub_folder(folder, "ner")
    documents = load_splits(folder) if documents is None else documents
    return fit_ner(
        documents.get("train", []),
        documents.get("validation") or None,
        config,
        output_dir,
        test_docs=documents.get("test") or None,
        dataset_name=str(folder),
        train_rows=list(rows["train"]) if "train" in rows else [],
        eval_rows=list(rows["validation"]) if "validation" in rows else [],
    )


def fit_ner(
    train_docs: Sequence[Document],
    eval_docs: Sequence[Document] | None,
    config: NERConfig,
    output_dir: str | Path,
    *,
    test_docs: Sequence[Document] | None = None,
    dataset_name: str | None = None,
    train_rows: Sequence[NERRow] | None = None,
    eval_rows: Sequence[NERRow] | None = None,
) -> Path:
    """Fine-tune a token classifier on ``train_docs``; save it to ``output_dir``; return that path.

    The model trains on ``train_rows`` (published ``ner`` rows; default: those of
    ``train_docs`` through :func:`published_rows`) plus the rows of augmented
    copies (if ``config.augment``, made from ``train_docs`` only). ``eval_rows``
    (default: those of ``eval_docs``) are scored every epoch for early stopping
    / best checkpoint; ``eval_docs`` (real documents, may be None) are scored
    after training with :func:`score_entities` (the one scorer); with several
    ``config.seeds`` the best seed on them is kept and best/mean/sd reported.
    ``test_docs``, if given, are scored once with the final model. The folder gets the model
    (safetensors), tokenizer, ``config.json`` with ``id2label``/``label2id``,
    ``training_config.json``, ``metrics.json`` and a model card ``README.md``.
    The shared steps (seeds, Trainer, checkpoints, saving) are
    :func:`tradeie.training.common.fit_model`'s. Runs unchanged under
    ``torchrun``/``accelerate launch`` (only rank 0 writes).
    """
    from transformers import AutoTokenizer

    from tradeie.evaluation.experiments import strip_annotations
    from tradeie.training import common

    base = common.prepare(config)
    train_docs, eval_docs, test_docs = list(train_docs), list(eval_docs or []), list(test_docs or [])
    if not any(d.entities for d in train_docs):
        raise TradeieError(
            "NER training: the training documents have no entities",
            hint="annotate documents or check the dataset split",
        )
    augmented = common.augmented_copies(config, train_docs)
    tokenizer = AutoTokenizer.from_pretrained(base)
    train_rows = tagged_tokens(
        [*(published_rows(train_docs) if train_rows is None else train_rows), *published_rows(augmented)]
    )
    eval_rows = tagged_tokens(published_rows(eval_docs) if eval_rows is None else eval_rows)
    linguistic = _linguistic_features(config, train_docs, train_rows, eval_rows)
    train_ids, eval_ids = (linguistic[1], linguistic[2]) if linguistic is not None else (None, None)
    train_feats = window_features(
        tokenizer, train_rows, config.max_length, config.stride, config.label_all_subtokens, train_ids
    )
    eval_feats = window_features(
        tokenizer, eval_rows, config.max_length, config.stride, config.label_all_subtokens, eval_ids
    )
    log.info(
        "NER: %d training windows (%d documents, %d augmented), %d eval windows",
        len(train_feats),
        len(train_docs),
        len(augmented),
        len(eval_feats),
    )
    entity_counts = Counter(LABELS[i][2:] for f in train_feats for i in f["labels"] if i > 0)
    settings = NERSettings(config.max_length, config.stride, config.constrained_decoding, config.eval_batch_size)
    gazetteer = None
    if config.gazetteer_ensemble:
        from tradeie.training.baselines import GazetteerBaseline

        gazetteer = GazetteerBaseline.fit(train_docs, config.gazetteer_min_precision)

    def scores(model, docs: list[Document]) -> dict[str, Any]:
        return score_entities(docs, NERTagger(model, tokenizer, settings, gazetteer).predict(strip_annotations(docs)))

    def report(model) -> dict[str, Any]:
        return {"test_documents": [d.id for d in test_docs], "test": scores(model, test_docs)} if test_docs else {}

    parts = common.TaskParts(
        task="ner",
        labels=LABELS,
        train=train_feats,
        eval=eval_feats,
        groups=[_window_group(f["labels"], entity_counts) for f in train_feats],
        new_model=lambda: _new_tagger(base, config, None if linguistic is None else linguistic[0]),
        collator=_collator(tokenizer, linguistic is not None),
        epoch_metrics=_window_metrics(LABELS),
        score=lambda model: scores(model, eval_docs) if eval_docs else None,
        report=report,
        metrics={"train_windows": len(train_feats), **({} if linguistic is None else {"linguistic": linguistic[3]})},
        preprocess_logits=_argmax_logits,
        write_extra=None if gazetteer is None else (lambda folder: gazetteer.save(folder / "gazetteer")),
    )
    documents = common.TrainingDocuments(train_docs, eval_docs, augmented)
    return common.fit_model(
        parts, config, output_dir, base=base, tokenizer=tokenizer, documents=documents, dataset_name=dataset_name
    )


def _new_tagger(base: str, config: NERConfig, features: dict[str, Any] | None):
    """A token classifier over ``base`` with a new head (and feature embeddings with ``features``)."""
    if features is None:
        from transformers import AutoModelForTokenClassification

        return AutoModelForTokenClassification.from_pretrained(
            base, num_labels=len(LABELS), id2label=dict(enumerate(LABELS)), label2id=LABEL2ID
        )
    from tradeie.training.feature_model import FeatureTaggerForTokenClassification

    return FeatureTaggerForTokenClassification.from_encoder(
        base, labels=list(LABELS), features=features, feature_dim=config.feature_dim
    )


def _collator(tokenizer, with_features: bool):
    """Pads token-classification windows (labels with -100; ``feature_ids`` with zeros ``with_features``)."""
    from transformers import DataCollatorForTokenClassification

    collator = DataCollatorForTokenClassification(tokenizer)
    if not with_features:
        return collator
    from tradeie.training.feature_model import FeatureCollator

    return FeatureCollator(collator, tokenizer.padding_side)
