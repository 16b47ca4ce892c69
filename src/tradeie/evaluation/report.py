"""Rendering a metrics dict: metrics.json, report.md, report.html, PNG plots, model-index.

Scores are computed once (:mod:`tradeie.evaluation.scores`, :mod:`tradeie.evaluation.evaluate`);
this module only presents them. ``write_report`` writes the whole
``eval/<run>/`` folder atomically.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import math
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Any

from tradeie.document import Document, Entity
from tradeie.evaluation.evaluate import match_entities, match_relations
from tradeie.io.atomic import atomic_directory, write_json_atomic, write_text_atomic
from tradeie.schema import ENTITY_TYPES

MAIN_SYSTEM = "model"
PLOT_FILES = {
    "per_label": "per_label_f1.png",
    "confusion": "confusion_matrix.png",
    "learning_curve": "learning_curve.png",
}
HEADLINE_ROWS = (
    "ner_f1",
    "ner_precision",
    "ner_recall",
    "ner_macro_f1",
    "ner_partial_f1",
    "ner_char_span_f1",
    "re_f1",
    "re_relaxed_f1",
    "re_fact_f1",
    "re_gold_entities_f1",
    "re_gold_entities_fact_f1",
)
RE_HEADLINES = {"re_f1", "re_relaxed_f1", "re_fact_f1", "re_gold_entities_f1", "re_gold_entities_fact_f1"}
TOP_ERRORS = 20


# --------------------------------------------------------------------------- small formatters


def fmt(x: float | None, digits: int = 3) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def fmt_ci(value: float | None, ci: list[float] | tuple | None, digits: int = 3) -> str:
    if value is None:
        return "–"
    return f"{value:.{digits}f} [{ci[0]:.{digits}f}, {ci[1]:.{digits}f}]" if ci else f"{value:.{digits}f}"


def system_name(metrics: dict[str, Any]) -> str:
    """The name a metrics dict's system goes by in tables (``metrics["system"]["name"]``, else "model")."""
    return str(metrics.get("system", {}).get("name") or MAIN_SYSTEM)


def all_systems(metrics: dict[str, Any], baselines: dict[str, dict[str, Any]] | None = None) -> dict[str, dict]:
    """The system of ``metrics`` by its name, then the baselines: the columns of the headline table."""
    return {system_name(metrics): metrics, **(baselines or {})}


def predicts_relations(metrics: dict[str, Any]) -> bool:
    """False for systems declared NER-only (``metrics["system"]["relations"]``)."""
    return bool(metrics.get("system", {}).get("relations", True))


def headline_cell(metrics: dict[str, Any], name: str) -> str:
    h = metrics.get("headline", {}).get(name)
    if h is None or (name in RE_HEADLINES and not predicts_relations(metrics)):
        return "–"
    if not h.get("support", 1) and not h.get("predicted", 1):
        return "n/a (nothing to score)"
    ci = None if h["ci_low"] is None else (h["ci_low"], h["ci_high"])
    return fmt_ci(h["value"], ci)


