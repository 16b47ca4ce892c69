"""The report folder: metrics.json, errors.csv, report.md, report.html, plots; model-index."""

from __future__ import annotations

import csv
import json

import pytest

from tradeie.evaluation.evaluate import pair_documents
from tradeie.evaluation.report import (
    PLOT_FILES,
    fill_model_card,
    headline_markdown,
    model_index_from_metrics,
    top_errors,
    write_report,
)

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory, golden_gold, golden_pred, golden_metrics):
    from tradeie.evaluation.experiments import BaselineSystem
    from tradeie.evaluation.evaluate import evaluate_documents

    baseline = BaselineSystem("gazetteer").fit(golden_gold[:2], tmp_path_factory.mktemp("gz"))
    base_pred = baseline.predict([d.with_annotations((), ()) for d in golden_gold])
    base = evaluate_documents(golden_gold, base_pred, n_resamples=50)
    base["system"] = {"name": "gazetteer", "relations": False}
    cv = {
        "folds": 2,
        "systems": {"model": {"summary": {"ner_f1": {"mean": 0.5, "sd": 0.1, "n": 2, "values": [0.4, 0.6]}}}},
        "learning_curve": {
            "model": [
                {"n_train": 1, "ner_f1": {"mean": 0.3, "sd": 0.05, "n": 2, "values": [0.25, 0.35]}},
                {"n_train": 2, "ner_f1": {"mean": 0.5, "sd": None, "n": 1, "values": [0.5]}},
            ]
        },
    }
    out = tmp_path_factory.mktemp("eval") / "run1"
    write_report(
        out,
        golden_metrics,
        golden_gold,
        pair_documents(golden_gold, golden_pred),
        baselines={"gazetteer": base},
        cv=cv,
        title="golden run",
    )
    return out


def test_all_files_written(report_dir):
    names = {p.name for p in report_dir.iterdir() if not p.name.startswith(".")}
    assert names == {"metrics.json", "errors.csv", "report.md", "report.html", *PLOT_FILES.values()}
    for plot in PLOT_FILES.values():
        assert (report_dir / plot).read_bytes().startswith(PNG)
    assert not [p for p in report_dir.parent.iterdir() if p.name.startswith(".run1")]  # no temp folders left


def test_metrics_json_is_strict_json_with_everything(report_dir, golden_metrics):
    text = (report_dir / "metrics.json").read_text(encoding="utf-8")
    data = json.loads(text, parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))
    assert data["headline"] == json.loads(json.dumps(golden_metrics["headline"]))
    assert set(data["ner"]) >= {"seqeval", "nervaluate", "char_span", "char_overlap", "token_confusion"}
    assert set(data["re"]["end_to_end"]) == {"strict", "relaxed", "facts"}
    assert len(data["errors"]["rows"]) == len(golden_metrics["errors"]["rows"])
    assert "rows" not in data["baselines"]["gazetteer"]["errors"]
    assert data["cv"]["folds"] == 2


