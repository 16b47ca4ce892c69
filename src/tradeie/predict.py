"""End-to-end prediction: text -> entities (NER model) -> relations (RE model).

``Pipeline.load("training/runs/NAME")`` reads ``NAME/ner`` and, when present,
``NAME/re``. Offsets are character offsets into the input text exactly as
given (no normalisation); long documents are handled with sliding windows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
import logging
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from tradeie.document import Document
from tradeie.errors import TradeieError

log = logging.getLogger(__name__)
#: Documents per step of the progress bar (inputs are length-sorted and batched within a chunk).
PROGRESS_CHUNK = 64


class Pipeline:
    """NER + optional relation model; call it on a text or use :meth:`predict_documents`."""

    def __init__(self, ner, relation=None, name: str = "model") -> None:
        self.ner = ner
        self.relation = relation
        self.name = name

    @classmethod
    def load(cls, run_dir: str | os.PathLike, device: str | None = None, batch_size: int | None = None) -> Pipeline:
        """Load a run folder holding ``ner/`` and optionally ``re/`` (or a bare ``ner`` model folder)."""
        from tradeie.training.ner import NERTagger
        from tradeie.training.relation import RelationClassifier

        from tradeie.systems.base import SYSTEM_FILE, load_system

        run_dir = Path(run_dir)
        if not run_dir.is_dir():
            raise TradeieError(f"{run_dir}: model folder not found", hint="train with `tradeie train ner`")
        ner_dir = run_dir / "ner" if (run_dir / "ner").is_dir() else run_dir
        re_dir = run_dir / "re"
        if (ner_dir / SYSTEM_FILE).is_file() or (re_dir / SYSTEM_FILE).is_file():
            ner = (
                load_system(ner_dir)
                if (ner_dir / SYSTEM_FILE).is_file()
                else NERTagger.load(ner_dir, device=device, batch_size=batch_size)
            )
            if (re_dir / SYSTEM_FILE).is_file():
                relation = load_system(re_dir)
            else:
                relation = (
                    RelationClassifier.load(re_dir, device=device, batch_size=batch_size)
                    if (re_dir / "config.json").exists()
                    else None
                )
            name = run_dir.name if ner_dir != run_dir else run_dir.parent.name or run_dir.name
            return cls(ner, relation, name)
        if not (ner_dir / "config.json").exists():
            raise TradeieError(
                f"{run_dir}: no trained NER model (expected {run_dir / 'ner'}/config.json)",
                hint="train one with `tradeie train ner --output " + str(run_dir) + "`",
            )
        ner = NERTagger.load(ner_dir, device=device, batch_size=batch_size)
        re_dir = run_dir / "re"
        relation = (
            RelationClassifier.load(re_dir, device=device, batch_size=batch_size)
            if (re_dir / "config.json").exists()
            else None
        )
        name = run_dir.name if ner_dir != run_dir else run_dir.parent.name or run_dir.name
        return cls(ner, relation, name)

    def __call__(self, text: str, id: str = "text") -> Document:
        """Entities and relations of one text."""
        return self.predict_documents([Document(id=id, text=text)])[0]

    def predict_documents(self, docs: Sequence[Document], gold_entities: bool = False) -> list[Document]:
        """Predicted copies of ``docs`` (their sentence metadata is used when present).

        With ``gold_entities=True`` the NER model is skipped and relations are
        predicted between the documents' own entities (needs an RE model).
        Entities get ids ``e1``... in text order (gold ids are kept); relations
        are only decoded between those entities and for allowed type signatures.
        """
        docs = list(docs)
        from tradeie.progress import show_progress

        if len(docs) > PROGRESS_CHUNK and show_progress():  # a bar over chunks of documents on a terminal
            from tradeie.progress import progress

            chunks = range(0, len(docs), PROGRESS_CHUNK)
            out: list[Document] = []
            for i in progress(chunks, f"predict {len(docs)} documents", unit="chunk"):
                out += self._predict(docs[i : i + PROGRESS_CHUNK], gold_entities)
            return out
        return self._predict(docs, gold_entities)

    def _predict(self, docs: list[Document], gold_entities: bool) -> list[Document]:
        if gold_entities:
            if self.relation is None:
                raise TradeieError(
                    f"model {self.name}: gold_entities=True needs a relation model (re/)",
                    hint="train one with `tradeie train re`",
                )
            return self.relation.predict(docs)
        predicted = self.ner.predict(docs)
        if self.relation is None:
            return predicted
        from tradeie.systems.base import System

        if isinstance(self.relation, System):
            return self.relation.predict(predicted)
        return self.relation.predict(docs, [p.entities for p in predicted])


def prediction_row(doc: Document) -> dict[str, Any]:
    """One output JSONL row: id, text, entities and relations, each with its score (Documents JSONL,
    ``predictions`` layout of :mod:`tradeie.io.jsonl`)."""
    from tradeie.io.jsonl import document_row

    return document_row(doc, "predictions")


def _valid_sentences(value: Any, n: int) -> list[list[int]] | None:
    if not isinstance(value, list):
        return None
    try:
        spans = [[int(s), int(e)] for s, e in value]
    except (TypeError, ValueError):
        return None
    return spans if all(0 <= s < e <= n for s, e in spans) else None


def _read_txt(path: Path) -> Document:
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TradeieError(
            f"{path}: not valid UTF-8 at byte offset {exc.start}", hint="re-save the file as UTF-8"
        ) from None
    return Document(id=path.stem, text=text)


def _read_jsonl(path: Path) -> list[Document]:
    """Input documents from Documents JSONL (:mod:`tradeie.io.jsonl`): the text and valid sentence
    offsets (top-level or in ``meta``) of each row; a row without an id is ``STEM-LINE``."""
    from tradeie.io.jsonl import read_documents

    docs = []
    for doc in read_documents(path, id_prefix=path.stem):
        sentences = _valid_sentences(doc.meta.get("sentences"), len(doc.text))
        docs.append(Document(id=doc.id, text=doc.text, meta={"sentences": sentences} if sentences else {}))
    return docs


def read_stdin(stream=None) -> list[Document]:
    """Documents from standard input: JSONL rows with a ``text`` field when the input starts with ``{``,
    else the whole input is one text (id ``stdin``)."""
    import sys
    import tempfile

    data = (stream or sys.stdin.buffer).read()
    if isinstance(data, str):
        data = data.encode("utf-8")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TradeieError(
            f"standard input: not valid UTF-8 at byte offset {exc.start}", hint="pipe UTF-8 text or JSONL"
        ) from None
    if not text.strip():
        raise TradeieError("standard input: empty", hint='pipe a text or JSONL rows with a "text" field')
    if not text.lstrip().startswith("{"):
        return [Document(id="stdin", text=text)]
    with tempfile.TemporaryDirectory(prefix="tradeie-stdin-") as tmp:
        path = Path(tmp) / "stdin.jsonl"
        path.write_text(text, encoding="utf-8")
        try:
            return _read_jsonl(path)
        except TradeieError as exc:
            raise TradeieError(str(exc).replace(str(path), "standard input")) from None


def read_inputs(paths: Iterable[str | os.PathLike]) -> list[Document]:
    """Documents from ``.txt`` files, folders of ``.txt`` files, JSONL files with a ``text`` field, and
    ``-`` (standard input, see :func:`read_stdin`)."""
    docs: list[Document] = []
    for raw in paths:
        if str(raw) == "-":
            docs += read_stdin()
            continue
        path = Path(raw)
        if path.is_dir():
            files = sorted(path.glob("*.txt"))
            if not files:
                raise TradeieError(f"{path}: no .txt files in this folder")
            docs += [_read_txt(f) for f in files]
        elif not path.exists():
            raise TradeieError(f"{path}: file not found")
        elif path.suffix.lower() in (".jsonl", ".ndjson"):
            docs += _read_jsonl(path)
        elif path.suffix.lower() == ".txt":
            docs.append(_read_txt(path))
        else:
            raise TradeieError(
                f"{path}: unsupported input {path.suffix!r}",
                hint="give .txt files, a folder of .txt files, or JSONL with a text field",
            )
    seen: dict[str, int] = {}
    for doc in docs:
        seen[doc.id] = seen.get(doc.id, 0) + 1
    dupes = sorted(k for k, v in seen.items() if v > 1)
    if dupes:
        raise TradeieError(
            f"duplicate document ids in the inputs: {', '.join(dupes[:5])}",
            hint="give each input file a distinct name or JSONL rows distinct ids",
        )
    if not docs:
        raise TradeieError("no input documents", hint="pass .txt files, a folder, or a JSONL file")
    return docs


def write_predictions(
    docs: Sequence[Document],
    predictions: Sequence[Document],
    out: str | os.PathLike | None,
    fmt: str = "jsonl",
    model_version: str | None = None,
) -> str:
    """Write JSONL rows or Label Studio tasks to ``out`` (atomically; ``-``/None: return only)."""
    if fmt == "jsonl":
        from tradeie.io.jsonl import documents_jsonl

        text = documents_jsonl(predictions, "predictions")
    elif fmt == "labelstudio":
        from tradeie.labelstudio.format import to_tasks

        tasks = to_tasks(list(docs), predictions=list(predictions), model_version=model_version)
        text = json.dumps(tasks, ensure_ascii=False, indent=2) + "\n"
    else:
        raise TradeieError(f"unknown output format {fmt!r}", hint="use jsonl or labelstudio")
    if out not in (None, "-"):
        from tradeie.io.atomic import write_text_atomic

        write_text_atomic(out, text)
    return text


@dataclass
class PredictResult:
    """What ``tradeie predict`` produced: the predictions, their serialised text and the facts written."""

    predictions: list[Document]
    text: str
    n_facts: int | None = None

    def summary(self, output: str | os.PathLike | None) -> str:
        n_ent = sum(len(p.entities) for p in self.predictions)
        n_rel = sum(len(p.relations) for p in self.predictions)
        return f"wrote {len(self.predictions)} documents ({n_ent} entities, {n_rel} relations) to {output}"


def predict_files(
    inputs: Iterable[str | os.PathLike],
    model: str | os.PathLike,
    output: str | os.PathLike | None = None,
    fmt: str = "jsonl",
    *,
    facts: str | os.PathLike | None = None,
    device: str | None = None,
    batch_size: int | None = None,
) -> PredictResult:
    """``tradeie predict``: read texts, run a trained run's pipeline, write predictions (and facts)."""
    if batch_size is not None and batch_size < 1:
        raise TradeieError(f"--batch-size {batch_size}: must be >= 1")
    docs = read_inputs(inputs)
    pipe = Pipeline.load(model, device=device, batch_size=batch_size)
    predictions = pipe.predict_documents(docs)
    text = write_predictions(docs, predictions, output, fmt, model_version=pipe.name)
    n_facts = None
    if facts:
        from tradeie.facts import write_facts

        n_facts = len(write_facts(predictions, facts))
    return PredictResult(predictions, text, n_facts)