def headline_table(systems: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Rows (metric description + one cell per system) of the headline comparison."""
    names = list(systems)
    rows = []
    for key in HEADLINE_ROWS:
        desc = next((s["headline"][key]["description"] for s in systems.values() if key in s.get("headline", {})), None)
        if desc is None:
            continue
        rows.append({"key": key, "description": desc, "cells": [headline_cell(systems[n], key) for n in names]})
    return {"systems": names, "rows": rows}


def headline_markdown(systems: dict[str, dict[str, Any]]) -> str:
    """The headline table as Markdown (for the README and the CLI)."""
    table = headline_table(systems)
    lines = ["| Metric | " + " | ".join(table["systems"]) + " |", "|---|" + "---|" * len(table["systems"])]
    lines += [f"| {r['description']} | " + " | ".join(r["cells"]) + " |" for r in table["rows"]]
    return "\n".join(lines) + "\n"


def report_line(out: str | Path) -> str:
    """Where a report folder's files are (the last line ``evaluate`` and ``cv`` print)."""
    out = Path(out)
    return f"report: {out / 'report.html'} (summary {out / 'report.md'}, metrics {out / 'metrics.json'})"


# --------------------------------------------------------------------------- model card

#: model-index task type and name of each tradeie task.
MODEL_INDEX_TASKS = {
    "ner": ("token-classification", "Named entity recognition"),
    "re": ("text-classification", "Relation extraction"),
}
#: Headline figures in a model-index, per task: (headline key, metric type, metric config).
HEADLINE_RESULTS = {
    "ner": (
        ("ner_f1", "f1", "strict"),
        ("ner_precision", "precision", "strict"),
        ("ner_recall", "recall", "strict"),
        ("ner_partial_f1", "f1", "partial"),
    ),
    "re": (
        ("re_f1", "f1", "end_to_end"),
        ("re_relaxed_f1", "f1", "end_to_end_relaxed"),
        ("re_gold_entities_f1", "f1", "gold_entities"),
    ),
}
#: Held-out scores in a trainer's ``metrics.json``, per task: (key, split, setting).
HELD_OUT_KEYS = {
    "ner": (("eval", "validation", "entity-level strict"), ("test", "test", "entity-level strict")),
    "re": (
        ("eval", "validation", "gold entities"),
        ("eval_end_to_end", "validation", "predicted entities"),
        ("test", "test", "gold entities"),
        ("test_end_to_end", "test", "predicted entities"),
    ),
}
STATS = ("precision", "recall", "f1")


def eval_result(
    task: str,
    *,
    dataset: str,
    split: str,
    metric_type: str,
    value: float,
    name: str,
    config: str,
    dataset_type: str | None = None,
    dataset_config: str | None = None,
):
    """One ``model-index`` entry (huggingface_hub's ``EvalResult``) of a tradeie task (``ner`` or ``re``)."""
    from huggingface_hub import EvalResult

    task_type, task_name = MODEL_INDEX_TASKS[task]
    return EvalResult(
        task_type=task_type,
        task_name=task_name,
        dataset_type=dataset_type or dataset,
        dataset_name=dataset,
        dataset_config=dataset_config,
        dataset_split=split,
        metric_type=metric_type,
        metric_value=round(float(value), 4),
        metric_name=name,
        metric_config=config,
    )


def held_out_rows(task: str, metrics: dict[str, Any]) -> list[dict[str, Any]]:
    """The held-out scores of a trainer's ``metrics.json``: one row per split and setting (a card's table)."""
    rows = []
    for key, split, setting in HELD_OUT_KEYS.get(task, ()):
        scores = metrics.get(key)
        if isinstance(scores, dict) and set(STATS) <= set(scores):
            rows.append(
                {
                    "task": task,
                    "key": key,
                    "split": split,
                    "setting": setting,
                    **{stat: scores[stat] for stat in STATS},
                    "support": scores.get("support", ""),
                }
            )
    return rows


def held_out_results(rows: list[dict[str, Any]], *, dataset: str, source: str, label: str = "") -> list:
    """Strict precision, recall and F1 of every :func:`held_out_rows` row as ``model-index`` entries.

    Each entry's config is ``SOURCE:KEY`` (e.g. ``seqeval:test``) and its name
    ``LABEL F1 (SETTING)``.
    """
    return [
        eval_result(
            row["task"],
            dataset=dataset,
            split=row["split"],
            metric_type=stat,
            value=row[stat],
            name=f"{label + ' ' if label else ''}{'F1' if stat == 'f1' else stat.capitalize()} ({row['setting']})",
            config=f"{source}:{row['key']}",
        )
        for row in rows
        for stat in STATS
    ]


def model_index_from_metrics(
    metrics: dict[str, Any],
    *,
    model_name: str = "tradeie",
    dataset_name: str = "tradeie",
    dataset_type: str = "tradeie",
    dataset_config: str | None = None,
    split: str = "test",
    tasks: tuple[str, ...] = ("ner", "re"),
) -> list[dict[str, Any]]:
    """A model card ``model-index`` (huggingface_hub's format) from a metrics dict.

    ``tasks`` picks NER results (token-classification: seqeval strict
    F1/precision/recall, nervaluate partial F1) and/or relation extraction
    results (end to end and with gold entities; only for systems that predict
    relations). 95% intervals go into the metric names.
    """
    from huggingface_hub.repocard_data import eval_results_to_model_index

    head = metrics.get("headline", {})
    results = []
    for task, keys in HEADLINE_RESULTS.items():
        if task not in tasks or (task == "re" and not predicts_relations(metrics)):
            continue
        for key, metric_type, config in keys:
            if key not in head:
                continue
            h = head[key]
            name = h["description"]
            if h["ci_low"] is not None:
                name += f" (95% CI {h['ci_low']:.3f}-{h['ci_high']:.3f})"
            results.append(
                eval_result(
                    task,
                    dataset=dataset_name,
                    dataset_type=dataset_type,
                    dataset_config=dataset_config,
                    split=split,
                    metric_type=metric_type,
                    value=h["value"],
                    name=name,
                    config=config,
                )
            )
    return eval_results_to_model_index(model_name, results) if results else []


def fill_model_card(readme: str | Path, metrics: dict[str, Any], **kwargs: Any) -> Path:
    """Replace the ``model-index`` of an existing model card (README.md) with one from ``metrics``."""
    from huggingface_hub import ModelCard
    from huggingface_hub.repocard_data import model_index_to_eval_results

    readme = Path(readme)
    card = ModelCard.load(readme)
    index = model_index_from_metrics(
        metrics, model_name=kwargs.pop("model_name", None) or card.data.model_name or readme.parent.name, **kwargs
    )
    name, results = model_index_to_eval_results(index) if index else (card.data.model_name, None)
    card.data.model_name = name
    card.data.eval_results = results
    return write_text_atomic(readme, str(card))


# --------------------------------------------------------------------------- HTML view model


def _colors() -> dict[str, str]:
    return {t.name: t.color for t in ENTITY_TYPES}


def _segments(text: str, marks: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Text cut into plain and marked segments; marks overlapping an earlier one are returned apart."""
    segs, hidden, pos = [], [], 0
    for m in sorted(marks, key=lambda m: (m["start"], -m["end"])):
        if m["start"] < pos:
            hidden.append(m)
            continue
        if m["start"] > pos:
            segs.append({"text": text[pos : m["start"]], "mark": None})
        segs.append({"text": text[m["start"] : m["end"]], "mark": m})
        pos = m["end"]
    if pos < len(text):
        segs.append({"text": text[pos:], "mark": None})
    return segs, hidden


def _mark(ent: Entity, side: str, status: str, other: Entity | None) -> dict[str, Any]:
    error = {"gold": "fn", "pred": "fp"}[side] if status != "correct" else "tp"
    note = f"{ent.label} [{ent.start}:{ent.end}] {status}"
    if other is not None and status != "correct":
        where = "predicted" if side == "gold" else "gold"
        note += f"; {where}: {other.label} [{other.start}:{other.end}] {other.text!r}"
    return {
        "start": ent.start,
        "end": ent.end,
        "label": ent.label,
        "status": status,
        "error": error,
        "side": side,
        "title": note,
    }


def _rel_text(rel: tuple[Entity, Entity, str] | None) -> str:
    if rel is None:
        return ""
    head, tail, label = rel
    return f"{head.text} [{head.label}] -> {label} -> {tail.text} [{tail.label}]"


def document_view(gold: Document, pred: Document, pred_gold_entities: Document | None = None) -> dict[str, Any]:
    """What the HTML report shows for one document: two marked texts and relation lists."""
    gold_marks, pred_marks = [], []
    matches = match_entities(gold.entities, pred.entities)
    for m in matches:
        if m.gold is not None:
            gold_marks.append(_mark(m.gold, "gold", m.kind, m.pred))
        if m.pred is not None:
            pred_marks.append(_mark(m.pred, "pred", m.kind, m.gold))
    gold_segs, gold_hidden = _segments(gold.text, gold_marks)
    pred_segs, pred_hidden = _segments(pred.text, pred_marks)
    kinds = Counter(m.kind for m in matches)
    relation_sets = [("end to end", match_relations(gold, pred, end_to_end=True))]
    if pred_gold_entities is not None:
        relation_sets.append(("with gold entities", match_relations(gold, pred_gold_entities, end_to_end=False)))
    relations = [
        {
            "setting": setting,
            "rows": [
                {
                    "kind": m.kind,
                    "status": "tp"
                    if m.kind == "correct"
                    else ("fp" if m.gold is None else "fn" if m.pred is None else "fp fn"),
                    "gold": _rel_text(m.gold),
                    "pred": _rel_text(m.pred),
                }
                for m in rows
            ],
        }
        for setting, rows in relation_sets
    ]
    return {
        "id": gold.id,
        "gold_segments": gold_segs,
        "pred_segments": pred_segs,
        "hidden": gold_hidden + pred_hidden,
        "kinds": dict(kinds),
        "relations": relations,
        "n_gold": len(gold.entities),
        "n_pred": len(pred.entities),
    }


# --------------------------------------------------------------------------- plots


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def _save(fig, path: Path) -> Path:
    fig.savefig(path, format="png", metadata={"Software": None})
    return path


def plot_per_label(systems: dict[str, dict[str, Any]], path: Path) -> Path:
    """Per-label F1 with 95% CI bars: NER (seqeval strict) and RE (end to end, strict), per system."""
    import numpy as np

    panels = [
        ("NER entity F1 (seqeval strict)", ("ner", "seqeval", "strict"), lambda m: True),
        ("RE F1 end to end (strict)", ("re", "end_to_end", "strict"), predicts_relations),
    ]
    fig = _figure(11, 4.2)
    axes = fig.subplots(1, 2)
    for ax, (title, path_keys, keep) in zip(axes, panels):
        names = [n for n, m in systems.items() if keep(m)]
        labels = None
        for j, name in enumerate(names):
            node = systems[name]
            for key in path_keys:
                node = node[key]
            cells = {**node["per_label"], "micro": node["micro"]}
            labels = list(cells)
            x = np.arange(len(labels)) + (j - (len(names) - 1) / 2) * (0.8 / max(len(names), 1))
            values = [cells[label]["f1"] for label in labels]
            lo = [v - cells[label].get("ci", {}).get("f1", [v, v])[0] for v, label in zip(values, labels)]
            hi = [cells[label].get("ci", {}).get("f1", [v, v])[1] - v for v, label in zip(values, labels)]
            ax.bar(
                x,
                values,
                width=0.8 / max(len(names), 1),
                label=name,
                yerr=[np.maximum(lo, 0), np.maximum(hi, 0)],
                capsize=3,
            )
        if labels:
            ax.set_xticks(np.arange(len(labels)), labels, rotation=20)
        ax.set_ylim(0, 1.05)
        ax.set_ylabel("F1")
        ax.set_title(title, fontsize=10)
        if len(names) > 1:
            ax.legend(fontsize=8)
    fig.suptitle("Per-label F1 with 95% bootstrap intervals over documents", fontsize=11)
    return _save(fig, path)


def plot_confusion(metrics: dict[str, Any], path: Path) -> Path:
    """Token-level confusion matrix heatmap (IOB2 tags), row-normalised colours, counts written in."""
    import numpy as np

    conf = metrics["ner"]["token_confusion"]["tags"]
    matrix = np.array(conf["matrix"], dtype=float)
    rows = matrix.sum(axis=1, keepdims=True)
    norm = np.divide(matrix, rows, out=np.zeros_like(matrix), where=rows > 0)
    fig = _figure(6.5, 5.5)
    ax = fig.subplots()
    image = ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    n = len(conf["labels"])
    ax.set_xticks(range(n), conf["labels"], rotation=45, ha="right")
    ax.set_yticks(range(n), conf["labels"])
    for i in range(n):
        for j in range(n):
            if matrix[i, j]:
                ax.text(
                    j,
                    i,
                    int(matrix[i, j]),
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if norm[i, j] > 0.6 else "black",
                )
    ax.set_xlabel("predicted tag")
    ax.set_ylabel("gold tag")
    ax.set_title("Token confusion (colour: share of gold row)", fontsize=10)
    fig.colorbar(image, ax=ax, shrink=0.8)
    return _save(fig, path)


def plot_learning_curve(curve: dict[str, list[dict[str, Any]]], path: Path) -> Path:
    """F1 against number of training documents (mean +- sd over folds), per system and metric."""
    import numpy as np

    fig = _figure(7, 4.2)
    ax = fig.subplots()
    for system, points in curve.items():
        for metric, style in (("ner_f1", "-o"), ("re_f1", "--s")):
            pts = [p for p in points if p.get(metric) and p[metric]["mean"] is not None]
            if not pts:
                continue
            x = np.array([p["n_train"] for p in pts])
            mean = np.array([p[metric]["mean"] for p in pts])
            sd = np.array([p[metric]["sd"] or 0.0 for p in pts])
            line = ax.plot(x, mean, style, label=f"{system} {metric}")[0]
            ax.fill_between(x, np.clip(mean - sd, 0, 1), np.clip(mean + sd, 0, 1), alpha=0.15, color=line.get_color())
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("training documents")
    ax.set_ylabel("F1 (mean ± sd over folds)")
    ax.set_ylim(0, 1.05)
    ax.legend(fontsize=8)
    ax.set_title("Learning curve", fontsize=10)
    return _save(fig, path)


# --------------------------------------------------------------------------- templates


@lru_cache(maxsize=1)
def _env():
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("tradeie", "templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["f"] = fmt
    env.filters["ci"] = lambda cell, stat="f1": fmt_ci(cell[stat], cell.get("ci", {}).get(stat))
    env.filters["md"] = lambda s: str(s).replace("|", "\\|").replace("\n", " ")
    env.filters["short"] = lambda s, n=160: s if len(s) <= n else s[: n - 1] + "…"
    return env


def top_errors(rows: list[dict[str, Any]], n: int = TOP_ERRORS) -> list[dict[str, Any]]:
    """Error rows grouped by (task, kind, labels, surface texts), most frequent first, with an example."""
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        if row["task"] == "ner":
            key = (
                "ner",
                row["kind"],
                *(((row[s] or {}).get("label"), (row[s] or {}).get("text", "").lower()) for s in ("gold", "pred")),
            )
        else:
            key = (
                "re",
                row["setting"],
                row["kind"],
                (row["gold"] or {}).get("label"),
                (row["pred"] or {}).get("label"),
            )
        groups.setdefault(key, []).append(row)
    ranked = sorted(groups.values(), key=lambda g: (-len(g), g[0]["doc_id"], g[0]["context_start"]))
    out = []
    for group in ranked[:n]:
        row = group[0]
        out.append(
            {
                "count": len(group),
                "task": row["task"],
                "setting": row["setting"],
                "kind": row["kind"],
                "gold": _describe(row["gold"]),
                "pred": _describe(row["pred"]),
                "doc_id": row["doc_id"],
                "context": row["context"],
            }
        )
    return out


def _describe(item: dict | None) -> str:
    if item is None:
        return "–"
    if "head" in item:
        return f"{item['head']['text']} -> {item['label']} -> {item['tail']['text']}"
    return f"{item['text']} [{item['label']}]"


def cv_rows(cv: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per (metric, system) of the cross-validation summary."""
    rows = []
    for system, data in cv.get("systems", {}).items():
        for metric, s in data["summary"].items():
            rows.append(
                {
                    "system": system,
                    "metric": metric,
                    "mean": s["mean"],
                    "sd": s["sd"],
                    "per_fold": ", ".join(fmt(v) for v in s["values"]),
                }
            )
    return sorted(rows, key=lambda r: (r["metric"], r["system"]))


def _render(
    template: str,
    metrics: dict[str, Any],
    *,
    title: str,
    baselines: dict[str, dict] | None,
    cv: dict[str, Any] | None,
    **context: Any,
) -> str:
    """A report template with what every report shows: headline table, top errors, cross-validation."""
    return (
        _env()
        .get_template(template)
        .render(
            title=title,
            m=metrics,
            headline=headline_table(all_systems(metrics, baselines)),
            top_errors=top_errors(metrics.get("errors", {}).get("rows", [])),
            cv=cv,
            cv_rows=cv_rows(cv) if cv else [],
            **context,
        )
    )


def render_markdown(
    metrics: dict[str, Any],
    *,
    title: str,
    baselines: dict[str, dict] | None = None,
    cv: dict[str, Any] | None = None,
    plots: dict[str, str] | None = None,
) -> str:
    """``report.md`` (plots linked by file name)."""
    return _render(
        "report.md.j2",
        metrics,
        title=title,
        baselines=baselines,
        cv=cv,
        plots=plots or {},
        predicts_relations=predicts_relations(metrics),
    )


def _data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def render_html(
    metrics: dict[str, Any],
    gold: list[Document],
    pred: list[Document],
    *,
    title: str,
    pred_gold_entities: list[Document] | None = None,
    baselines: dict[str, dict] | None = None,
    cv: dict[str, Any] | None = None,
    plots: dict[str, Path] | None = None,
) -> str:
    """The self-contained HTML report (plots inlined as data URIs)."""
    from tradeie.evaluation.evaluate import pair_documents

    pred = pair_documents(gold, pred)
    pge = pair_documents(gold, pred_gold_entities) if pred_gold_entities is not None else [None] * len(gold)
    return _render(
        "report.html.j2",
        metrics,
        title=title,
        baselines=baselines,
        cv=cv,
        docs=[document_view(g, p, q) for g, p, q in zip(gold, pred, pge)],
        colors=_colors(),
        plots={k: _data_uri(v) for k, v in (plots or {}).items()},
    )


def errors_csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "doc_id",
            "task",
            "setting",
            "kind",
            "fp",
            "fn",
            "gold",
            "predicted",
            "context_start",
            "context_end",
            "context",
        ]
    )
    for r in rows:
        writer.writerow(
            [
                r["doc_id"],
                r["task"],
                r["setting"],
                r["kind"],
                int(r["fp"]),
                int(r["fn"]),
                _describe(r["gold"]) if r["gold"] else "",
                _describe(r["pred"]) if r["pred"] else "",
                r["context_start"],
                r["context_end"],
                r["context"],
            ]
        )
    return out.getvalue()


