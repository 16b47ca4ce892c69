"""Documents -> Hugging Face datasets: the only module that knows ``datasets``.

Three configs, each a ``DatasetDict`` with ``train`` / ``validation`` /
``test`` split by document (:mod:`tradeie.data.splits`):

* ``ner``: one row per sentence, CoNLL style (``tokens``, ``ner_tags`` as
  ``ClassLabel`` over :data:`tradeie.schema.BIO_TAGS`, token offsets into the
  document text), usable as is by the transformers token-classification
  example and by SpanMarker.
* ``documents``: one row per document with its entities, relations and
  corpus metadata (:func:`documents_from_dataset` turns rows back into
  :class:`~tradeie.document.Document`).
* ``relations``: one row per ordered candidate pair of
  :func:`tradeie.data.relcands.candidate_pairs` (negatives ``no_relation``) with the
  typed-marker text of :func:`tradeie.data.relcands.marked_text`.

:func:`write_hub_folder` writes a Hub dataset repository (parquet files,
``README.md`` card, ``GUIDELINES.md``); :func:`load_hub_folder` reads it back
with ``datasets.load_dataset``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from collections import Counter
from collections.abc import Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tradeie.corpus import document_tokens, sentences_of
from tradeie.document import Document, Entity, Relation
from tradeie.errors import TradeieError
from tradeie.io.atomic import atomic_directory, write_text_atomic
from tradeie.data.relcands import DEFAULT_WINDOW, candidate_pairs, marked_text
from tradeie.schema import BIO_TAGS, ENTITY_LABELS, RELATION_CLASSES, RELATION_LABELS
from tradeie.data.splits import DEFAULT_RATIOS, DEFAULT_SEED, SPLIT_NAMES, assign_splits, group_of, normalise_ratios
from tradeie.text.tokens import Token, bio_tags, spans_from_bio

log = logging.getLogger(__name__)

CONFIG_NAMES: tuple[str, ...] = ("ner", "documents", "relations")
DEFAULT_CONFIG = "ner"
#: Sub-word limit of the default encoder (and of most BERT-style models).
MODEL_MAX_LENGTH = 512
DEFAULT_TOKENIZER_NAME = "all-MiniLM-L6-v2 (default base encoder)"


# --------------------------------------------------------------------------- features


def _span_struct() -> dict:
    from datasets import ClassLabel, Value

    return {
        "id": Value("string"),
        "start": Value("int32"),
        "end": Value("int32"),
        "label": ClassLabel(names=list(ENTITY_LABELS)),
        "text": Value("string"),
        "referent": Value("string"),
    }


def ner_features():
    """Features of the ``ner`` config (CoNLL style, one row per sentence)."""
    from datasets import ClassLabel, Features, Sequence, Value

    return Features(
        {
            "id": Value("string"),
            "document_id": Value("int32"),
            "document_name": Value("string"),
            "sentence_id": Value("int32"),
            "tokens": Sequence(Value("string")),
            "ner_tags": Sequence(ClassLabel(names=list(BIO_TAGS))),
            "token_starts": Sequence(Value("int32")),
            "token_ends": Sequence(Value("int32")),
        }
    )


def documents_features():
    """Features of the ``documents`` config (one row per document)."""
    from datasets import ClassLabel, Features, Value

    offsets = [{"start": Value("int32"), "end": Value("int32")}]
    return Features(
        {
            "id": Value("string"),
            "text": Value("string"),
            "entities": [_span_struct()],
            "relations": [
                {"head": Value("string"), "tail": Value("string"), "label": ClassLabel(names=list(RELATION_LABELS))}
            ],
            "date": Value("string"),
            "source": Value("string"),
            "origin": Value("string"),
            "file": Value("string"),
            "sha256": Value("string"),
            "text_sha256": Value("string"),
            "near_duplicate_group": Value("string"),
            "sentences": offsets,
            "paragraphs": offsets,
            "similar": [{"document_id": Value("string"), "jaccard": Value("float64")}],
        }
    )


def relations_features():
    """Features of the ``relations`` config (one row per ordered candidate pair)."""
    from datasets import ClassLabel, Features, Value

    return Features(
        {
            "id": Value("string"),
            "document_id": Value("string"),
            "text": Value("string"),
            "context": Value("string"),
            "context_start": Value("int32"),
            "context_end": Value("int32"),
            "head": _span_struct(),
            "tail": _span_struct(),
            "sentence_distance": Value("int32"),
            "label": ClassLabel(names=list(RELATION_CLASSES)),
        }
    )


def _item(feature):
    """The element feature of a list feature (``List`` in datasets >= 4, ``[...]`` before)."""
    return feature.feature if hasattr(feature, "feature") else feature[0]


FEATURES = {"ner": ner_features, "documents": documents_features, "relations": relations_features}


# --------------------------------------------------------------------------- checks


def check_document(doc: Document) -> None:
    """Raise :class:`TradeieError` for annotations the dataset cannot represent faithfully.

    The gold checks of :mod:`tradeie.annotations.validate` (rules ``DATASET``):
    labels, offsets and entity text against the document text, overlaps, edge
    whitespace, spans crossing a sentence boundary or lying outside every
    sentence, and relation labels, ids and type signatures.
    """
    from tradeie.annotations import validate

    validate.raise_first_error(validate.check_document(doc, validate.DATASET))


# --------------------------------------------------------------------------- rows


def ner_rows(doc: Document, document_index: int = 0) -> list[dict[str, Any]]:
    """One CoNLL-style row per sentence; BIO tags round-trip to the document's spans.

    ``document_id`` is the integer ``document_index`` (the document's position in
    id order over the whole dataset; SpanMarker builds ``torch.tensor`` from it) and
    ``document_name`` the document's string id.
    """
    rows = []
    for sentence_id, tokens in enumerate(document_tokens(doc)):
        if not tokens:
            continue
        tags = bio_tags(tokens, doc.entities, doc.id)  # a misaligned span raises a user error
        lo, hi = tokens[0].start, tokens[-1].end
        expected = sorted(e.key for e in doc.entities if lo <= e.start and e.end <= hi)
        if sorted(spans_from_bio(tokens, tags)) != expected:
            raise TradeieError(
                f"document {doc.id}: sentence {sentence_id} [{lo}:{hi}]: BIO tags do not reproduce the entity spans",
                hint="check for overlapping entities",
            )
        rows.append(
            {
                "id": f"{doc.id}-{sentence_id:04d}",
                "document_id": document_index,
                "document_name": doc.id,
                "sentence_id": sentence_id,
                "tokens": [t.text for t in tokens],
                "ner_tags": [BIO_TAGS.index(tag) for tag in tags],
                "token_starts": [t.start for t in tokens],
                "token_ends": [t.end for t in tokens],
            }
        )
    return rows


def _span_row(ent: Entity, text: str) -> dict[str, Any]:
    return {
        "id": ent.id,
        "start": ent.start,
        "end": ent.end,
        "label": ENTITY_LABELS.index(ent.label),
        "text": text[ent.start : ent.end],
        "referent": ent.referent,
    }


def _offsets(pairs) -> list[dict[str, int]]:
    return [{"start": int(s), "end": int(e)} for s, e in pairs or []]


def document_row(doc: Document) -> dict[str, Any]:
    """The ``documents`` row of one document (entities sorted by offset)."""
    meta = doc.meta
    entities = sorted(doc.entities, key=lambda e: (e.start, e.end, e.label))
    index = doc.entity_index()

    def rel_key(r: Relation):
        return (index[r.head].key, index[r.tail].key, r.label)

    return {
        "id": doc.id,
        "text": doc.text,
        "entities": [_span_row(e, doc.text) for e in entities],
        "relations": [
            {"head": r.head, "tail": r.tail, "label": RELATION_LABELS.index(r.label)}
            for r in sorted(doc.relations, key=rel_key)
        ],
        "date": meta.get("date"),
        "source": meta.get("source"),
        "origin": meta.get("origin"),
        "file": meta.get("file"),
        "sha256": meta.get("sha256"),
        "text_sha256": doc.text_sha256,
        "near_duplicate_group": group_of(doc),
        "sentences": _offsets(meta.get("sentences") or sentences_of(doc)),
        "paragraphs": _offsets(meta.get("paragraphs")),
        "similar": [{"document_id": k, "jaccard": float(v)} for k, v in sorted((meta.get("similar") or {}).items())],
    }


def relation_rows(doc: Document, window: int = DEFAULT_WINDOW) -> list[dict[str, Any]]:
    """One row per ordered candidate pair within ``window`` sentences (negatives ``no_relation``)."""
    rows = []
    for k, cand in enumerate(candidate_pairs(doc, window)):
        rows.append(
            {
                "id": f"{doc.id}-r{k:04d}",
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


# --------------------------------------------------------------------------- build


def _fingerprint(*parts: Any) -> str:
    blob = json.dumps(parts, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


_JSON_OPTIONS: dict[str, Any] = {"sort_keys": True, "ensure_ascii": False, "separators": (",", ":"), "default": str}


def _spill_folder() -> Path:
    """A per-process temp folder for the Arrow files of built datasets (removed at exit)."""
    global _SPILL
    if _SPILL is None or not _SPILL.is_dir():
        import atexit
        import tempfile

        _SPILL = Path(tempfile.mkdtemp(prefix="tradeie-build-"))
        atexit.register(shutil.rmtree, _SPILL, True)
    return _SPILL


_SPILL: Path | None = None


class _RowSink:
    """Rows of one (config, split) streamed to an Arrow file, hashed as they pass.

    The running hash covers exactly the bytes ``_fingerprint(config, split,
    features, rows)`` would, so the fingerprint is the same as for an in-memory
    list, without ever holding the rows.
    """

    def __init__(self, config: str, split: str) -> None:
        import tempfile

        from datasets.arrow_writer import ArrowWriter

        self.config, self.split, self.count = config, split, 0
        self.features = FEATURES[config]()
        fd, self.path = tempfile.mkstemp(prefix=f"{config}-{split}-", suffix=".arrow", dir=_spill_folder())
        os.close(fd)
        self.writer = ArrowWriter(features=self.features, path=self.path, writer_batch_size=1000)
        head = json.dumps([config, split, self.features.to_dict()], **_JSON_OPTIONS)
        self.hash = hashlib.sha256((head[:-1] + ",[").encode("utf-8"))

    def add(self, row: dict[str, Any]) -> None:
        self.hash.update(((b"," if self.count else b"") + json.dumps(row, **_JSON_OPTIONS).encode("utf-8")))
        self.writer.write({name: row[name] for name in self.features})
        self.count += 1

    def finish(self):
        """The memory-mapped ``Dataset`` of the rows (None when there were none)."""
        from datasets import Dataset, DatasetInfo

        self.writer.finalize()
        self.writer.close()
        if not self.count:
            os.unlink(self.path)
            return None
        self.hash.update(b"]]")
        ds = Dataset.from_file(self.path, info=DatasetInfo(features=self.features), split=self.split)
        return Dataset(ds.data, info=ds.info, split=ds.split, fingerprint=self.hash.hexdigest()[:16])


def _make_dataset(config: str, split: str, rows):
    """A ``Dataset`` whose fingerprint is a hash of its features and rows (same rows, same fingerprint)."""
    sink = _RowSink(config, split)
    for row in rows:
        sink.add(row)
    ds = sink.finish()
    if ds is None:
        from datasets import Dataset

        return Dataset.from_dict({name: [] for name in sink.features}, features=sink.features, split=split)
    return ds


def _document_rows(item: tuple[int, Document, int]) -> tuple[list[dict], dict, list[dict]]:
    """``(ner rows, documents row, relations rows)`` of one checked document (a worker's task)."""
    index, doc, window = item
    check_document(doc)
    return ner_rows(doc, index), document_row(doc), relation_rows(doc, window)


def build_dataset(
    docs: Sequence[Document],
    *,
    ratios: Sequence[float] = DEFAULT_RATIOS,
    seed: int = DEFAULT_SEED,
    window: int = DEFAULT_WINDOW,
    assignment: dict[str, str] | None = None,
    num_proc: int = 1,
) -> dict[str, Any]:
    """Build the ``ner``, ``documents`` and ``relations`` configs, each a ``DatasetDict``.

    Rows are streamed to memory-mapped Arrow files (never held as Python
    lists); ``num_proc`` > 1 computes them in that many worker processes, in
    the same order, so the result is identical.

    Documents are split with :func:`tradeie.data.splits.assign_splits` (or the
    given ``assignment``: document id -> split). Rows are ordered by document
    id, then sentence / candidate order, so the same inputs give the same rows
    and fingerprints. A split with no rows in a config is left out of that
    config (``load_dataset`` cannot read an empty split) and logged; a split
    without any mention of a label gets one warning line
    (:func:`missing_labels_warning`).
    """
    from datasets import DatasetDict

    if not docs:
        raise TradeieError("dataset: no documents to build from", hint="check the gold and corpus paths")
    if window < 0:
        raise TradeieError(f"dataset: window {window} must be >= 0", hint="use --window 1")
    normalise_ratios(ratios)
    docs = sorted(docs, key=lambda d: d.id)
    if assignment is None:
        assignment = assign_splits(docs, ratios, seed)
    missing = [d.id for d in docs if assignment.get(d.id) not in SPLIT_NAMES]
    if missing:
        raise TradeieError(f"dataset: no split assigned to document(s) {', '.join(missing)}")
    sinks = {c: {s: _RowSink(c, s) for s in SPLIT_NAMES} for c in CONFIG_NAMES}
    labels: dict[str, set[str]] = {}  # split -> entity and relation labels it holds
    items = ((index, doc, window) for index, doc in enumerate(docs))
    pool = None
    if num_proc > 1 and len(docs) > 1:
        import multiprocessing

        pool = multiprocessing.get_context("fork").Pool(num_proc)
        results = pool.imap(_document_rows, items, chunksize=max(1, min(64, len(docs) // (4 * num_proc))))
    else:
        results = map(_document_rows, items)
    try:
        for doc, (ner, document, relations) in zip(docs, results):
            split = assignment[doc.id]
            labels.setdefault(split, set()).update([e.label for e in doc.entities] + [r.label for r in doc.relations])
            for row in ner:
                sinks["ner"][split].add(row)
            sinks["documents"][split].add(document)
            for row in relations:
                sinks["relations"][split].add(row)
    finally:
        if pool is not None:
            pool.terminate()
    for split in SPLIT_NAMES:
        warning = missing_labels_warning(split, labels[split]) if split in labels else None
        if warning:
            log.warning("%s", warning)
    out = {}
    for config in CONFIG_NAMES:
        splits = {}
        for split in SPLIT_NAMES:
            ds = sinks[config][split].finish()
            if ds is not None:
                splits[split] = ds
            else:
                log.warning("dataset: config %s has no %s rows; the split is left out", config, split)
        out[config] = DatasetDict(splits)
    return out


def missing_labels_warning(split: str, labels: set[str]) -> str | None:
    """The one-line warning for a split without any mention of some entity or relation label, else None."""
    entities = [label for label in ENTITY_LABELS if label not in labels]
    relations = [label for label in RELATION_LABELS if label not in labels]
    if not entities and not relations:
        return None

    def either(names: list[str]) -> str:
        return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"

    parts = [f"{either(entities)} mention"] if entities else []
    parts += [f"{either(relations)} relation"] if relations else []
    missing = ", ".join(entities + relations)
    effect = (
        f"a model trained on it cannot learn {missing}"
        if split == "train"
        else f"scores for {missing} on it will be undefined"
    )
    return f"dataset: the {split} split has no {' and no '.join(parts)}; {effect}"


def content_fingerprint(dataset_dicts: dict[str, Any]) -> str:
    """sha256 over every config's features and rows: equal iff the built content is equal.

    Streams the rows in batches; the hash is that of the JSON list
    ``[[config, split, features, rows], ...]``.
    """
    digest = hashlib.sha256(b"[[")  # _fingerprint(parts): the list of parts, wrapped once more
    first = True
    for config in sorted(dataset_dicts):
        for split, ds in dataset_dicts[config].items():
            head = json.dumps([config, split, ds.features.to_dict()], **_JSON_OPTIONS)
            digest.update(((b"" if first else b",") + (head[:-1] + ",[").encode("utf-8")))
            first = False
            for k, row in enumerate(_iter_rows(ds)):
                digest.update((b"," if k else b"") + json.dumps(row, **_JSON_OPTIONS).encode("utf-8"))
            digest.update(b"]]")
    digest.update(b"]]")
    return digest.hexdigest()


def _iter_rows(ds, batch_size: int = 1000):
    for start in range(0, len(ds), batch_size):
        yield from ds.select(range(start, min(start + batch_size, len(ds)))).to_list()


def split_assignment(dataset_dicts: dict[str, Any]) -> dict[str, str]:
    """Document id -> split, read from the ``documents`` config."""
    return {doc_id: split for split, ds in dataset_dicts["documents"].items() for doc_id in ds["id"]}


# --------------------------------------------------------------------------- back to Documents


def documents_from_dataset(data) -> list[Document]:
    """Documents from the ``documents`` config (a ``DatasetDict`` or one split).

    ``meta`` gets the corpus fields back, plus ``split`` when a ``DatasetDict`` is given.
    """
    from datasets import DatasetDict

    if isinstance(data, DatasetDict):
        parts = [
            (split, data[split]) for split in (*SPLIT_NAMES, *sorted(set(data) - set(SPLIT_NAMES))) if split in data
        ]
    else:
        parts = [(None, data)]
    docs = []
    for split, ds in parts:
        missing = {"id", "text", "entities", "relations"} - set(ds.column_names)
        if missing:
            raise TradeieError(
                f"dataset split {split or ds.split}: not the documents config (no {', '.join(sorted(missing))} column)",
                hint='load it with load_hub_folder(DIR, "documents")',
            )
        ent_names = _item(ds.features["entities"])["label"].names
        rel_names = _item(ds.features["relations"])["label"].names
        for row in ds:
            meta = {key: row.get(key) for key in ("file", "sha256", "date", "source", "origin", "near_duplicate_group")}
            meta["sentences"] = [[o["start"], o["end"]] for o in row.get("sentences") or []]
            meta["paragraphs"] = [[o["start"], o["end"]] for o in row.get("paragraphs") or []]
            meta["similar"] = {s["document_id"]: s["jaccard"] for s in row.get("similar") or []}
            if split is not None:
                meta["split"] = split
            docs.append(
                Document(
                    id=row["id"],
                    text=row["text"],
                    entities=tuple(
                        Entity(
                            start=e["start"],
                            end=e["end"],
                            label=ent_names[e["label"]],
                            id=e["id"],
                            text=e["text"],
                            referent=e.get("referent") or "",
                        )
                        for e in row["entities"]
                    ),
                    relations=tuple(
                        Relation(head=r["head"], tail=r["tail"], label=rel_names[r["label"]]) for r in row["relations"]
                    ),
                    meta=meta,
                )
            )
    return docs


# --------------------------------------------------------------------------- stats


def _resolve_tokenizer(tokenizer):
    if tokenizer is None or isinstance(tokenizer, (str, os.PathLike)):
        from transformers import AutoTokenizer

        from tradeie.training.config import default_base_model

        name = str(tokenizer or default_base_model())
        label = DEFAULT_TOKENIZER_NAME if tokenizer is None else name
        try:
            return AutoTokenizer.from_pretrained(name), label
        except OSError as exc:
            raise TradeieError(
                f"tokenizer {name}: cannot be loaded ({exc.__class__.__name__})",
                hint="give a local model folder with --tokenizer",
            ) from None
    return tokenizer, getattr(tokenizer, "name_or_path", "") or type(tokenizer).__name__


def _subword_lengths(tok, batch, *, split_words: bool) -> list[int]:
    if not batch:
        return []
    encoded = tok(batch, is_split_into_words=split_words, add_special_tokens=True, truncation=False)
    return [len(ids) for ids in encoded["input_ids"]]


def _longest_entities(ds) -> tuple[int, str, str]:
    names = ds.features["ner_tags"].feature.names
    best = (0, "", "")
    for row in ds:
        tokens = [Token(t, s, e) for t, s, e in zip(row["tokens"], row["token_starts"], row["token_ends"])]
        for start, end, _label in spans_from_bio(tokens, [names[i] for i in row["ner_tags"]]):
            words = [t for t in tokens if start <= t.start and t.end <= end]
            if len(words) > best[0]:
                text = "".join((" " if i and t.start > words[i - 1].end else "") + t.text for i, t in enumerate(words))
                best = (len(words), text, row["document_name"])
    return best


def dataset_stats(dataset_dicts: dict[str, Any], tokenizer=None) -> dict[str, Any]:
    """Per split (and ``total``): documents, sentences, tokens, spans and relations per label,
    relation candidates per label, the longest entity in words and the maximum sub-word
    length of an ``ner`` row (and of a ``relations`` text) under ``tokenizer``
    (default: the default base encoder's tokenizer; a name, a folder or a tokenizer object).
    """
    tok, tok_name = _resolve_tokenizer(tokenizer)
    ner, docs_dd, rel = (dataset_dicts.get(c, {}) for c in CONFIG_NAMES)
    splits = [s for s in SPLIT_NAMES if s in ner or s in docs_dd or s in rel]
    per_split: dict[str, dict[str, Any]] = {}
    for split in splits:
        n, d, r = ner.get(split), docs_dd.get(split), rel.get(split)
        spans: Counter = Counter()
        relations: Counter = Counter()
        if d is not None:
            ent_names = _item(d.features["entities"])["label"].names
            rel_names = _item(d.features["relations"])["label"].names
            for ents, rels in zip(d["entities"], d["relations"]):
                spans.update(ent_names[e["label"]] for e in ents)
                relations.update(rel_names[x["label"]] for x in rels)
        candidates: Counter = Counter()
        if r is not None:
            names = r.features["label"].names
            candidates.update(names[i] for i in r["label"])
        longest = _longest_entities(n) if n is not None else (0, "", "")
        ner_lengths = _subword_lengths(tok, list(n["tokens"]) if n is not None else [], split_words=True)
        rel_lengths = _subword_lengths(tok, list(r["text"]) if r is not None else [], split_words=False)
        per_split[split] = {
            "documents": len(d) if d is not None else 0,
            "document_ids": list(d["id"]) if d is not None else [],
            "sentences": len(n) if n is not None else 0,
            "tokens": sum(len(t) for t in n["tokens"]) if n is not None else 0,
            "spans": {label: spans.get(label, 0) for label in ENTITY_LABELS},
            "relations": {label: relations.get(label, 0) for label in RELATION_LABELS},
            "candidates": {label: candidates.get(label, 0) for label in RELATION_CLASSES},
            "longest_entity_words": longest[0],
            "longest_entity": longest[1],
            "longest_entity_document": longest[2],
            "max_subword_length": max(ner_lengths, default=0),
            "rows_over_model_limit": sum(1 for x in ner_lengths if x > MODEL_MAX_LENGTH),
            "max_relation_subword_length": max(rel_lengths, default=0),
        }
    total: dict[str, Any] = {"document_ids": sorted(i for s in per_split.values() for i in s["document_ids"])}
    for key in ("documents", "sentences", "tokens", "rows_over_model_limit"):
        total[key] = sum(s[key] for s in per_split.values())
    for key, labels in (("spans", ENTITY_LABELS), ("relations", RELATION_LABELS), ("candidates", RELATION_CLASSES)):
        total[key] = {label: sum(s[key][label] for s in per_split.values()) for label in labels}
    for key in ("max_subword_length", "max_relation_subword_length"):
        total[key] = max((s[key] for s in per_split.values()), default=0)
    best = max(per_split.values(), key=lambda s: s["longest_entity_words"], default=None)
    for key in ("longest_entity_words", "longest_entity", "longest_entity_document"):
        total[key] = best[key] if best else (0 if key == "longest_entity_words" else "")
    return {"splits": per_split, "total": total, "tokenizer": tok_name, "model_max_length": MODEL_MAX_LENGTH}


def format_stats(stats: dict[str, Any]) -> str:
    """Markdown tables of :func:`dataset_stats` (printed by the CLI, embedded in the card)."""
    cols = [*stats["splits"], "total"]
    rows_of = {**stats["splits"], "total": stats["total"]}

    general = [(key, [rows_of[c][key] for c in cols]) for key in ("documents", "sentences", "tokens")]
    general += [(f"spans {label}", [rows_of[c]["spans"][label] for c in cols]) for label in ENTITY_LABELS]
    general += [(f"relations {label}", [rows_of[c]["relations"][label] for c in cols]) for label in RELATION_LABELS]
    general += [
        (f"candidate pairs {label}", [rows_of[c]["candidates"][label] for c in cols]) for label in RELATION_CLASSES
    ]
    general += [
        ("longest entity (words)", [rows_of[c]["longest_entity_words"] for c in cols]),
        ("max sub-word length (ner row)", [rows_of[c]["max_subword_length"] for c in cols]),
        (f"ner rows over {stats['model_max_length']} sub-words", [rows_of[c]["rows_over_model_limit"] for c in cols]),
        ("max sub-word length (relations text)", [rows_of[c]["max_relation_subword_length"] for c in cols]),
    ]
    lines = ["|  | " + " | ".join(cols) + " |", "|---|" + "---:|" * len(cols)]
    lines += [f"| {name} | " + " | ".join(str(v) for v in values) + " |" for name, values in general]
    t = stats["total"]
    lines.append("")
    lines.append(
        f'Longest entity: {t["longest_entity_words"]} words, "{t["longest_entity"]}" '
        f"({t['longest_entity_document']}). Sub-word lengths include special tokens, measured with "
        f"the {stats['tokenizer']} tokenizer; "
        "relation texts are measured with the markers not yet added as special tokens (an upper bound)."
    )
    return "\n".join(lines)


# --------------------------------------------------------------------------- Hub folder


@contextmanager
def _quiet_progress():
    import datasets

    was_disabled = datasets.are_progress_bars_disabled()
    datasets.disable_progress_bars()
    try:
        yield
    finally:
        if not was_disabled:
            datasets.enable_progress_bars()


def data_file(config: str, split: str) -> str:
    """Path of a split's parquet file inside the Hub folder."""
    return f"data/{config}/{split}-00000-of-00001.parquet"


def hub_metadata(dataset_dicts: dict[str, Any], folder: Path | None = None) -> dict[str, Any]:
    """The card's ``configs`` and ``dataset_info`` YAML entries (as ``push_to_hub`` writes them)."""
    from datasets.info import DatasetInfo, DatasetInfosDict
    from datasets.splits import SplitDict, SplitInfo
    from datasets.utils.metadata import MetadataConfigs
    from huggingface_hub import DatasetCardData

    infos, configs = {}, {}
    for config in CONFIG_NAMES:
        dd = dataset_dicts[config]
        info = DatasetInfo(features=FEATURES[config](), splits=SplitDict(), download_size=0, dataset_size=0)
        for split, ds in dd.items():
            nbytes = ds.data.nbytes
            info.splits.add(SplitInfo(name=split, num_bytes=nbytes, num_examples=len(ds)))
            info.dataset_size += nbytes
            if folder is not None:
                info.download_size += (folder / data_file(config, split)).stat().st_size
        info.size_in_bytes = info.download_size + info.dataset_size
        infos[config] = info
        configs[config] = {"data_files": [{"split": s, "path": f"data/{config}/{s}-*"} for s in dd]}
        if config == DEFAULT_CONFIG:
            configs[config]["default"] = True
    card_data = DatasetCardData()
    DatasetInfosDict(infos).to_dataset_card_data(card_data)
    MetadataConfigs(configs).to_dataset_card_data(card_data)
    return {"configs": card_data["configs"], "dataset_info": card_data["dataset_info"]}


def write_hub_folder(
    dataset_dicts: dict[str, Any],
    docs: Sequence[Document] | None,
    out_dir: str | os.PathLike,
    *,
    seed: int = DEFAULT_SEED,
    ratios: Sequence[float] = DEFAULT_RATIOS,
    window: int = DEFAULT_WINDOW,
    guidelines: str | os.PathLike | None = "annotations/GUIDELINES.md",
    tokenizer=None,
    repo_id: str | None = None,
    **card_options,
) -> dict[str, Any]:
    """Write a Hub dataset repository to ``out_dir`` atomically; return the stats.

    Layout: ``data/<config>/<split>-00000-of-00001.parquet``, ``README.md``
    (the card, :mod:`tradeie.data.card`) and ``GUIDELINES.md`` (copied from
    ``guidelines`` when it exists, else generated from the schema). ``seed``,
    ``ratios`` and ``window`` are the values the dataset was built with (for
    the card). ``docs`` default to :func:`documents_from_dataset`.
    """
    from tradeie.data.card import guidelines_markdown, make_card

    missing = [c for c in CONFIG_NAMES if c not in dataset_dicts]
    if missing:
        raise TradeieError(f"dataset: missing config(s) {', '.join(missing)}", hint="build with build_dataset()")
    if docs is None:
        docs = documents_from_dataset(dataset_dicts["documents"])
    stats = dataset_stats(dataset_dicts, tokenizer)
    guidelines_path = Path(guidelines) if guidelines else None
    with atomic_directory(out_dir) as tmp, _quiet_progress():
        for config in CONFIG_NAMES:
            for split, ds in dataset_dicts[config].items():
                path = tmp / data_file(config, split)
                path.parent.mkdir(parents=True, exist_ok=True)
                ds.to_parquet(str(path))
        if guidelines_path is not None and guidelines_path.is_file():
            shutil.copyfile(guidelines_path, tmp / "GUIDELINES.md")
        else:
            write_text_atomic(tmp / "GUIDELINES.md", guidelines_markdown())
        card = make_card(
            metadata=hub_metadata(dataset_dicts, tmp),
            stats=stats,
            stats_markdown=format_stats(stats),
            docs=sorted(docs, key=lambda d: d.id),
            assignment=split_assignment(dataset_dicts),
            seed=seed,
            ratios=tuple(normalise_ratios(ratios).values()),
            window=window,
            fingerprint=content_fingerprint(dataset_dicts),
            guidelines_text=(tmp / "GUIDELINES.md").read_text(encoding="utf-8"),
            features={c: _feature_summary(dataset_dicts[c]) for c in CONFIG_NAMES},
            repo_id=repo_id,
            **card_options,
        )
        write_text_atomic(tmp / "README.md", str(card))
    return stats


def _feature_summary(dd) -> str:
    first = next(iter(dd.values()), None)
    return "" if first is None else ", ".join(f"`{name}`" for name in first.features)


def load_hub_folder(folder: str | os.PathLike, config: str = DEFAULT_CONFIG, *, cache_dir: str | None = None):
    """Load one config of a Hub folder with ``datasets.load_dataset(str(folder), config)``."""
    import datasets

    folder = Path(folder)
    if not (folder / "README.md").is_file():
        raise TradeieError(
            f"{folder}: not a dataset folder (no README.md)", hint="write one with `tradeie dataset build --out DIR`"
        )
    if config not in CONFIG_NAMES:
        raise TradeieError(f"{folder}: unknown config {config!r}", hint=f"use one of {', '.join(CONFIG_NAMES)}")
    with _quiet_progress():
        return datasets.load_dataset(str(folder), config, cache_dir=cache_dir)


def load_hub_configs(folder: str | os.PathLike, *, cache_dir: str | None = None) -> dict[str, Any]:
    """Every config of a Hub folder: ``{"ner": DatasetDict, "documents": ..., "relations": ...}``."""
    return {c: load_hub_folder(folder, c, cache_dir=cache_dir) for c in CONFIG_NAMES}


def build_dataset_folder(
    gold: str | Path,
    corpus: str | Path,
    out: str | Path,
    *,
    seed: int = DEFAULT_SEED,
    ratios: Sequence[float] = DEFAULT_RATIOS,
    window: int = DEFAULT_WINDOW,
    **folder_options: Any,
) -> tuple[dict, dict]:
    """``tradeie dataset build``: gold + corpus -> the three configs -> a Hub folder at ``out``.

    Returns the ``DatasetDict`` per config and the folder's stats; ``folder_options``
    go to :func:`write_hub_folder` (guidelines, tokenizer, repo_id, card fields).
    """
    from tradeie.annotations.gold import load_gold

    docs = load_gold(gold, corpus)
    dsets = build_dataset(docs, ratios=ratios, seed=seed, window=window)
    stats = write_hub_folder(dsets, docs, out, seed=seed, ratios=ratios, window=window, **folder_options)
    for config, dd in dsets.items():
        log.info("%s: %s", config, ", ".join(f"{split} {len(ds)}" for split, ds in dd.items()))
    return dsets, stats
