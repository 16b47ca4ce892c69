"""Helpers for the robustness suite: run the CLI and check the one-line error contract."""

from __future__ import annotations

import json
from pathlib import Path

from tradeie.cli import main


def cli_error(capsys, argv: list[str], code: int = 2) -> str:
    """Run ``tradeie ARGV``; assert exit ``code`` and exactly one stderr line without a traceback; return it."""
    capsys.readouterr()
    assert main([str(a) for a in argv]) == code
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    errors = [line for line in err if line.startswith("tradeie: ")]
    assert len(errors) == 1, err
    assert "Traceback" not in "\n".join(err), err
    return errors[0]


def ls_task(text: str, result: list[dict], *, doc_id: str = "doc", task_id: int = 1, **annotation) -> dict:
    """A Label Studio task holding one annotation with ``result``."""
    return {
        "id": task_id,
        "data": {"text": text, "doc_id": doc_id},
        "annotations": [{"id": 10 + task_id, "result": result, "was_cancelled": False, **annotation}],
    }


def region(rid: str, text: str, start: int, end: int, label: str, **value) -> dict:
    return {
        "id": rid,
        "from_name": "label",
        "to_name": "text",
        "type": "labels",
        "value": {
            "start": start,
            "end": end,
            "text": value.pop("surface", text[start:end]),
            "labels": [label],
            **value,
        },
    }


def relation(head: str, tail: str, label: str, direction: str = "right") -> dict:
    return {"from_id": head, "to_id": tail, "type": "relation", "direction": direction, "labels": [label]}


def write_json(path: Path, payload) -> Path:
    path.write_text(json.dumps(payload), encoding="utf-8")
    return path


def marked_doc(doc_id: str, marked: str, relations=(), **meta):
    """A Document from ``"[India|ACTOR|e1] signed the [deal|AGREEMENT|e2]."`` markup, with sentences."""
    import re

    from tradeie.corpus import paragraph_spans, segment
    from tradeie.document import Document, Relation, make_entity

    text, spans, pos = "", [], 0
    for m in re.finditer(r"\[([^|\]]+)\|([A-Z]+)(?:\|(\w+))?\]", marked):
        text += marked[pos : m.start()]
        spans.append((len(text), len(text) + len(m.group(1)), m.group(2), m.group(3) or f"e{len(spans) + 1}"))
        text += m.group(1)
        pos = m.end()
    text += marked[pos:]
    ents = tuple(make_entity(text, s, e, label, eid) for s, e, label, eid in spans)
    meta = {
        "sentences": [list(s) for s in segment(text)],
        "paragraphs": [list(p) for p in paragraph_spans(text)],
        "near_duplicate_group": doc_id,
        **meta,
    }
    return Document(id=doc_id, text=text, entities=ents, relations=tuple(Relation(*r) for r in relations), meta=meta)
