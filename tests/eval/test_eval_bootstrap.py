"""Bootstrap confidence intervals over documents: seeded, well-formed, sensible."""

from __future__ import annotations

import numpy as np
import pytest

from tradeie.evaluation.scores import CountTable, attach_ci, bootstrap_weights, compute_metrics


def test_weights_are_resamples_of_documents():
    w = bootstrap_weights(5, n_resamples=300, seed=1)
    assert w.shape == (300, 5)
    assert (w.sum(axis=1) == 5).all()
    assert (w >= 0).all() and np.allclose(w, w.round())
    assert np.array_equal(w, bootstrap_weights(5, n_resamples=300, seed=1))
    assert not np.array_equal(w, bootstrap_weights(5, n_resamples=300, seed=2))


def test_same_seed_same_intervals(golden_gold, golden_pred):
    a = compute_metrics(golden_gold, golden_pred, n_resamples=100, seed=3)
    b = compute_metrics(golden_gold, golden_pred, n_resamples=100, seed=3)
    c = compute_metrics(golden_gold, golden_pred, n_resamples=100, seed=4)
    assert a["headline"] == b["headline"]
    assert a["ner"]["seqeval"]["strict"]["per_label"] == b["ner"]["seqeval"]["strict"]["per_label"]
    assert any(
        a["headline"][k]["ci_low"] != c["headline"][k]["ci_low"]
        or a["headline"][k]["ci_high"] != c["headline"][k]["ci_high"]
        for k in a["headline"]
    )
    # the point estimates do not depend on the seed
    assert all(a["headline"][k]["value"] == c["headline"][k]["value"] for k in a["headline"])


def test_every_headline_figure_has_an_interval(golden_metrics):
    assert golden_metrics["bootstrap"] == {
        "unit": "document",
        "resamples": 200,
        "seed": 7,
        "confidence": 0.95,
        "method": "percentile",
    }
    for name, h in golden_metrics["headline"].items():
        assert h["ci_low"] is not None, name
        assert 0.0 <= h["ci_low"] <= h["ci_high"] <= 1.0, name


def test_interval_ignores_resamples_without_the_label():
    # label A occurs only in document 0 (always right); resamples without document 0 must not count as F1 = 0
    counts = np.zeros((4, 2, 3))
    counts[0, 0] = (2, 2, 2)
    counts[1:, 1] = (1, 2, 2)
    table = CountTable(["A", "B"], counts)
    scores = table.scores()
    attach_ci(scores, table, bootstrap_weights(4, 500, seed=0), 0.95)
    assert scores["per_label"]["A"]["ci"]["f1"] == [1.0, 1.0]
    assert scores["per_label"]["B"]["ci"]["f1"] == [0.5, 0.5]
    lo, hi = scores["micro"]["ci"]["f1"]
    assert lo < scores["micro"]["f1"] < hi


def test_no_resamples_means_no_intervals(golden_gold, golden_pred):
    m = compute_metrics(golden_gold, golden_pred, n_resamples=0)
    assert all(h["ci_low"] is None for h in m["headline"].values())
    assert "ci" not in m["ner"]["seqeval"]["strict"]["micro"]


def test_single_document_interval_is_the_point(build):
    text = "India and the US signed a deal."
    gold = [build.doc("x", text, [build.span(text, "India", "ACTOR"), build.span(text, "US", "ACTOR")])]
    pred = [build.doc("x", text, [build.span(text, "India", "ACTOR")])]
    m = compute_metrics(gold, pred, n_resamples=50)
    h = m["headline"]["ner_f1"]
    assert h["ci_low"] == h["ci_high"] == pytest.approx(h["value"]) == pytest.approx(2 / 3)