# --------------------------------------------------------------------------- the folder


def _without_rows(metrics: dict[str, Any]) -> dict[str, Any]:
    out = dict(metrics)
    if "errors" in out:
        out["errors"] = {k: v for k, v in out["errors"].items() if k != "rows"}
    return out


def write_report(
    out_dir: str | Path,
    metrics: dict[str, Any],
    gold: list[Document],
    pred: list[Document],
    *,
    pred_gold_entities: list[Document] | None = None,
    baselines: dict[str, dict] | None = None,
    cv: dict[str, Any] | None = None,
    title: str | None = None,
) -> Path:
    """Write ``metrics.json``, ``errors.csv``, ``report.md``, ``report.html`` and PNG plots, atomically.

    ``baselines`` maps a name to another system's metrics on the same gold
    documents; ``cv`` is the result of :func:`tradeie.evaluation.experiments.run_cv` (its learning
    curve is plotted when present).
    """
    out_dir = Path(out_dir)
    title = title or out_dir.name
    systems = all_systems(metrics, baselines)
    with atomic_directory(out_dir) as tmp:
        plots = {
            "per_label": plot_per_label(systems, tmp / PLOT_FILES["per_label"]),
            "confusion": plot_confusion(metrics, tmp / PLOT_FILES["confusion"]),
        }
        if cv and cv.get("learning_curve"):
            plots["learning_curve"] = plot_learning_curve(cv["learning_curve"], tmp / PLOT_FILES["learning_curve"])
        payload = {**metrics, "baselines": {n: _without_rows(m) for n, m in (baselines or {}).items()}}
        if cv:
            payload["cv"] = cv
        write_json_atomic(tmp / "metrics.json", _json_safe(payload))
        write_text_atomic(tmp / "errors.csv", errors_csv(metrics.get("errors", {}).get("rows", [])))
        write_text_atomic(
            tmp / "report.md",
            render_markdown(
                metrics, title=title, baselines=baselines, cv=cv, plots={k: p.name for k, p in plots.items()}
            ),
        )
        write_text_atomic(
            tmp / "report.html",
            render_html(
                metrics,
                gold,
                pred,
                title=title,
                pred_gold_entities=pred_gold_entities,
                baselines=baselines,
                cv=cv,
                plots=plots,
            ),
        )
    return out_dir


def _json_safe(obj: Any) -> Any:
    """Round-trip through json with NaN/inf turned into null (metrics.json stays strict JSON)."""

    def clean(x: Any) -> Any:
        if isinstance(x, float) and not math.isfinite(x):
            return None
        if isinstance(x, dict):
            return {k: clean(v) for k, v in x.items()}
        if isinstance(x, (list, tuple)):
            return [clean(v) for v in x]
        return x

    return clean(json.loads(json.dumps(obj, default=float)))
