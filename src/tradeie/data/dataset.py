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
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from tradeie.corpus import document_tokens, sentences_of
from tradeie.document import Document, Entity, Relation
from tradeie.errors import TradeieError
from tradeie.io.atomic import atomic_directory, write_text_atomic
from tradeie.data.relcands import DEFAULT_WINDOW, candidate_pairs, marked_text
from tradeie.schema import BIO_TAGS, ENTITY_LABELS, RELATION_CLASSES, RELATION_LABELS
from tradeie.data.splits import DEFAULT_RATIOS, DEFAULT_SEED, SPLIT_NAMES, assign_splits, group_of, normalise_ratios
from tradeie.text.tokens import VocabBudget, bio_tags, spans_from_bio

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
                "ner_tags": [_TAG_INDEX[tag] for tag in tags],
                "token_starts": [t.start for t in tokens],
                "token_ends": [t.end for t in tokens],
            }
        )
    return rows


_ENTITY_INDEX = {label: k for k, label in enumerate(ENTITY_LABELS)}
_CLASS_INDEX = {label: k for k, label in enumerate(RELATION_CLASSES)}
_TAG_INDEX = {tag: k for k, tag in enumerate(BIO_TAGS)}


def _span_row(ent: Entity, text: str) -> dict[str, Any]:
    return {
        "id": ent.id,
        "start": ent.start,
        "end": ent.end,
        "label": _ENTITY_INDEX[ent.label],
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
    return _candidate_rows(doc, candidate_pairs(doc, window))


def _candidate_rows(doc: Document, candidates) -> list[dict[str, Any]]:
    rows = []
    for k, cand in enumerate(candidates):
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
                "label": _CLASS_INDEX[cand.label],
            }
        )
    return rows


# --------------------------------------------------------------------------- build


_JSON_OPTIONS: dict[str, Any] = {"sort_keys": True, "ensure_ascii": False, "separators": (",", ":"), "default": str}

#: Rows per window of the content hash (:func:`_part_digest`).
BATCH_ROWS = 1000
#: Rows per record batch of a built split's Arrow file: reading the file's batch headers through its
#: memory map leaves the pages around each header resident, so fewer, larger batches keep memory flat.
FILE_BATCH_ROWS = 10 * BATCH_ROWS


def _part_head(config: str, split: str, features) -> bytes:
    """What a part's hash starts with: its config, split and features as canonical JSON."""
    return json.dumps([config, split, features.to_dict()], **_JSON_OPTIONS).encode("utf-8")


def _canonical(table):
    """``table``'s rows in fresh buffers, one chunk (copied by ``take``): equal rows then serialise to
    equal bytes whatever their chunks, slices or origin (built here or read back from parquet)."""
    import pyarrow as pa

    return table.take(pa.array(range(table.num_rows), pa.int64())).combine_chunks()


def _table_bytes(table) -> bytes:
    """The Arrow IPC bytes of a :func:`_canonical` table's record batches."""
    return b"".join(batch.serialize().to_pybytes() for batch in table.to_batches())


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
    """Rows of one (config, split) streamed to an Arrow file in record batches of
    :data:`FILE_BATCH_ROWS` rows, hashed as they pass in windows of :data:`BATCH_ROWS` rows
    (:func:`_part_digest` of the rows, without reading them again). Rows arrive as Arrow tables of
    any length (a chunk of documents' rows)."""

    def __init__(self, config: str, split: str) -> None:
        import tempfile

        from datasets.arrow_writer import ArrowWriter

        self.config, self.split, self.count = config, split, 0
        self.features = FEATURES[config]()
        fd, self.path = tempfile.mkstemp(prefix=f"{config}-{split}-", suffix=".arrow", dir=_spill_folder())
        os.close(fd)
        self.writer = ArrowWriter(features=self.features, path=self.path, writer_batch_size=FILE_BATCH_ROWS)
        self.hash = hashlib.sha256(_part_head(config, split, self.features))
        self.pending: list = []  # tables not yet hashed: fewer than BATCH_ROWS rows in all
        self.pending_rows = 0
        self.hashed: list = []  # hashed windows not yet written: fewer than FILE_BATCH_ROWS rows in all

    def add_table(self, table) -> None:
        import pyarrow as pa

        self.pending.append(table)
        self.pending_rows += table.num_rows
        self.count += table.num_rows
        while self.pending_rows >= BATCH_ROWS:
            whole = pa.concat_tables(self.pending)
            self._write(whole.slice(0, BATCH_ROWS))
            rest = whole.slice(BATCH_ROWS)
            self.pending, self.pending_rows = ([rest] if rest.num_rows else []), rest.num_rows

    def _write(self, table) -> None:
        """Hash one window; write the hashed windows once they fill a file batch."""
        fresh = _canonical(table)
        self.hash.update(_table_bytes(fresh))
        self.hashed.append(fresh)
        if len(self.hashed) * BATCH_ROWS >= FILE_BATCH_ROWS:
            self._write_file_batch()

    def _write_file_batch(self) -> None:
        import pyarrow as pa

        if self.hashed:
            self.writer.write_table(pa.concat_tables(self.hashed).combine_chunks())
            self.hashed = []

    def finish(self):
        """The memory-mapped ``Dataset`` of the rows (None when there were none); its fingerprint the
        first 16 hex digits of its part digest, remembered for :func:`content_fingerprint`."""
        import pyarrow as pa
        from datasets import Dataset, DatasetInfo

        if self.pending_rows:  # the last, partial window
            self._write(pa.concat_tables(self.pending))
            self.pending, self.pending_rows = [], 0
        self._write_file_batch()
        self.writer.finalize()
        self.writer.close()
        if not self.count:
            os.unlink(self.path)
            return None
        digest = self.hash.hexdigest()
        ds = Dataset.from_file(self.path, info=DatasetInfo(features=self.features), split=self.split)
        ds = Dataset(ds.data, info=ds.info, split=ds.split, fingerprint=digest[:16])
        _PART_DIGESTS[_part_key(ds)] = digest
        return ds