def test_errors_csv_lists_every_error(report_dir, golden_metrics):
    with (report_dir / "errors.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(golden_metrics["errors"]["rows"])
    kinds = {r["kind"] for r in rows}
    assert {"boundary", "type", "boundary_type", "spurious", "missed", "argument_boundary", "wrong_label"} <= kinds
    washington = next(r for r in rows if r["kind"] == "type")
    assert washington["gold"] == "Washington [ACTOR]" and washington["predicted"] == "Washington [AGREEMENT]"
    assert "Washington" in washington["context"]


def test_markdown_report(report_dir, golden_metrics):
    md = (report_dir / "report.md").read_text(encoding="utf-8")
    assert md.startswith("# Evaluation report: golden run")
    f1 = golden_metrics["headline"]["ner_f1"]
    cell = f"{f1['value']:.3f} [{f1['ci_low']:.3f}, {f1['ci_high']:.3f}]"
    assert f"| NER entity F1 (seqeval, strict IOB2, micro) | {cell} |" in md
    assert "| Metric | model | gazetteer |" in md
    # the NER-only baseline gets no relation figures
    assert "| RE F1 end to end (exact arguments + label) |" in md and "| – |" in md
    for section in (
        "## NER per label",
        "### nervaluate schemes",
        "## Relations",
        "## Top errors",
        "## Cross-validation",
        "### Token confusion",
    ):
        assert section in md
    _check_tables(md)
    assert "| 1 | ner | type | Washington [ACTOR] | Washington [AGREEMENT] |" in md
    assert "![learning_curve](learning_curve.png)" in md


def _check_tables(md: str) -> None:
    """Every Markdown table keeps one column count (pipes and newlines in texts are escaped)."""
    import re

    table: list[str] = []
    for line in md.splitlines() + [""]:
        if line.startswith("|"):
            table.append(line)
            continue
        widths = {len(re.split(r"(?<!\\)\|", row)) for row in table}
        assert len(widths) <= 1, table
        table = []


def test_markdown_escapes_pipes_in_texts(tmp_path, build):
    from tradeie.evaluation.evaluate import evaluate_documents
    from tradeie.evaluation.report import render_markdown

    text = "India | US\nsigned a deal."
    gold = [build.doc("p", text, [build.span(text, "India", "ACTOR")])]
    pred = [build.doc("p", text, [build.span(text, "US", "ACTOR")])]
    md = render_markdown(evaluate_documents(gold, pred, n_resamples=10), title="pipes")
    _check_tables(md)
    assert "| p: India \\| US |" in md


def test_headline_markdown_for_readme(golden_metrics):
    table = headline_markdown({"model": golden_metrics})
    lines = table.strip().splitlines()
    assert lines[0] == "| Metric | model |" and lines[1] == "|---|---|"
    assert len(lines) == 2 + len(golden_metrics["headline"])


def test_top_errors_group_repeated_mistakes(golden_metrics):
    top = top_errors(golden_metrics["errors"]["rows"])
    assert top[0]["count"] >= top[-1]["count"]
    assert sum(t["count"] for t in top_errors(golden_metrics["errors"]["rows"], n=1000)) == len(
        golden_metrics["errors"]["rows"]
    )


def test_failed_report_leaves_nothing(tmp_path, golden_gold, golden_pred, golden_metrics, monkeypatch):
    import tradeie.evaluation.report as report

    def boom(*args, **kwargs):
        raise RuntimeError("plot failed")

    monkeypatch.setattr(report, "plot_confusion", boom)
    out = tmp_path / "eval" / "broken"
    with pytest.raises(RuntimeError):
        write_report(out, golden_metrics, golden_gold, golden_pred)
    assert not out.exists()
    assert list((tmp_path / "eval").iterdir()) == []


def test_model_index_from_metrics(golden_metrics):
    index = model_index_from_metrics(golden_metrics, model_name="tradeie-ner", dataset_name="tradeie", split="test")
    assert index[0]["name"] == "tradeie-ner"
    results = index[0]["results"]
    tasks = {r["task"]["type"]: r for r in results}
    assert set(tasks) == {"token-classification", "text-classification"}
    ner_metrics = {(m["type"], m.get("config")): m["value"] for m in tasks["token-classification"]["metrics"]}
    assert ner_metrics[("f1", "strict")] == round(golden_metrics["headline"]["ner_f1"]["value"], 4)
    assert tasks["token-classification"]["dataset"]["split"] == "test"
    no_re = model_index_from_metrics({**golden_metrics, "system": {"relations": False}})
    assert {r["task"]["type"] for r in no_re[0]["results"]} == {"token-classification"}
    re_only = model_index_from_metrics(golden_metrics, tasks=("re",))
    assert {r["task"]["type"] for r in re_only[0]["results"]} == {"text-classification"}


def test_fill_model_card(tmp_path, golden_metrics):
    from huggingface_hub import ModelCard

    readme = tmp_path / "README.md"
    readme.write_text(
        "---\nlicense: apache-2.0\nmodel-index:\n- name: old\n  results: []\n---\n\n# My model\n\nText.\n",
        encoding="utf-8",
    )
    fill_model_card(readme, golden_metrics, model_name="tradeie-ner", split="test")
    card = ModelCard.load(readme)
    assert card.data.license == "apache-2.0"
    assert "# My model" in card.text
    values = {(r.metric_type, r.metric_config): r.metric_value for r in card.data.eval_results}
    assert values[("f1", "strict")] == round(golden_metrics["headline"]["ner_f1"]["value"], 4)
