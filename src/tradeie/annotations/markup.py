"""Inline annotation markup: a plain-text way to write and review gold by hand.

A marked file is the document text with every entity written in place as
``[[surface|LABEL|mention_id|referent]]`` and, after a line that is exactly
``=== RELATIONS ===``, one relation per line as ``HEAD_ID label TAIL_ID``.
Stripping the markup gives the document text exactly; offsets are computed,
never typed. Used for annotation passes made outside Label Studio and for
reading gold side by side; Label Studio JSON stays the format of record.
"""

from __future__ import annotations

import re
from pathlib import Path

from tradeie.document import Document, Entity, Relation
from tradeie.errors import TradeieError

RELATIONS_HEADER = "=== RELATIONS ==="
MENTION = re.compile(r"\[\[([^\[\]|]+)\|([A-Z]+)\|([A-Za-z0-9_.-]+)(?:\|([A-Za-z0-9_.:-]*))?\]\]")


def parse_markup(marked: str, doc_id: str, where: str = "") -> Document:
    """The document (text, entities with referents, relations) written in ``marked``."""
    where = where or doc_id
    body, _, rel_block = marked.partition("\n" + RELATIONS_HEADER)
    body = body.rstrip("\n") if rel_block or marked.endswith("\n") else body
    pieces: list[str] = []
    entities: list[Entity] = []
    pos = 0
    length = 0
    for match in MENTION.finditer(body):
        plain = body[pos : match.start()]
        _check_plain(plain, where, length)
        pieces.append(plain)
        length += len(plain)
        surface, label, mention_id, referent = match.groups()
        entities.append(
            Entity(
                start=length,
                end=length + len(surface),
                label=label,
                id=mention_id,
                text=surface,
                referent=referent or "",
            )
        )
        pieces.append(surface)
        length += len(surface)
        pos = match.end()
    tail = body[pos:]
    _check_plain(tail, where, length)
    pieces.append(tail)
    text = "".join(pieces)
    ids = [e.id for e in entities]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise TradeieError(f"{where}: mention ids used twice: {', '.join(dupes)}", hint="give every mention its own id")
    relations = []
    for lineno, line in enumerate(rel_block.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        if len(parts) != 3:
            raise TradeieError(
                f"{where}: relation line {lineno} {line!r} is not 'HEAD label TAIL'",
                hint="write one relation per line as e1 party_to e2",
            )
        head, label, tail_id = parts
        for ref in (head, tail_id):
            if ref not in ids:
                raise TradeieError(
                    f"{where}: relation line {lineno} names unknown mention {ref!r}",
                    hint="use a mention id from the text",
                )
        relations.append(Relation(head=head, tail=tail_id, label=label))
    return Document(id=doc_id, text=text, entities=tuple(entities), relations=tuple(relations))


def _check_plain(plain: str, where: str, offset: int) -> None:
    for token in ("[[", "]]"):
        k = plain.find(token)
        if k >= 0:
            raise TradeieError(
                f"{where}: malformed mention near text offset {offset + k}: {plain[k : k + 40]!r}",
                hint="write mentions as [[surface|LABEL|id|referent]]",
            )


def render_markup(doc: Document) -> str:
    """``doc`` written as inline markup (the inverse of :func:`parse_markup`)."""
    out, pos = [], 0
    for ent in sorted(doc.entities, key=lambda e: (e.start, e.end)):
        out.append(doc.text[pos : ent.start])
        ref = f"|{ent.referent}" if ent.referent else ""
        out.append(f"[[{doc.text[ent.start : ent.end]}|{ent.label}|{ent.id}{ref}]]")
        pos = ent.end
    out.append(doc.text[pos:])
    lines = ["".join(out), RELATIONS_HEADER]
    lines += [f"{r.head} {r.label} {r.tail}" for r in doc.relations]
    return "\n".join(lines) + "\n"


def read_markup(path: str | Path) -> Document:
    """Read one ``ID.ann`` file; the document id is the file stem."""
    path = Path(path)
    try:
        marked = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TradeieError(f"{path}: cannot read ({exc})", hint="save the file as UTF-8") from None
    return parse_markup(marked, path.stem, where=str(path))


def check_markup_files(files: list[str], texts_dir: str | Path, out_dir: str | Path | None = None) -> int:
    """Check marked files against their raw texts (normalised as the corpus does) and the schema.

    Prints label counts and every problem; with ``out_dir``, writes one Label
    Studio task per clean document. Returns 0 when every file is clean, else 1.
    """
    from tradeie.annotations.gold import validate
    from tradeie.annotations.validate import first_difference
    from tradeie.corpus import read_seed
    from tradeie.io.atomic import write_json_atomic
    from tradeie.labelstudio.format import to_task

    problems = 0
    for name in files:
        doc = read_markup(name)
        txt = Path(texts_dir) / f"{doc.id}.txt"
        if not txt.is_file():
            print(f"error: {name}: no raw text {txt}")
            problems += 1
            continue
        corpus_doc = read_seed(txt)
        if doc.text != corpus_doc.text:
            k = first_difference(doc.text, corpus_doc.text)
            print(
                f"error: {name}: text differs from {txt} (normalised) at offset {k}: "
                f"markup {doc.text[k : k + 30]!r} vs text {corpus_doc.text[k : k + 30]!r}"
            )
            problems += 1
            continue
        report = validate([doc], sources={doc.id: str(name)})
        missing_ref = [e.id for e in doc.entities if not e.referent]
        for finding in report.findings:
            if finding.level == "error":
                print(finding.line())
        if missing_ref:
            print(f"error: {name}: mentions without a referent: {', '.join(missing_ref)}")
        problems += len(report.errors) + bool(missing_ref)
        counts = report.counts.get(doc.id, {})
        words = len(doc.text.split())
        print(f"{doc.id}: {words} words, " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
        if out_dir and not report.errors and not missing_ref:
            write_json_atomic(Path(out_dir) / f"{doc.id}.json", [to_task(doc)])
    return 1 if problems else 0