def _document_rows(item: tuple[int, Document, int]) -> tuple[list[dict], dict, list[dict], int]:
    """``(ner rows, documents row, relations rows, gold relations outside the window)`` of one
    checked document; the last as
    :func:`tradeie.data.relcands.gold_relations_outside_window` counts them, from the same candidates."""
    index, doc, window = item
    check_document(doc)
    candidates = candidate_pairs(doc, window)
    covered = {(c.head.key, c.tail.key) for c in candidates}
    outside = sum(1 for head, tail, _ in doc.relation_keys() if (head, tail) not in covered)
    rows = ner_rows(doc, index), document_row(doc), _candidate_rows(doc, candidates), outside
    if _VOCAB is not None:
        _VOCAB.tick()
    return rows


#: Documents per task of the row computation: one Arrow table per config and split each.
CHUNK_DOCUMENTS = 64


class _RowsInput(NamedTuple):
    """What every task of one build reads: the documents, the indices of ``docs`` in id order, each
    document's split, the window. Set for the build (and inherited by forked workers), then cleared."""

    docs: Sequence[Document]
    order: Sequence[int]
    assignment: dict[str, str]
    window: int


_ROWS_INPUT: _RowsInput | None = None


class _Chunk(NamedTuple):
    """The rows of consecutive documents (in id order): (config, split) -> Arrow table, or its IPC
    stream bytes from a worker; and how many gold relations lie outside the window."""

    tables: dict[tuple[str, str], Any]
    documents: int
    outside: int


def _chunk_rows(first: int) -> _Chunk:
    """The rows of the documents at positions ``first`` to ``first + CHUNK_DOCUMENTS`` of the id order."""
    import pyarrow as pa

    docs, order, assignment, window = _ROWS_INPUT
    rows: dict[tuple[str, str], list[dict]] = {}
    outside = 0
    positions = range(first, min(first + CHUNK_DOCUMENTS, len(order)))
    for position in positions:
        doc = docs[order[position]]
        ner, document, relations, lost = _document_rows((position, doc, window))
        split = assignment[doc.id]
        outside += lost
        rows.setdefault(("ner", split), []).extend(ner)
        rows.setdefault(("documents", split), []).append(document)
        rows.setdefault(("relations", split), []).extend(relations)
    tables = {key: pa.Table.from_pylist(r, schema=_schema(key[0])) for key, r in rows.items() if r}
    return _Chunk(tables, len(positions), outside)


def _chunk_ipc(first: int) -> _Chunk:
    """:func:`_chunk_rows` with each table as Arrow IPC stream bytes (what a worker sends back: far
    cheaper to pickle than the rows as Python objects)."""
    import pyarrow as pa

    chunk = _chunk_rows(first)
    out = {}
    for key, table in chunk.tables.items():
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        out[key] = sink.getvalue().to_pybytes()
    return chunk._replace(tables=out)


def _chunk_tables(chunk: _Chunk) -> dict[tuple[str, str], Any]:
    import pyarrow as pa

    return {
        key: pa.ipc.open_stream(value).read_all() if isinstance(value, bytes) else value
        for key, value in chunk.tables.items()
    }


@lru_cache(maxsize=None)
def _schema(config: str):
    """The Arrow schema of a config's rows."""
    return FEATURES[config]().arrow_schema


#: The tokenizer's :class:`tradeie.text.tokens.VocabBudget` in the process computing rows: set by a
#: one-process build while it runs, and in each worker of a ``num_proc`` build.
_VOCAB: VocabBudget | None = None


def _start_vocab_budget() -> None:
    """Count this process's documents for the tokenizer's rebuilds (a worker's initializer too)."""
    global _VOCAB
    _VOCAB = VocabBudget()


