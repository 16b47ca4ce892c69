"""Label Studio JSON <-> Documents: the only module that knows Label Studio's format.

Import: any ``from_name``/``to_name``; several annotations per task (the
ground-truth one, else the latest not cancelled); relations with direction
right/left/bi normalised to head -> tail; predictions kept apart. Offsets are
code points; an export whose offsets only match under UTF-16 is converted
with a warning; anything else fails naming the task, region, offsets and text.
Export: tasks for import, optionally with ``predictions`` (pre-annotations).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tradeie.document import Document, Entity, Relation, text_sha256
from tradeie.errors import TradeieError
from tradeie.schema import LS_LABELS_NAME, LS_REFERENT_NAME, LS_TEXT_NAME, allowed_relation

log = logging.getLogger(__name__)


@dataclass
class LabelStudioExport:
    """What an export holds: chosen annotations as documents, predictions apart."""

    documents: list[Document] = field(default_factory=list)
    #: doc id -> every non-cancelled annotation of the task (for agreement / merging)
    all_annotations: dict[str, list[Document]] = field(default_factory=dict)
    #: doc id -> one document per prediction (model pre-annotation)
    predictions: dict[str, list[Document]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    #: doc id -> where its task is (``FILE: task T (doc id)``), for naming it in messages
    sources: dict[str, str] = field(default_factory=dict)


def load_tasks(path: str | Path) -> list[dict]:
    """Read a Label Studio JSON export (a list of tasks, or one task) from a file."""
    path = Path(path)
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TradeieError(f"{path}: file not found") from None
    except json.JSONDecodeError as exc:
        raise TradeieError(
            f"{path}: invalid JSON at line {exc.lineno} column {exc.colno} ({exc.msg})",
            hint="export the project again as JSON from Label Studio",
        ) from None
    tasks = [payload] if isinstance(payload, dict) else payload
    if not isinstance(tasks, list) or not all(isinstance(t, dict) for t in tasks):
        raise TradeieError(
            f"{path}: expected a list of Label Studio tasks",
            hint="use Label Studio's JSON export (not JSON-MIN or CSV)",
        )
    return tasks


def read_export(source: str | Path | list[dict], *, name: str | None = None) -> LabelStudioExport:
    """Parse a Label Studio JSON export (path, folder of ``*.json`` or list of tasks)."""
    if isinstance(source, (str, Path)) and Path(source).is_dir():
        result = LabelStudioExport()
        files = sorted(Path(source).glob("*.json"))
        if not files:
            raise TradeieError(f"{source}: no .json files found", hint="point at a Label Studio JSON export")
        for path in files:
            part = read_export(path)
            result.documents += part.documents
            result.all_annotations.update(part.all_annotations)
            result.predictions.update(part.predictions)
            result.warnings += part.warnings
            result.sources.update(part.sources)
        _check_unique_ids(result.documents, str(source))
        return result
    if isinstance(source, (str, Path)):
        name = name or str(source)
        tasks = load_tasks(source)
    else:
        tasks, name = source, name or "<tasks>"
    result = LabelStudioExport()
    for index, task in enumerate(tasks):
        _read_task(task, index, name, result)
    _check_unique_ids(result.documents, name)
    return result


def _check_unique_ids(docs: list[Document], where: str) -> None:
    seen: set[str] = set()
    for doc in docs:
        if doc.id in seen:
            raise TradeieError(
                f"{where}: document {doc.id!r} appears in more than one task", hint="keep one task per document"
            )
        seen.add(doc.id)


def _task_text(task: dict, where: str) -> str:
    data = task.get("data")
    if not isinstance(data, dict):
        raise TradeieError(f"{where}: task has no 'data' object", hint="export tasks as JSON from Label Studio")
    if isinstance(data.get(LS_TEXT_NAME), str):
        return data[LS_TEXT_NAME]
    strings = [v for v in data.values() if isinstance(v, str) and len(v) > 0]
    if len(strings) == 1:
        return strings[0]
    raise TradeieError(
        f"{where}: cannot tell which data field holds the text (keys: {sorted(data)})",
        hint=f"name the text field {LS_TEXT_NAME!r}",
    )


def task_doc_id(task: dict, index: int) -> str:
    """A task's document id: ``data.doc_id`` (or ``document_id``, ``id``), else ``task-<task id or index>``."""
    data = task.get("data") if isinstance(task.get("data"), dict) else {}
    for key in ("doc_id", "document_id", "id"):
        if isinstance(data.get(key), (str, int)):
            return str(data[key])
    if "id" in task:
        return f"task-{task['id']}"
    return f"task-{index}"


