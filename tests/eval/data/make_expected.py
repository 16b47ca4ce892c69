"""Regenerate expected.json: reference scores computed with seqeval and nervaluate directly.

Run from the repository root:  .venv/bin/python tests/eval/data/make_expected.py
Inputs (committed): gold.jsonl + preds.jsonl (documents) and golden_tags.json (tag sequences).
Tags of the documents come from tradeie.text.tokens; a predicted span that cuts a token is widened
here to the whole tokens it touches (the same rule tradeie.evaluation.scores documents, written independently).
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIELDS = ("correct", "incorrect", "partial", "missed", "spurious", "possible", "actual", "precision", "recall", "f1")


def _load(name: str) -> list[dict]:
    return [json.loads(line) for line in (HERE / name).read_text(encoding="utf-8").splitlines() if line.strip()]


def document_tags() -> dict[str, dict[str, list[list[str]]]]:
    """doc id -> {"gold": sentences of tags, "pred": sentences of tags} over the gold sentences."""
    from tradeie.document import Entity
    from tradeie.text.tokens import bio_tags, sentence_tokens

    out = {}
    preds = {row["id"]: row for row in _load("preds.jsonl")}
    for row in _load("gold.jsonl"):
        sentences = [tuple(s) for s in row["meta"]["sentences"]]
        tokens = sentence_tokens(row["text"], sentences)
        gold = [Entity(e["start"], e["end"], e["label"]) for e in row["entities"]]
        flat = [t for sent in tokens for t in sent]
        pred = []
        for e in preds[row["id"]]["entities"]:
            touched = [t for t in flat if t.end > e["start"] and t.start < e["end"]]
            pred.append(Entity(touched[0].start, touched[-1].end, e["label"]))
        out[row["id"]] = {"gold": [bio_tags(t, gold) for t in tokens], "pred": [bio_tags(t, pred) for t in tokens]}
    return out


def tag_documents() -> dict[str, dict[str, list[list[str]]]]:
    data = json.loads((HERE / "golden_tags.json").read_text(encoding="utf-8"))
    return {d["id"]: {"gold": d["gold"], "pred": d["pred"]} for d in data["documents"]}


def reference(docs: dict[str, dict[str, list[list[str]]]]) -> dict:
    """seqeval reports (both modes) and nervaluate results for tag sequences grouped by document."""
    from nervaluate import Evaluator
    from seqeval.metrics import classification_report
    from seqeval.scheme import IOB2

    y_true = [s for d in docs.values() for s in d["gold"]]
    y_pred = [s for d in docs.values() for s in d["pred"]]
    out: dict = {"seqeval": {}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for mode, kwargs in (("default", {}), ("strict", {"mode": "strict", "scheme": IOB2})):
            report = classification_report(y_true, y_pred, output_dict=True, zero_division=0, **kwargs)
            out["seqeval"][mode] = {k: {m: float(v) for m, v in row.items()} for k, row in report.items()}
    results = Evaluator(y_true, y_pred, tags=["ACTOR", "AGREEMENT", "TARIFF"], loader="list").evaluate()
    out["nervaluate"] = {
        "overall": {s: {f: getattr(r, f) for f in FIELDS} for s, r in results["overall"].items()},
        "entities": {
            label: {s: {f: getattr(r, f) for f in FIELDS} for s, r in by_scheme.items()}
            for label, by_scheme in results["entities"].items()
        },
    }
    return out


def document_counts() -> dict:
    """Character-span and relation counts straight from the JSONL rows (exact matching, by label)."""
    golds, preds = _load("gold.jsonl"), {r["id"]: r for r in _load("preds.jsonl")}
    counts = {"char_span": {}, "re_strict": {}}

    def rel_keys(row):
        ents = {e["id"]: (e["start"], e["end"], e["label"]) for e in row["entities"]}
        return {(ents[r["head"]], ents[r["tail"]], r["label"]) for r in row["relations"]}

    for g in golds:
        p = preds[g["id"]]
        gs = {(e["start"], e["end"], e["label"]) for e in g["entities"]}
        ps = {(e["start"], e["end"], e["label"]) for e in p["entities"]}
        for label in {k[2] for k in gs | ps}:
            c = counts["char_span"].setdefault(label, [0, 0, 0])
            c[0] += len({k for k in gs & ps if k[2] == label})
            c[1] += len({k for k in ps if k[2] == label})
            c[2] += len({k for k in gs if k[2] == label})
        gr, pr = rel_keys(g), rel_keys(p)
        for label in {k[2] for k in gr | pr}:
            c = counts["re_strict"].setdefault(label, [0, 0, 0])
            c[0] += len({k for k in gr & pr if k[2] == label})
            c[1] += len({k for k in pr if k[2] == label})
            c[2] += len({k for k in gr if k[2] == label})
    return counts


def expected() -> dict:
    return {"documents": {**reference(document_tags()), **document_counts()}, "tags": reference(tag_documents())}


if __name__ == "__main__":
    (HERE / "expected.json").write_text(json.dumps(expected(), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {HERE / 'expected.json'}", file=sys.stderr)