def _stop_vocab_budget() -> None:
    global _VOCAB
    _VOCAB = None


def _bounded_imap(pool, func, items, chunksize: int, window: int):
    """``pool.imap(func, items, chunksize)``, in order, with at most two windows of ``window`` items in
    flight: ``Pool.imap`` queues every result its workers produce, so a parent that writes rows more
    slowly than the workers make them would hold nearly all of them (2.5 GB at 100,000 documents)."""
    import itertools

    items = iter(items)
    block = list(itertools.islice(items, window))
    pending = pool.imap(func, block, chunksize) if block else None
    while pending is not None:
        block = list(itertools.islice(items, window))
        following = pool.imap(func, block, chunksize) if block else None  # the workers start on it now
        yield from pending
        pending = following


class _Labelled:
    """Stands for an entity or relation in a :class:`_DocSummary`: only its label."""

    __slots__ = ("label",)

    def __init__(self, label: str) -> None:
        self.label = label


#: One shared object per distinct value (labels, label counts, origins, dates) across every summary.
_SHARED: dict[Any, Any] = {}


def _shared(value):
    return _SHARED.setdefault(value, value)


def _label_counts_of(items) -> tuple[tuple[str, int], ...]:
    return _shared(tuple(sorted(Counter(x.label for x in items).items())))


class _DocSummary:
    """What the split assignment and the dataset card read of a document, about 200 bytes in place
    of the document, so that a corpus read from disk (:class:`tradeie.corpus.DocumentsFile`) is never
    held whole: its id, near-duplicate group (None: its own id), origin, date and the count of each
    entity and relation label (shared objects); with ``full`` also the card's per-document columns
    (source, file, sha256), which the card lists only for corpora of up to
    :data:`tradeie.data.card.DOCUMENT_TABLE_LIMIT` documents (:func:`_card_lists`)."""

    __slots__ = ("id", "_group", "_origin", "_date", "_extra", "_entities", "_relations")

    def __init__(self, doc: Document, full: bool = True) -> None:
        meta = doc.meta
        self.id = doc.id
        group = meta.get("near_duplicate_group")
        self._group = None if group == doc.id else group
        self._origin = _shared(meta.get("origin"))
        self._date = _shared(meta.get("date"))
        self._extra = (meta.get("source"), meta.get("file"), meta.get("sha256")) if full else None
        self._entities = _label_counts_of(doc.entities)
        self._relations = _label_counts_of(doc.relations)

    @property
    def meta(self) -> dict[str, Any]:
        source, file, sha256 = self._extra or (None, None, None)
        return {
            "origin": self._origin,
            "near_duplicate_group": self._group or self.id,
            "date": self._date,
            "source": source,
            "file": file,
            "sha256": sha256,
        }

    @property
    def entities(self) -> tuple[_Labelled, ...]:
        return _expanded(self._entities)

    def label_counts(self) -> tuple[tuple[str, int], ...]:
        """(label, count) of its entities, then of its relations."""
        return self._entities + self._relations

    @property
    def relations(self) -> tuple[_Labelled, ...]:
        return _expanded(self._relations)


def _card_lists(docs: Sequence[Document]) -> bool:
    """Whether the dataset card lists these documents one by one (:data:`tradeie.data.card.DOCUMENT_TABLE_LIMIT`,
    read when called)."""
    from tradeie.data import card

    return len(docs) <= card.DOCUMENT_TABLE_LIMIT


def _expanded(counts: tuple[tuple[str, int], ...]) -> tuple[_Labelled, ...]:
    """One shared :class:`_Labelled` per entity or relation, from (label, count) pairs."""
    return tuple(_LABELLED.setdefault(label, _Labelled(label)) for label, n in counts for _ in range(n))


_LABELLED: dict[str, _Labelled] = {}