def _choose(annotations: list[dict]) -> tuple[int | None, str]:
    """Index of the annotation to use (ground truth, else the latest not cancelled) and why."""
    live = [i for i, a in enumerate(annotations) if not a.get("was_cancelled")]
    if not live:
        return None, "no non-cancelled annotation"
    truth = [i for i in live if annotations[i].get("ground_truth")]
    if truth:
        return truth[-1], f"ground-truth annotation {annotations[truth[-1]].get('id')}"

    def recency(i: int) -> tuple[str, int, int]:
        a = annotations[i]
        return (str(a.get("updated_at") or a.get("created_at") or ""), int(a.get("id") or 0), i)

    latest = max(live, key=recency)
    why = "only annotation" if len(live) == 1 else f"latest of {len(live)} annotations"
    return latest, f"{why} ({annotations[latest].get('id')})"


def _utf16_to_codepoints(text: str, offset: int) -> int | None:
    units = 0
    for i, ch in enumerate(text):
        if units == offset:
            return i
        units += 2 if ord(ch) > 0xFFFF else 1
    return len(text) if units == offset else None


def _region_entity(region: dict, text: str, where: str, warnings: list[str]) -> Entity:
    value = region.get("value") or {}
    rid = str(region.get("id", ""))
    labels = value.get("labels") or value.get("hypertextlabels") or []
    try:
        start, end = int(value["start"]), int(value["end"])
    except (KeyError, TypeError, ValueError):
        raise TradeieError(
            f"{where}, region {rid}: span region without integer start/end", hint="re-create the region in Label Studio"
        ) from None
    if len(labels) != 1:
        raise TradeieError(
            f"{where}, region {rid} [{start}:{end}]: expected exactly one label, got {labels}",
            hint="give each span one label (the schema is flat)",
        )
    expected = value.get("text")
    if expected is not None and text[start:end] != expected:
        s16, e16 = _utf16_to_codepoints(text, start), _utf16_to_codepoints(text, end)
        if s16 is not None and e16 is not None and text[s16:e16] == expected:
            warnings.append(
                f"{where}, region {rid}: UTF-16 offsets [{start}:{end}] converted to code points [{s16}:{e16}]"
            )
            start, end = s16, e16
        else:
            raise TradeieError(
                f"{where}, region {rid}: offsets [{start}:{end}] select {text[start:end]!r} but the region "
                f"says {expected!r}",
                hint="the task text changed after annotation, or the offsets are wrong; fix the region in Label Studio",
            )
    if not 0 <= start < end <= len(text):
        raise TradeieError(
            f"{where}, region {rid}: offsets [{start}:{end}] outside the text (length {len(text)})",
            hint="fix the region in Label Studio",
        )
    score = region.get("score")
    return Entity(
        start=start,
        end=end,
        label=str(labels[0]),
        id=rid,
        text=text[start:end],
        score=None if score is None else float(score),
    )


def _relation(region: dict, entities: dict[str, Entity], where: str) -> list[Relation]:
    head, tail = str(region.get("from_id")), str(region.get("to_id"))
    labels = region.get("labels") or []
    if not labels:
        raise TradeieError(
            f"{where}: relation {head} -> {tail} has no label", hint="choose a relation label in Label Studio"
        )
    direction = region.get("direction", "right")
    if direction == "left":
        head, tail = tail, head
    score = region.get("score")
    relations = []
    for label in labels:
        h, t = head, tail
        if (
            direction == "bi"
            and h in entities
            and t in entities
            and not allowed_relation(label, entities[h].label, entities[t].label)
            and allowed_relation(label, entities[t].label, entities[h].label)
        ):
            h, t = t, h
        relations.append(Relation(head=h, tail=t, label=str(label), score=None if score is None else float(score)))
    return relations


