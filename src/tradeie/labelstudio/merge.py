"""Merge annotations pulled from Label Studio into the gold folder, losing nothing.

* Every pulled annotation is validated (the server accepts unknown labels,
  dangling relation ids and out-of-range offsets): invalid ones are reported
  with the reason and not merged.
* A document's annotation that is new to the gold folder is added; one that
  differs from the gold replaces it only after the old file was copied to
  ``backups/<timestamp>/``.
* Two annotators who disagree on a document make a conflict: it is reported
  with the agreement figures, written to ``conflicts/<doc id>.json`` and left
  for adjudication (mark one annotation ground truth in Label Studio and pull
  again); the gold stays as it was.

Label Studio JSON is read and written only through :mod:`tradeie.labelstudio.format`.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tradeie.annotations.gold import agreement, disagreements
from tradeie.annotations.validate import GOLD, Finding, errors, validate_documents, warnings
from tradeie.document import Document
from tradeie.errors import TradeieError
from tradeie.io.atomic import write_bytes_atomic, write_json_atomic
from tradeie.labelstudio.format import load_tasks, read_export, read_task_annotations, task_doc_id, to_task

log = logging.getLogger(__name__)


@dataclass
class InvalidAnnotation:
    doc_id: str
    task_id: Any
    annotation_id: Any
    annotator: str
    errors: list[str]

    def line(self) -> str:
        return (
            f"{self.doc_id} (task {self.task_id}, annotation {self.annotation_id} by {self.annotator}): "
            + "; ".join(self.errors)
        )


@dataclass
class Conflict:
    doc_id: str
    annotators: list[str]
    #: pairwise figures: {"a", "b", "span_f1", "span_overlap_f1", "relation_f1", "token_kappa"}
    agreement: list[dict]
    disagreements: list[str]
    path: Path | None = None

    def line(self) -> str:
        figures = "; ".join(
            f"{p['a']} vs {p['b']}: span F1 {p['span_f1']:.3f} (overlap {p['span_overlap_f1']:.3f}), "
            f"relation F1 {p['relation_f1']:.3f}, token kappa "
            + ("n/a" if p["token_kappa"] is None else f"{p['token_kappa']:.3f}")
            for p in self.agreement
        )
        return (
            f"{self.doc_id}: {len(self.disagreements)} disagreements between {', '.join(self.annotators)} ({figures})"
        )


@dataclass
class Change:
    doc_id: str
    annotator: str
    entities_added: int
    entities_removed: int
    relations_added: int
    relations_removed: int
    file: Path

    def line(self) -> str:
        return (
            f"{self.doc_id} by {self.annotator}: entities +{self.entities_added} -{self.entities_removed}, "
            f"relations +{self.relations_added} -{self.relations_removed} ({self.file})"
        )


@dataclass
class MergeReport:
    added: list[Change] = field(default_factory=list)
    replaced: list[Change] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    invalid: list[InvalidAnnotation] = field(default_factory=list)
    #: doc ids whose tasks have no (non-cancelled) annotation yet
    not_annotated: list[str] = field(default_factory=list)
    #: doc id -> number of model predictions in the export (kept apart, never merged)
    predictions: dict[str, int] = field(default_factory=dict)
    #: notes: choices made (ground truth over disagreeing annotations, superseded annotations), format warnings
    notes: list[str] = field(default_factory=list)
    #: consistency warnings from validation (a string annotated in one place, not in another)
    warnings: list[str] = field(default_factory=list)
    backup_dir: Path | None = None
    dry_run: bool = False

    def to_dict(self) -> dict:
        def change(c: Change) -> dict:
            return {**c.__dict__, "file": str(c.file)}

        return {
            "added": [change(c) for c in self.added],
            "replaced": [change(c) for c in self.replaced],
            "unchanged": self.unchanged,
            "conflicts": [{**c.__dict__, "path": None if c.path is None else str(c.path)} for c in self.conflicts],
            "invalid": [i.__dict__ for i in self.invalid],
            "not_annotated": self.not_annotated,
            "predictions": self.predictions,
            "notes": self.notes,
            "warnings": self.warnings,
            "backup_dir": None if self.backup_dir is None else str(self.backup_dir),
            "dry_run": self.dry_run,
        }

    def lines(self) -> list[str]:
        out = [f"added {c.line()}" for c in self.added]
        out += [f"replaced {c.line()}" for c in self.replaced]
        if self.backup_dir is not None:
            out.append(f"backup of the replaced gold files: {self.backup_dir}")
        out += [
            f"conflict (left for adjudication) {c.line()}" + (f"; details in {c.path}" if c.path else "")
            for c in self.conflicts
        ]
        out += [f"invalid (not merged) {i.line()}" for i in self.invalid]
        out += [f"note: {n}" for n in self.notes]
        out.append(
            f"{len(self.added)} added, {len(self.replaced)} replaced, {len(self.unchanged)} unchanged, "
            f"{len(self.conflicts)} conflicts, {len(self.invalid)} invalid annotations, "
            f"{len(self.not_annotated)} documents not annotated yet, "
            f"{sum(self.predictions.values())} predictions kept apart, {len(self.warnings)} consistency warnings"
            + (" (dry run: nothing written)" if self.dry_run else "")
        )
        return out


# --------------------------------------------------------------------------- reading a pulled export


def _annotator(doc: Document, names: dict[int, str]) -> str:
    return _user_name(doc.meta.get("completed_by"), names)


def _user_name(user: Any, names: dict[int, str]) -> str:
    if isinstance(user, dict):  # some exports inline the user
        return str(user.get("email") or user.get("id"))
    return names.get(user, f"user {user}") if user is not None else "unknown annotator"


def _read_tasks(
    tasks: list[dict], source: str, names: dict[int, str], report: MergeReport
) -> dict[str, list[Document]]:
    """Doc id -> every readable annotation; broken annotations are reported without blocking the others."""
    parsed: dict[str, list[Document]] = {}
    for index, task in enumerate(tasks):
        read = read_task_annotations(task, index, source)
        report.notes += read.warnings
        if read.predictions:
            report.predictions[read.doc_id] = read.predictions
        if read.prediction_error:
            report.notes.append(
                f"predictions of {read.doc_id} (task {read.task_id}) could not be read: {read.prediction_error}"
            )
        for annotation_id, user, message in read.broken:
            report.invalid.append(
                InvalidAnnotation(read.doc_id, read.task_id, annotation_id, _user_name(user, names), [message])
            )
        parsed.setdefault(read.doc_id, []).extend(read.documents)
    return parsed


def _problems(doc: Document, corpus_doc: Document | None) -> tuple[list[Finding], Document]:
    """(findings, doc with corpus meta) for one pulled annotation: the gold checks of
    :mod:`tradeie.annotations.validate` against the corpus (what ``dataset build`` will need)."""
    findings = validate_documents([doc], [] if corpus_doc is None else [corpus_doc], rules=GOLD)
    if corpus_doc is not None and not errors(findings):
        doc = replace(doc, meta={**corpus_doc.meta, **doc.meta})
    return findings, doc


def _content(doc: Document) -> tuple[frozenset, frozenset]:
    return frozenset(e.key for e in doc.entities), frozenset(doc.relation_keys())


def _latest_per_annotator(docs: list[Document], names: dict, report: MergeReport) -> list[Document]:
    by_user: dict[Any, list[Document]] = {}
    for doc in docs:
        by_user.setdefault(_annotator(doc, names), []).append(doc)
    latest = []
    for user, versions in by_user.items():
        versions.sort(key=lambda d: (str(d.meta.get("updated_at") or ""), d.meta.get("annotation_id") or 0))
        if len(versions) > 1:
            report.notes.append(
                f"{versions[-1].id}: {user} has {len(versions)} annotations; using the latest "
                f"({versions[-1].meta.get('annotation_id')})"
            )
        latest.append(versions[-1])
    return latest


def _pair_figures(a: Document, b: Document, a_name: str, b_name: str) -> dict:
    figures = agreement([a], [b])
    kappa = figures.get("token_kappa")
    return {
        "a": a_name,
        "b": b_name,
        "span_f1": figures["spans"]["all"]["strict"]["f1"],
        "span_overlap_f1": figures["spans"]["all"]["overlap"]["f1"],
        "relation_f1": figures["relations"]["all"]["f1"],
        "token_kappa": None if kappa != kappa else kappa,
    }  # NaN when one side has a single tag


def _conflict(doc_id: str, docs: list[Document], names: dict) -> Conflict:
    labelled = [(_annotator(d, names), d) for d in docs]
    pairs = [_pair_figures(a, b, an, bn) for (an, a), (bn, b) in itertools.combinations(labelled, 2)]
    lines = []
    reference_name, reference = labelled[0]
    for other_name, other in labelled[1:]:
        lines += [
            line.replace("only A", f"only {reference_name}").replace("only B", f"only {other_name}")
            for line in disagreements([reference], [other])
        ]
    return Conflict(doc_id, [n for n, _ in labelled], pairs, lines)


def _decide(doc_id: str, docs: list[Document], names: dict, report: MergeReport) -> Document | Conflict:
    truths = [d for d in docs if d.meta.get("ground_truth")]
    pool = truths or docs
    if len({_content(d) for d in pool}) > 1:
        return _conflict(doc_id, pool, names)
    chosen = max(pool, key=lambda d: str(d.meta.get("updated_at") or ""))
    others = [d for d in docs if d not in pool and _content(d) != _content(chosen)]
    if others:
        report.notes.append(
            f"{doc_id}: ground-truth annotation {chosen.meta.get('annotation_id')} by "
            f"{_annotator(chosen, names)} used over disagreeing annotations by "
            + ", ".join(_annotator(d, names) for d in others)
        )
    return chosen


# --------------------------------------------------------------------------- writing the gold folder


def _gold_index(gold_dir: Path) -> dict[str, tuple[Document, Path]]:
    index: dict[str, tuple[Document, Path]] = {}
    for path in sorted(gold_dir.glob("*.json")) if gold_dir.is_dir() else []:
        for doc in read_export(path).documents:
            if doc.id in index:
                raise TradeieError(
                    f"{path}: document {doc.id!r} is also in {index[doc.id][1]}",
                    hint="keep each document in one gold file",
                )
            index[doc.id] = (doc, path)
    return index


def _change(old: Document | None, new: Document, annotator: str, path: Path) -> Change:
    old_e, old_r = _content(old) if old is not None else (frozenset(), frozenset())
    new_e, new_r = _content(new)
    return Change(
        new.id, annotator, len(new_e - old_e), len(old_e - new_e), len(new_r - old_r), len(old_r - new_r), path
    )


def _gold_document(doc: Document) -> Document:
    """The pulled annotation as it is stored in the gold folder (a ground-truth annotation)."""
    return Document(
        id=doc.id, text=doc.text, entities=doc.entities, relations=doc.relations, meta={"ground_truth": True}
    )


def _backup_dir(root: Path) -> Path:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    path, n = root / stamp, 1
    while path.exists():
        n += 1
        path = root / f"{stamp}-{n}"
    return path


#: Seconds a second merge into the same gold folder waits for the first one before giving up.
LOCK_TIMEOUT = 300.0


def lock_path(gold_dir: str | Path) -> Path:
    """The lock file of a gold folder (in the temp dir, so that the gold folder itself stays clean)."""
    digest = hashlib.sha256(str(Path(gold_dir).resolve()).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"tradeie-gold-{digest}.lock"


@contextmanager
def gold_lock(gold_dir: str | Path, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """Hold an exclusive lock on ``gold_dir``: a second merge waits, or fails clearly after ``timeout`` s."""
    from filelock import FileLock, Timeout

    lock = FileLock(str(lock_path(gold_dir)))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        log.warning("%s: another `tradeie ls pull` is merging into it; waiting up to %.0f s", gold_dir, timeout)
        try:
            lock.acquire(timeout=timeout)
        except Timeout:
            raise TradeieError(
                f"{gold_dir}: another `tradeie ls pull` still holds its lock ({lock.lock_file}) "
                f"after {timeout:.0f} s; nothing was changed",
                hint="wait for the other pull to finish, then pull again",
            ) from None
    try:
        yield
    finally:
        lock.release()


def merge_pulled(
    tasks: list[dict],
    corpus: list[Document],
    gold_dir: str | Path = "annotations/gold",
    *,
    backups_dir: str | Path | None = None,
    conflicts_dir: str | Path | None = None,
    annotator_names: dict[int, str] | None = None,
    source: str = "Label Studio export",
    dry_run: bool = False,
    lock_timeout: float = LOCK_TIMEOUT,
) -> MergeReport:
    """Merge a pulled Label Studio export (list of tasks) into ``gold_dir``; see the module doc.

    The whole merge (reading the gold, backups, writes) holds :func:`gold_lock`, so two
    pulls into one gold folder run one after the other and never interleave.
    """
    with gold_lock(gold_dir, lock_timeout):
        return _merge(
            tasks,
            corpus,
            Path(gold_dir),
            backups_dir=backups_dir,
            conflicts_dir=conflicts_dir,
            annotator_names=annotator_names,
            source=source,
            dry_run=dry_run,
        )


def _merge(
    tasks: list[dict],
    corpus: list[Document],
    gold_dir: Path,
    *,
    backups_dir: str | Path | None,
    conflicts_dir: str | Path | None,
    annotator_names: dict[int, str] | None,
    source: str,
    dry_run: bool,
) -> MergeReport:
    backups_dir = Path(backups_dir) if backups_dir else gold_dir.parent / "backups"
    conflicts_dir = Path(conflicts_dir) if conflicts_dir else gold_dir.parent / "conflicts"
    names = annotator_names or {}
    corpus_by_id = {d.id: d for d in corpus}
    report = MergeReport(dry_run=dry_run)
    existing = _gold_index(gold_dir)

    parsed = _read_tasks(tasks, source, names, report)
    unreadable = {(i.doc_id, i.annotator) for i in report.invalid}

    pulled: dict[str, list[Document]] = {}
    for doc_id, docs in parsed.items():
        pulled[doc_id] = []
        for doc in _latest_per_annotator(docs, names, report):
            if (doc_id, _annotator(doc, names)) in unreadable:
                continue  # that annotator's newer annotation is broken: never fall back to an older one
            findings, doc = _problems(doc, corpus_by_id.get(doc_id))
            report.warnings += [f.message for f in warnings(findings)]
            if errors(findings):
                report.invalid.append(
                    InvalidAnnotation(
                        doc_id,
                        doc.meta.get("labelstudio_task_id"),
                        doc.meta.get("annotation_id"),
                        _annotator(doc, names),
                        [f.message for f in errors(findings)],
                    )
                )
            else:
                pulled[doc_id].append(doc)

    invalid_docs = {i.doc_id for i in report.invalid}
    chosen: dict[str, Document] = {}
    for doc_id, docs in pulled.items():
        if not docs:
            if doc_id not in invalid_docs:
                report.not_annotated.append(doc_id)
            continue
        decision = _decide(doc_id, docs, names, report)
        if isinstance(decision, Conflict):
            report.conflicts.append(decision)
        else:
            chosen[doc_id] = decision

    # plan the gold changes, grouped by file
    rewrites: dict[Path, dict[str, Document]] = {}
    for doc_id, doc in chosen.items():
        annotator = _annotator(doc, names)
        if doc_id not in existing:
            path, n = gold_dir / f"{doc_id}.json", 1
            while path.exists() or any(c.file == path for c in report.added):  # never overwrite another file
                n += 1
                path = gold_dir / f"{doc_id}-{n}.json"
            report.added.append(_change(None, doc, annotator, path))
        else:
            old, path = existing[doc_id]
            if _content(old) == _content(doc):
                report.unchanged.append(doc_id)
                continue
            report.replaced.append(_change(old, doc, annotator, path))
            rewrites.setdefault(path, {})[doc_id] = doc

    if dry_run:
        return report
    if rewrites:  # back up every file about to change before touching any of them
        report.backup_dir = _backup_dir(backups_dir)
        for path in sorted(rewrites):
            write_bytes_atomic(report.backup_dir / path.name, path.read_bytes())
        write_json_atomic(
            report.backup_dir / "MANIFEST.json",
            {
                "source": source,
                "gold_dir": str(gold_dir),
                "files": {path.name: sorted(docs) for path, docs in sorted(rewrites.items())},
            },
        )
    for path, docs in sorted(rewrites.items()):
        raw = load_tasks(path)
        new_tasks = [
            to_task(_gold_document(docs[task_doc_id(t, i)])) if task_doc_id(t, i) in docs else t
            for i, t in enumerate(raw)
        ]
        write_json_atomic(path, new_tasks)
    for change in report.added:
        write_json_atomic(change.file, [to_task(_gold_document(chosen[change.doc_id]))])
    for conflict in report.conflicts:
        conflict.path = conflicts_dir / f"{conflict.doc_id}.json"
        versions = [
            {
                "annotator": _annotator(d, names),
                "annotation_id": d.meta.get("annotation_id"),
                "updated_at": d.meta.get("updated_at"),
                "ground_truth": d.meta.get("ground_truth"),
                "entities": [e.to_dict() for e in d.entities],
                "relations": [r.to_dict() for r in d.relations],
            }
            for d in pulled[conflict.doc_id]
        ]
        write_json_atomic(
            conflict.path,
            {
                "document": conflict.doc_id,
                "source": source,
                "annotators": conflict.annotators,
                "agreement": conflict.agreement,
                "disagreements": conflict.disagreements,
                "versions": versions,
                "resolve": "mark one annotation as ground truth in Label Studio (or agree), then pull again",
            },
        )
    for doc_id in chosen:  # a conflict resolved since the last pull
        (conflicts_dir / f"{doc_id}.json").unlink(missing_ok=True)
    return report