def _id_order(summaries: list[_DocSummary]) -> Sequence[int]:
    """Indices of the documents in id order (a ``range`` when they already are)."""
    order = sorted(range(len(summaries)), key=lambda i: summaries[i].id)
    return range(len(order)) if order == list(range(len(order))) else order


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

    Rows are computed per chunk of :data:`CHUNK_DOCUMENTS` documents and streamed to
    memory-mapped Arrow files (only a chunk's rows are ever Python objects);
    ``num_proc`` > 1 computes the chunks in up to that many worker processes (at most
    one per chunk: a corpus of one chunk is built in this process), in the same
    order, so the result is identical. ``docs`` may be any sequence,
    e.g. a :class:`tradeie.corpus.DocumentsFile` read from disk: it is read
    twice (once for ids, groups and labels, once in id order for the rows) and
    never held whole.

    Documents are split with :func:`tradeie.data.splits.assign_splits` (or the
    given ``assignment``: document id -> split). Rows are ordered by document
    id, then sentence / candidate order, so the same inputs give the same rows
    and fingerprints. A split with no rows in a config is left out of that
    config (``load_dataset`` cannot read an empty split) and logged; a split
    without any mention of a label gets one warning line
    (:func:`missing_labels_warning`).
    """
    from datasets import DatasetDict

    from tradeie.progress import progress_bar

    if not len(docs):
        raise TradeieError("dataset: no documents to build from", hint="check the gold and corpus paths")
    if window < 0:
        raise TradeieError(f"dataset: window {window} must be >= 0", hint="use --window 1")
    normalise_ratios(ratios)
    full = _card_lists(docs)  # keep their source, file and sha256 for the card's table
    summaries = [_DocSummary(d, full) for d in docs]
    ordered = sorted(summaries, key=lambda d: d.id)
    if assignment is None:
        assignment = assign_splits(ordered, ratios, seed)
    missing = [d.id for d in ordered if assignment.get(d.id) not in SPLIT_NAMES]
    if missing:
        raise TradeieError(f"dataset: no split assigned to document(s) {', '.join(missing)}")
    if len(assignment) != len(ordered):  # a given assignment may name other documents too
        assignment = {d.id: assignment[d.id] for d in ordered}
    sinks = {c: {s: _RowSink(c, s) for s in SPLIT_NAMES} for c in CONFIG_NAMES}
    labels: dict[str, set[str]] = {}  # split -> entity and relation labels it holds
    for doc in ordered:
        labels.setdefault(assignment[doc.id], set()).update(label for label, _ in doc.label_counts())
    global _ROWS_INPUT
    starts = range(0, len(ordered), CHUNK_DOCUMENTS)
    workers = min(num_proc, len(starts))  # no idle workers: one chunk each at most
    pool = None
    outside = 0
    try:
        _ROWS_INPUT = _RowsInput(docs, _id_order(summaries), assignment, window)  # before the fork
        if workers > 1:
            import multiprocessing

            pool = multiprocessing.get_context("fork").Pool(workers, initializer=_start_vocab_budget)
            chunks = _bounded_imap(pool, _chunk_ipc, starts, 1, window=4 * workers)
        else:
            _start_vocab_budget()
            chunks = map(_chunk_rows, starts)
        with progress_bar("dataset: rows", total=len(ordered), unit="doc") as bar:
            for chunk in chunks:
                outside += chunk.outside
                for (config, split), table in _chunk_tables(chunk).items():
                    sinks[config][split].add_table(table)
                bar.update(chunk.documents)
    finally:
        if pool is not None:
            pool.terminate()
        _stop_vocab_budget()
        _ROWS_INPUT = None
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
    global _LAST_BUILD
    _LAST_BUILD = _BuildFacts(_content_key(out), docs, window, summaries, outside, assignment)
    return out


class _BuildFacts(NamedTuple):
    """What :func:`write_hub_folder` would otherwise read from the documents again, kept from the
    last :func:`build_dataset` (used only for the very same datasets, documents object and window)."""

    key: tuple
    docs: Sequence[Document]
    window: int
    summaries: list[_DocSummary]
    outside_window: int
    assignment: dict[str, str]


_LAST_BUILD: _BuildFacts | None = None


#: Part digest (see :func:`_part_digest`) of every split built here, by :func:`_part_key`.
_PART_DIGESTS: dict[tuple, str] = {}


def _part_key(ds) -> tuple:
    """Identifies a split built here: its row fingerprint and Arrow file."""
    return (getattr(ds, "_fingerprint", None), tuple(f["filename"] for f in ds.cache_files))


def _content_key(dataset_dicts: dict[str, Any]) -> tuple:
    return tuple(
        (config, split, getattr(ds, "_fingerprint", None))
        for config in sorted(dataset_dicts)
        for split, ds in dataset_dicts[config].items()
    )


def _part_digest(config: str, split: str, ds) -> str:
    """sha256 of a split: its :func:`_part_head`, then the :func:`_table_bytes` of each window of
    :data:`BATCH_ROWS` rows, read in Arrow batches (remembered for splits built here)."""
    known = _PART_DIGESTS.get(_part_key(ds))
    if known is not None:
        return known
    digest = hashlib.sha256(_part_head(config, split, ds.features))
    table = ds.with_format("arrow")
    for start in range(0, len(ds), BATCH_ROWS):
        digest.update(_table_bytes(_canonical(table[start : start + BATCH_ROWS])))
    return digest.hexdigest()


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

    The hash of the canonical JSON list ``[[config, split, part digest], ...]`` (configs sorted,
    splits in order), each part digest the sha256 of the split's features and the Arrow IPC bytes
    of its rows (:func:`_part_digest`): the same value for the datasets :func:`build_dataset` made
    (computed while their rows were written, nothing read again) and for the same rows read back
    from the Hub folder. The bytes are those this pyarrow writes (IPC format V5): another pyarrow
    version may write the same rows differently and give another value.
    """
    parts = [
        [config, split, _part_digest(config, split, ds)]
        for config in sorted(dataset_dicts)
        for split, ds in dataset_dicts[config].items()
    ]
    return hashlib.sha256(json.dumps(parts, **_JSON_OPTIONS).encode("utf-8")).hexdigest()


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


def _file_batches(ds):
    """The record batches of ``ds`` read from its one Arrow file with buffered reads, in order; None when
    ``ds`` is not exactly one whole Arrow file (as :func:`build_dataset` makes them).

    The pages of a memory map stay in the process's resident memory once read, so a pass over a large
    split through the memory map keeps the whole file resident; buffered batches are freed as the pass
    goes on, and peak memory stays flat however large the corpus.
    """
    import pyarrow as pa
    from datasets.table import MemoryMappedTable

    files = [f["filename"] for f in ds.cache_files]
    whole = isinstance(ds.data, MemoryMappedTable) and all(  # the whole file: not sliced, filtered or cast
        replay[0] == "replace_schema_metadata" for replay in ds.data.replays
    )
    if len(files) != 1 or not whole or ds._indices is not None or ds.data.num_rows != len(ds):
        return None
    with pa.OSFile(files[0]) as source:
        if pa.ipc.open_stream(source).schema.names != ds.data.schema.names:
            return None

    def batches():
        with pa.OSFile(files[0]) as source:
            yield from pa.ipc.open_stream(source)

    return batches()


def _arrow_batches(ds, columns: list[str], batch_size: int = 2048):
    """``pyarrow.Table`` batches of ``columns`` of ``ds`` (its rows in order; never all at once). From one
    whole Arrow file (:func:`_file_batches`) the batches are the file's record batches and ``batch_size``
    does not apply."""
    import pyarrow as pa

    batches = _file_batches(ds)
    if batches is None:
        yield from ds.select_columns(columns).with_format("arrow").iter(batch_size=batch_size)
        return
    for batch in batches:
        yield pa.Table.from_batches([batch]).select(columns)


def _nbytes(ds) -> int:
    """``ds.data.nbytes`` (what datasets sizes row groups and the card's ``num_bytes`` by), summed over the
    batches of :func:`_file_batches`: the table's own ``nbytes`` reads the offsets of every chunk through
    the memory map, which leaves those pages resident."""
    batches = _file_batches(ds)
    return ds.data.nbytes if batches is None else sum(batch.nbytes for batch in batches)


#: Largest row group (uncompressed Arrow bytes) of the Hub folder's parquet files. ``datasets`` allows
#: 100MB (``config.MAX_ROW_GROUP_SIZE``); a row group is written from memory, so a smaller cap keeps the
#: build's peak memory the same for any corpus size (and a row read from the Hub reads less).
ROW_GROUP_SIZE = "32MB"


def _write_parquet(ds, path: Path, nbytes: int) -> None:
    """``ds.to_parquet(path)`` with row groups of at most :data:`ROW_GROUP_SIZE`: datasets' own writer
    settings and row-group rule, with the rows read by :func:`_file_batches` rather than through the
    memory map; ``nbytes`` is :func:`_nbytes` of ``ds``."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from datasets.arrow_writer import get_parquet_column_options, get_writer_batch_size_from_features
    from datasets.io.parquet import ParquetDatasetWriter
    from datasets.utils.py_utils import convert_file_size_to_int

    batch_size = get_writer_batch_size_from_features(ds.features) or (
        max(1, len(ds) * convert_file_size_to_int(ROW_GROUP_SIZE) // nbytes) if nbytes > 0 else 1
    )  # datasets' get_writer_batch_size_from_data_size, with this module's cap
    batches = _file_batches(ds)
    if batches is None:
        ds.to_parquet(str(path), batch_size=batch_size)
        return
    settings = ParquetDatasetWriter(ds, str(path), batch_size=batch_size)
    chunking = settings.use_content_defined_chunking
    schema = ds.features.arrow_schema
    options = get_parquet_column_options(ds.features, schema)
    with pq.ParquetWriter(
        str(path), schema=schema, use_content_defined_chunking=chunking, write_page_index=settings.write_page_index,
        **options,
    ) as writer:  # fmt: skip
        pending: list = []
        rows = 0
        for batch in batches:
            pending.append(batch)
            rows += batch.num_rows
            while rows >= settings.batch_size:
                table = pa.Table.from_batches(pending)
                writer.write_table(table.slice(0, settings.batch_size))
                rest = table.slice(settings.batch_size)
                pending, rows = rest.to_batches(), rest.num_rows
        if rows:
            writer.write_table(pa.Table.from_batches(pending, schema=pending[0].schema))
        if chunking is not False:
            writer.add_key_value_metadata({"content_defined_chunking": json.dumps(chunking)})


class _WordPieces:
    """Sub-word counts of pre-split word lists, from a per-word cache.

    A fast tokenizer encodes each word of an ``is_split_into_words`` input on
    its own, so a row's length is the sum of its words' counts plus the special
    tokens: each distinct word is encoded once. The first batch is checked
    against whole-row encodings (by the Rust tokenizer's copy, else the
    tokenizer itself); on any difference (a tokenizer whose words interact)
    every row is encoded as a whole instead.
    """

    def __init__(self, tok) -> None:
        self.tok = tok
        self.counts: dict[str, int] = {}
        self.specials = tok.num_special_tokens_to_add(pair=False) if getattr(tok, "is_fast", False) else None
        self.checked = self.specials is None
        backend = getattr(tok, "backend_tokenizer", None) if self.specials is not None else None
        #: BERT's normaliser works character by character and its pre-tokenizer splits at every space, so a
        #: text's sub-words are those of its space-separated chunks: each distinct chunk is encoded once.
        self.by_chunk = backend is not None and (
            type(backend.pre_tokenizer).__name__ == "BertPreTokenizer"
            and type(backend.normalizer).__name__ in ("BertNormalizer", "NoneType")
        )
        self.chunk_counts: dict[str, int] = {}
        #: A copy of the Rust tokenizer without the padding and truncation its file may configure.
        self.backend = None
        if backend is not None:
            from tokenizers import Tokenizer

            try:
                self.backend = Tokenizer.from_str(backend.to_str())
            except Exception:  # noqa: BLE001 (custom Python components do not serialise): go through tok
                self.backend = None
            else:
                self.backend.no_padding()
                self.backend.no_truncation()

    def _counts(self, inputs: list, *, split_words: bool) -> list[int]:
        """Sub-words of each input, without special tokens: from the Rust tokenizer's encodings when the
        tokenizer has one (the Python conversion of each encoding costs more than the encoding)."""
        if self.backend is None:
            ids = self.tok(inputs, is_split_into_words=split_words, add_special_tokens=False)["input_ids"]
            return [len(x) for x in ids]
        encodings = self.backend.encode_batch(inputs, is_pretokenized=split_words, add_special_tokens=False)
        return [len(e.ids) for e in encodings]

    def _row_lengths(self, rows: list[list[str]]) -> list[int]:
        """Sub-words of whole pre-split rows, special tokens included (what the per-word sums must equal)."""
        if self.backend is None:
            return _subword_lengths(self.tok, rows, split_words=True)
        return [len(e.ids) for e in self.backend.encode_batch(rows, is_pretokenized=True, add_special_tokens=True)]

    def text_lengths(self, texts) -> list[int]:
        """Sub-word length of each plain text (special tokens included); ``texts`` a list or an Arrow array."""
        import pyarrow as pa
        import pyarrow.compute as pc

        texts = texts if isinstance(texts, (pa.Array, pa.ChunkedArray)) else pa.array(texts, type=pa.string())
        if not self.by_chunk or self.specials is None:  # None: the word check failed (see lengths)
            return _subword_lengths(self.tok, texts.to_pylist(), split_words=False)
        chunks = pc.split_pattern(texts, " ")  # as str.split(" "): BERT splits there too

        def encode(new: list[str]) -> list[int]:
            return self._counts(new, split_words=False)

        return (_summed(chunks, self.chunk_counts, encode) + self.specials).tolist()

    def lengths(self, column) -> Any:
        """Sub-word length of each row of an Arrow list-of-strings ``column``."""
        import numpy as np

        if self.specials is None:
            return np.array(_subword_lengths(self.tok, column.to_pylist(), split_words=True), dtype=np.int64)

        def encode(new: list[str]) -> list[int]:
            return self._counts([[w] for w in new], split_words=True)

        out = _summed(column, self.counts, encode) + self.specials
        if not self.checked:
            self.checked = True
            sample = column.slice(0, min(len(column), 256)).to_pylist()
            if self._row_lengths(sample) != out[: len(sample)].tolist():
                self.specials = None
                return self.lengths(column)
        return out


def _summed(column, counts: dict[str, int], encode) -> Any:
    """Per row of an Arrow list-of-strings ``column``: the sum of its strings' counts, each distinct
    string counted once by ``encode`` (a list of new strings -> their counts) and cached in ``counts``."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    column = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    flat = pc.list_flatten(column)
    encoded = pc.dictionary_encode(flat)
    words = encoded.dictionary.to_pylist()
    new = [w for w in words if w not in counts]
    for start in range(0, len(new), 4096):
        chunk = new[start : start + 4096]
        counts.update(zip(chunk, encode(chunk)))
    per_word = np.array([counts[w] for w in words], dtype=np.int64)
    per_token = per_word[encoded.indices.to_numpy(zero_copy_only=False)] if len(flat) else per_word[:0]
    offsets = column.offsets.to_numpy()
    offsets = offsets - offsets[0]  # a sliced column's offsets start where the slice does
    sums = np.add.reduceat(per_token, offsets[:-1]) if len(per_token) else np.zeros(len(column), np.int64)
    sums[offsets[:-1] == offsets[1:]] = 0  # empty rows (reduceat would repeat a neighbour)
    return sums


def _tag_parts(names: Sequence[str]):
    """Per tag id: is it an I- tag, and its label index (-1 for ``O``)."""
    import numpy as np

    kinds = [name.partition("-") for name in names]
    labels = sorted({label for prefix, _, label in kinds if prefix in ("B", "I")})
    is_inside = np.array([prefix == "I" for prefix, _, _ in kinds])
    label = np.array([labels.index(lab) if prefix in ("B", "I") else -1 for prefix, _, lab in kinds])
    return is_inside, label


def _longest_entities(ds) -> tuple[int, str, str]:
    """(words, text, document) of the longest entity of a ``ner`` split: the first one of the
    greatest length, spans as :func:`tradeie.text.tokens.spans_from_bio` reads them."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    names = ds.features["ner_tags"].feature.names
    is_inside, label_of = _tag_parts(names)
    best = (0, "", "")
    for batch in _arrow_batches(ds, ["ner_tags", "tokens", "token_starts", "token_ends", "document_name"]):
        column = batch.column("ner_tags").combine_chunks()
        if isinstance(column, pa.ChunkedArray):  # pragma: no cover (combine_chunks gives an array)
            column = column.chunk(0)
        tags = pc.list_flatten(column).to_numpy(zero_copy_only=False).astype(np.int64)
        if not len(tags):
            continue
        offsets = column.offsets.to_numpy()
        offsets = offsets - offsets[0]  # a sliced column's offsets start where the slice does
        row_start = np.zeros(len(tags), dtype=bool)
        row_start[offsets[:-1][offsets[:-1] < len(tags)]] = True
        label = label_of[tags]
        inside = label >= 0
        prev = np.concatenate([[-1], label[:-1]])
        continues = is_inside[tags] & ~row_start & (prev == label) & inside
        starts = inside & ~continues
        if not starts.any():
            continue
        span_of = np.cumsum(starts) - 1
        lengths = np.bincount(span_of[inside], minlength=int(starts.sum()))
        k = int(np.argmax(lengths))
        if lengths[k] <= best[0]:
            continue
        first = int(np.flatnonzero(starts)[k])
        row = int(np.searchsorted(offsets, first, side="right") - 1)
        i = first - int(offsets[row])
        n = int(lengths[k])
        words = batch.column("tokens")[row].as_py()[i : i + n]
        starts_ = batch.column("token_starts")[row].as_py()[i : i + n]
        ends_ = batch.column("token_ends")[row].as_py()[i : i + n]
        text = "".join((" " if j and starts_[j] > ends_[j - 1] else "") + w for j, w in enumerate(words))
        best = (n, text, batch.column("document_name")[row].as_py())
    return best


def _label_counts(column, names: Sequence[str]) -> Counter:
    """Counter of ``names`` over an Arrow column of class ids."""
    import numpy as np

    ids = column.to_numpy() if hasattr(column, "to_numpy") else np.asarray(column)
    counts = np.bincount(ids.astype(np.int64), minlength=len(names)) if len(ids) else np.zeros(len(names), int)
    return Counter({names[i]: int(c) for i, c in enumerate(counts) if c})


def _struct_labels(column):
    """The ``label`` field of every struct in an Arrow list-of-structs column."""
    import pyarrow.compute as pc

    return pc.struct_field(pc.list_flatten(column), "label")


def dataset_stats(dataset_dicts: dict[str, Any], tokenizer=None) -> dict[str, Any]:
    """Per split (and ``total``): documents, sentences, tokens, spans and relations per label,
    relation candidates per label, the longest entity in words and the maximum sub-word
    length of an ``ner`` row (and of a ``relations`` text) under ``tokenizer``
    (default: the default base encoder's tokenizer; a name, a folder or a tokenizer object).

    Reads the datasets in Arrow batches (never a whole column as Python objects); sub-word
    lengths of ``ner`` rows come from a per-word cache (:class:`_WordPieces`).
    """
    import pyarrow.compute as pc

    tok, tok_name = _resolve_tokenizer(tokenizer)
    pieces = _WordPieces(tok)
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
            for batch in _arrow_batches(d, ["entities", "relations"]):
                spans.update(_label_counts(_struct_labels(batch.column("entities")), ent_names))
                relations.update(_label_counts(_struct_labels(batch.column("relations")), rel_names))
        candidates: Counter = Counter()
        max_rel = 0
        if r is not None:
            names = r.features["label"].names
            for batch in _arrow_batches(r, ["label", "text"], batch_size=1024):
                candidates.update(_label_counts(batch.column("label"), names))
                lengths = pieces.text_lengths(batch.column("text"))
                max_rel = max(max_rel, max(lengths, default=0))
        longest = _longest_entities(n) if n is not None else (0, "", "")
        n_tokens = max_ner = over = 0
        if n is not None:
            for batch in _arrow_batches(n, ["tokens"]):
                column = batch.column("tokens")
                n_tokens += int(pc.sum(pc.list_value_length(column)).as_py() or 0)
                lengths = pieces.lengths(column)
                if len(lengths):
                    max_ner = max(max_ner, int(lengths.max()))
                    over += int((lengths > MODEL_MAX_LENGTH).sum())
        per_split[split] = {
            "documents": len(d) if d is not None else 0,
            "document_ids": list(d["id"]) if d is not None else [],
            "sentences": len(n) if n is not None else 0,
            "tokens": n_tokens,
            "spans": {label: spans.get(label, 0) for label in ENTITY_LABELS},
            "relations": {label: relations.get(label, 0) for label in RELATION_LABELS},
            "candidates": {label: candidates.get(label, 0) for label in RELATION_CLASSES},
            "longest_entity_words": longest[0],
            "longest_entity": longest[1],
            "longest_entity_document": longest[2],
            "max_subword_length": max_ner,
            "rows_over_model_limit": over,
            "max_relation_subword_length": max_rel,
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


def hub_metadata(
    dataset_dicts: dict[str, Any], folder: Path | None = None, sizes: dict[tuple[str, str], int] | None = None
) -> dict[str, Any]:
    """The card's ``configs`` and ``dataset_info`` YAML entries (as ``push_to_hub`` writes them); ``sizes``:
    :func:`_nbytes` per (config, split), when already known."""
    from datasets.info import DatasetInfo, DatasetInfosDict
    from datasets.splits import SplitDict, SplitInfo
    from datasets.utils.metadata import MetadataConfigs
    from huggingface_hub import DatasetCardData

    infos, configs = {}, {}
    for config in CONFIG_NAMES:
        dd = dataset_dicts[config]
        info = DatasetInfo(features=FEATURES[config](), splits=SplitDict(), download_size=0, dataset_size=0)
        for split, ds in dd.items():
            nbytes = sizes[config, split] if sizes is not None else _nbytes(ds)
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
    from tradeie.data.relcands import gold_relations_outside_window

    if docs is None:
        docs = documents_from_dataset(dataset_dicts["documents"])
    facts = _LAST_BUILD
    if facts is not None and facts.docs is docs and facts.window == window and facts.key == _content_key(dataset_dicts):
        summaries, outside = facts.summaries, facts.outside_window  # read while building these very datasets
        assignment = facts.assignment
    else:
        summaries, outside = [], 0  # one pass over the documents (they may be read from disk)
        assignment = split_assignment(dataset_dicts)
        full = _card_lists(docs)
        for doc in docs:
            summaries.append(_DocSummary(doc, full))
            if "outside_window" not in card_options:
                outside += len(gold_relations_outside_window(doc, window))
    card_options.setdefault("outside_window", outside)
    stats = dataset_stats(dataset_dicts, tokenizer)
    sizes = {(c, split): _nbytes(ds) for c in CONFIG_NAMES for split, ds in dataset_dicts[c].items()}  # read once
    guidelines_path = Path(guidelines) if guidelines else None
    with atomic_directory(out_dir) as tmp, _quiet_progress():
        for config in CONFIG_NAMES:
            for split, ds in dataset_dicts[config].items():
                path = tmp / data_file(config, split)
                path.parent.mkdir(parents=True, exist_ok=True)
                _write_parquet(ds, path, sizes[config, split])
        if guidelines_path is not None and guidelines_path.is_file():
            shutil.copyfile(guidelines_path, tmp / "GUIDELINES.md")
        else:
            write_text_atomic(tmp / "GUIDELINES.md", guidelines_markdown())
        card = make_card(
            metadata=hub_metadata(dataset_dicts, tmp, sizes),
            stats=stats,
            stats_markdown=format_stats(stats),
            docs=sorted(summaries, key=lambda d: d.id),
            assignment=assignment,
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
    num_proc: int = 1,
    **folder_options: Any,
) -> tuple[dict, dict]:
    """``tradeie dataset build``: gold + corpus -> the three configs -> a Hub folder at ``out``.

    Returns the ``DatasetDict`` per config and the folder's stats; ``num_proc`` worker processes
    compute the rows (:func:`build_dataset`); ``folder_options`` go to :func:`write_hub_folder`
    (guidelines, tokenizer, repo_id, card fields).
    """
    from tradeie.annotations.gold import load_gold

    docs = load_gold(gold, corpus)
    dsets = build_dataset(docs, ratios=ratios, seed=seed, window=window, num_proc=num_proc)
    stats = write_hub_folder(dsets, docs, out, seed=seed, ratios=ratios, window=window, **folder_options)
    for config, dd in dsets.items():
        log.info("%s: %s", config, ", ".join(f"{split} {len(ds)}" for split, ds in dd.items()))
    return dsets, stats