def result_to_document(
    doc_id: str, text: str, result: list[dict], where: str, warnings: list[str], meta: dict | None = None
) -> Document:
    """One annotation's (or prediction's) ``result`` list as a Document."""
    entities: dict[str, Entity] = {}
    relation_regions = []
    referents: dict[str, str] = {}
    for region in result or []:
        kind = region.get("type")
        if kind == "relation":
            relation_regions.append(region)
        elif kind == "textarea" and region.get("from_name") == LS_REFERENT_NAME:
            values = (region.get("value") or {}).get("text") or []
            if isinstance(values, str):
                values = [values]
            if values and str(values[0]).strip():
                referents[str(region.get("id", ""))] = str(values[0]).strip()
        elif kind in ("labels", "hypertextlabels"):
            ent = _region_entity(region, text, where, warnings)
            if ent.id in entities:
                raise TradeieError(f"{where}: region id {ent.id!r} used twice", hint="re-create one of the regions")
            entities[ent.id] = ent
        else:
            warnings.append(f"{where}: ignored result of type {kind!r} (region {region.get('id')})")
    relations = [r for region in relation_regions for r in _relation(region, entities, where)]
    for rid, referent in referents.items():
        if rid not in entities:
            raise TradeieError(
                f"{where}: referent {referent!r} is attached to region {rid!r}, which is not a span",
                hint="type the referent into the span's own referent field",
            )
        entities[rid] = replace(entities[rid], referent=referent)
    ordered = tuple(sorted(entities.values(), key=lambda e: (e.start, e.end, e.label, e.id)))
    return Document(id=doc_id, text=text, entities=ordered, relations=tuple(relations), meta=dict(meta or {}))


def _task_where(task: dict, index: int, name: str) -> str:
    return f"{name}: task {task.get('id', index)} ({task_doc_id(task, index)})"


def task_text_sha256(task: dict) -> str | None:
    """The text hash a task was imported with (``data.text_sha256``, set by ``tradeie ls push``), if any."""
    data = task.get("data")
    return data.get("text_sha256") if isinstance(data, dict) else None


def _base_meta(task: dict) -> dict[str, Any]:
    return {"labelstudio_task_id": task.get("id"), "text_sha256_at_annotation": task_text_sha256(task)}


def _annotation_document(task: dict, index: int, text: str, ann: dict, where: str, warnings: list[str]) -> Document:
    """One (not cancelled) annotation of a task as a Document with its provenance in ``meta``."""
    meta = {
        **_base_meta(task),
        "annotation_id": ann.get("id"),
        "completed_by": ann.get("completed_by"),
        "updated_at": ann.get("updated_at") or ann.get("created_at"),
        "ground_truth": bool(ann.get("ground_truth")),
    }
    return result_to_document(
        task_doc_id(task, index), text, ann.get("result"), f"{where}, annotation {ann.get('id')}", warnings, meta
    )


def _prediction_documents(task: dict, index: int, text: str, where: str, warnings: list[str]) -> list[Document]:
    preds = []
    for pred in task.get("predictions") or []:
        if not isinstance(pred, dict):
            continue  # an export with predictions as ids only
        meta = {**_base_meta(task), "model_version": pred.get("model_version"), "score": pred.get("score")}
        preds.append(
            result_to_document(
                task_doc_id(task, index), text, pred.get("result"), f"{where}, prediction", warnings, meta
            )
        )
    return preds


def _read_task(task: dict, index: int, name: str, result: LabelStudioExport) -> None:
    doc_id = task_doc_id(task, index)
    where = _task_where(task, index, name)
    text = _task_text(task, where)
    base_meta = _base_meta(task)
    annotations = task.get("annotations") or []
    docs: dict[int, Document] = {}
    for i, ann in enumerate(annotations):
        if not ann.get("was_cancelled"):
            docs[i] = _annotation_document(task, index, text, ann, where, result.warnings)
    chosen, why = _choose(annotations)
    if chosen is None:
        doc = Document(id=doc_id, text=text, meta={**base_meta, "annotation_choice": why})
    else:
        doc = docs[chosen]
        doc.meta["annotation_choice"] = why
        if len(docs) > 1:
            log.debug("%s: using the %s", where, why)
    result.documents.append(doc)
    result.all_annotations[doc_id] = list(docs.values())
    result.sources[doc_id] = where
    preds = _prediction_documents(task, index, text, where, result.warnings)
    if preds:
        result.predictions[doc_id] = preds


@dataclass
class TaskAnnotations:
    """A task's annotations read one by one, so that a broken one does not hide the others (for merging)."""

    doc_id: str
    task_id: Any
    #: every readable, not cancelled annotation
    documents: list[Document] = field(default_factory=list)
    #: ``(annotation id, completed_by, error message)`` of each annotation that could not be read
    broken: list[tuple[Any, Any, str]] = field(default_factory=list)
    #: number of readable predictions (kept apart, never merged)
    predictions: int = 0
    #: why the predictions could not be read, when they could not
    prediction_error: str | None = None
    warnings: list[str] = field(default_factory=list)


def read_task_annotations(task: dict, index: int, name: str) -> TaskAnnotations:
    """Every annotation of the ``index``-th task of an export named ``name``, each read on its own."""
    out = TaskAnnotations(task_doc_id(task, index), task.get("id"))
    where = _task_where(task, index, name)
    text: str | None = None
    unreadable = ""
    try:
        text = _task_text(task, where)
    except TradeieError as exc:
        unreadable = str(exc)
    for ann in task.get("annotations") or []:
        if ann.get("was_cancelled"):
            continue
        if text is None:
            out.broken.append((ann.get("id"), ann.get("completed_by"), unreadable))
            continue
        warnings: list[str] = []
        try:
            out.documents.append(_annotation_document(task, index, text, ann, where, warnings))
        except TradeieError as exc:
            out.broken.append((ann.get("id"), ann.get("completed_by"), str(exc)))
        else:
            out.warnings += warnings
    if text is None:
        out.prediction_error = unreadable if task.get("predictions") else None
        return out
    warnings = []
    try:
        out.predictions = len(_prediction_documents(task, index, text, where, warnings))
    except TradeieError as exc:
        out.prediction_error = str(exc)
    else:
        out.warnings += warnings
    return out


def document_result(doc: Document, *, with_scores: bool = False) -> list[dict]:
    """A document's entities and relations as a Label Studio ``result`` list."""
    result: list[dict] = []
    for ent in doc.entities:
        region = {
            "id": ent.id,
            "from_name": LS_LABELS_NAME,
            "to_name": LS_TEXT_NAME,
            "type": "labels",
            "value": {"start": ent.start, "end": ent.end, "text": doc.text[ent.start : ent.end], "labels": [ent.label]},
        }
        if with_scores and ent.score is not None:
            region["score"] = round(ent.score, 6)
        result.append(region)
        if ent.referent:
            result.append(
                {
                    "id": ent.id,
                    "from_name": LS_REFERENT_NAME,
                    "to_name": LS_TEXT_NAME,
                    "type": "textarea",
                    "value": {"start": ent.start, "end": ent.end, "text": [ent.referent]},
                }
            )
    for rel in doc.relations:
        region = {
            "from_id": rel.head,
            "to_id": rel.tail,
            "type": "relation",
            "direction": "right",
            "labels": [rel.label],
        }
        if with_scores and rel.score is not None:
            region["score"] = round(rel.score, 6)
        result.append(region)
    return result


def to_task(
    doc: Document,
    *,
    prediction: Document | None = None,
    model_version: str | None = None,
    include_annotations: bool = True,
) -> dict:
    """A Label Studio task for ``doc`` (gold as an annotation, ``prediction`` as pre-annotation)."""
    task: dict[str, Any] = {"data": {LS_TEXT_NAME: doc.text, "doc_id": doc.id, "text_sha256": text_sha256(doc.text)}}
    if include_annotations and (doc.entities or doc.relations):
        task["annotations"] = [
            {"result": document_result(doc), "ground_truth": bool(doc.meta.get("ground_truth")), "was_cancelled": False}
        ]
    if prediction is not None:
        scores = [e.score for e in prediction.entities if e.score is not None]
        task["predictions"] = [
            {
                "model_version": model_version or prediction.meta.get("model_version") or "unknown",
                "score": round(sum(scores) / len(scores), 6) if scores else None,
                "result": document_result(prediction, with_scores=True),
            }
        ]
    return task


def to_tasks(
    docs: list[Document],
    predictions: dict[str, Document] | list[Document] | None = None,
    model_version: str | None = None,
    include_annotations: bool = True,
) -> list[dict]:
    """Tasks for import into Label Studio, optionally with ``predictions`` keyed by document id."""
    if isinstance(predictions, list):
        predictions = {p.id: p for p in predictions}
    predictions = predictions or {}
    return [
        to_task(
            doc,
            prediction=predictions.get(doc.id),
            model_version=model_version,
            include_annotations=include_annotations,
        )
        for doc in docs
    ]
